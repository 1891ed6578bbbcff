"""Writes of escalations: raise one with its computed severity and response clock, override
the severity with a recorded reason, change the affected accounts, move it through its
statuses (telling every owning CSM once per move), and the organization's escalation
settings.

The severity rules themselves are pure (``roadmap/severity.py``); this module feeds them the
accounts and the organization's figures, and stores the result with its reasons so the page
can explain it without recomputing. The response clock counts business days of the
organization's calendar from the moment the escalation was raised, for the severity that
applies (the override when there is one).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, LifecycleStage, Membership, Organization, ProductArea, Role
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_record, diff, snapshot
from alignment.services.notifications import notification_create
from feedback.services import calendar_for
from roadmap.models import Escalation, EscalationAccount, EscalationStatus, Severity
from roadmap.severity import AffectedAccount, SeverityResult, compute_severity

ESCALATION_SETTING_FIELDS = (
    "escalation_p1_arr_threshold",
    "escalation_p1_response_days",
    "escalation_p2_response_days",
    "escalation_p3_response_days",
)
MAX_ACCOUNTS = 200  # one escalation, not a broadcast: beyond this it is an incident

# The order an escalation moves through; it only moves forward.
STATUS_ORDER = [
    EscalationStatus.OPEN,
    EscalationStatus.ACKNOWLEDGED,
    EscalationStatus.IN_DEVELOPMENT,
    EscalationStatus.RESOLVED,
]
# Moving here tells every owning CSM and the person who raised it.
CSM_NOTIFIED_STATUSES = {EscalationStatus.IN_DEVELOPMENT, EscalationStatus.RESOLVED}


# --- helpers --------------------------------------------------------------------------------


def response_days(org: Organization, severity: str) -> int:
    return {
        Severity.P1: org.escalation_p1_response_days,
        Severity.P2: org.escalation_p2_response_days,
        Severity.P3: org.escalation_p3_response_days,
    }[Severity(severity)]


def due_for(org: Organization, raised_at: datetime.datetime, severity: str) -> datetime.datetime:
    """``n`` business days after it was raised, ``n`` set per severity by the organization."""
    return calendar_for(org).due_at(raised_at, response_days(org, severity))


def countable_account_total(org: Organization) -> int:
    """The denominator of the "more than 10%" rule: the organization's accounts that have not
    churned (a churned account is no longer part of the customer base)."""
    return Account.objects.for_org(org).exclude(lifecycle_stage=LifecycleStage.CHURNED).count()


def severity_for(
    *,
    org: Organization,
    accounts: Iterable[Account],
    customer_cited: bool,
    now: datetime.datetime | None = None,
    org_account_count: int | None = None,
) -> SeverityResult:
    """Run the severity rules for these accounts, today in the organization's timezone."""
    now = now or timezone.now()
    total = countable_account_total(org) if org_account_count is None else org_account_count
    return compute_severity(
        accounts=[
            AffectedAccount(a.pk, a.name, a.arr, a.renewal_date, a.lifecycle_stage)
            for a in accounts
        ],
        customer_cited=customer_cited,
        org_account_count=total,
        arr_threshold=org.escalation_p1_arr_threshold,
        today=timezone.localdate(now, org.tzinfo),
        currency=org.currency,
    )


def _require(actor: Membership, org: Organization, perm: Perm, message: str) -> None:
    if actor.organization_id != org.pk or not actor.is_active:
        raise ApplicationError("You are not a member of this organization.", code="forbidden")
    if not role_has_perm(actor.role, perm):
        raise ApplicationError(message, code="forbidden")


def _same_org(org: Organization, escalation: Escalation) -> None:
    if escalation.organization_id != org.pk:
        raise ApplicationError("No such escalation.", code="not_found")


def _locked(org: Organization, escalation: Escalation) -> Escalation:
    _same_org(org, escalation)
    return (
        Escalation.objects.for_org(org)
        .select_for_update()
        .select_related("organization")
        .get(pk=escalation.pk)
    )


def _url(org: Organization, escalation: Escalation) -> str:
    return reverse("roadmap:escalation-detail", kwargs={"org_slug": org.slug, "pk": escalation.pk})


def _clean_accounts(org: Organization, accounts: Iterable[Account]) -> list[Account]:
    distinct: dict[int, Account] = {}
    for account in accounts:
        if account.organization_id != org.pk:
            raise ApplicationError(
                "That account does not exist in this organization.",
                field_errors={"accounts": ["Not found."]},
            )
        distinct.setdefault(account.pk, account)
    if not distinct:
        raise ApplicationError(
            "Pick at least one affected account.",
            field_errors={"accounts": ["Pick at least one affected account."]},
        )
    if len(distinct) > MAX_ACCOUNTS:
        message = f"An escalation can name at most {MAX_ACCOUNTS} accounts."
        raise ApplicationError(message, field_errors={"accounts": [message]})
    return list(distinct.values())


def _pm_of(area: ProductArea | None) -> Membership | None:
    if area is None or area.pm is None or not area.pm.is_active:
        return None
    return area.pm


def _product_leads(org: Organization, escalation: Escalation) -> list[Membership]:
    """Who owns the response: the product area's PM, or the Heads of Product when none."""
    if escalation.pm is not None and escalation.pm.is_active:
        return [escalation.pm]
    return list(
        Membership.objects.for_org(org)
        .filter(role=Role.HEAD_OF_PRODUCT, is_active=True)
        .select_related("user")
    )


def _apply(
    org: Organization,
    escalation: Escalation,
    result: SeverityResult,
) -> None:
    """Store a computed severity; the applied one follows it unless overridden."""
    escalation.computed_severity = result.severity
    escalation.severity_reasons = list(result.reasons)
    escalation.affected_arr = result.affected_arr
    escalation.affected_account_count = result.affected_count
    if not escalation.override_reason:
        escalation.severity = result.severity
    escalation.due_at = due_for(org, escalation.created_at, escalation.severity)


SEVERITY_FIELDS = (
    "computed_severity",
    "severity",
    "affected_arr",
    "affected_account_count",
    "due_at",
)


# --- raise ----------------------------------------------------------------------------------


def escalation_raise(
    *,
    org: Organization,
    actor: Membership,
    title: str,
    accounts: Iterable[Account],
    ticket_ref: str = "",
    description: str = "",
    customer_cited: bool = False,
    product_area: ProductArea | None = None,
    now: datetime.datetime | None = None,
) -> Escalation:
    """Push a support issue to Product with its ARR context.

    The severity is computed from the affected accounts (see roadmap/severity.py) and the
    response clock starts now, for that severity. The product area's PM owns it; with no
    owning PM, the Heads of Product are told instead.
    """
    _require(actor, org, Perm.ESCALATION_RAISE, "Your role cannot raise escalations.")
    title = " ".join(title.split())
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Give the escalation a title: what is broken, in a few words."]
    elif len(title) > 200:
        errors["title"] = ["Keep the title under 200 characters."]
    ticket_ref = ticket_ref.strip()
    if len(ticket_ref) > 100:
        errors["ticket_ref"] = ["Keep the ticket reference under 100 characters."]
    if errors:
        raise ApplicationError("Some fields need attention.", field_errors=errors)
    if product_area is not None and product_area.organization_id != org.pk:
        raise ApplicationError(
            "That product area does not exist in this organization.",
            field_errors={"product_area": ["Not found."]},
        )
    picked = _clean_accounts(org, accounts)
    now = now or timezone.now()
    with transaction.atomic():
        # Current figures, read inside the transaction: the picker's copy may be stale.
        fresh = list(Account.objects.for_org(org).filter(pk__in=[a.pk for a in picked]))
        if len(fresh) != len(picked):
            raise ApplicationError(
                "One of the accounts no longer exists.",
                field_errors={"accounts": ["One of the accounts no longer exists."]},
            )
        result = severity_for(org=org, accounts=fresh, customer_cited=customer_cited, now=now)
        escalation = Escalation(
            organization=org,
            title=title,
            ticket_ref=ticket_ref,
            description=description.strip(),
            customer_cited=customer_cited,
            product_area=product_area,
            pm=_pm_of(product_area),
            raised_by=actor,
            created_at=now,
        )
        _apply(org, escalation, result)
        escalation.save()
        EscalationAccount.objects.for_org(org).bulk_create(
            [EscalationAccount(organization=org, escalation=escalation, account=a) for a in fresh]
        )
        audit_record(
            org=org,
            actor=actor.user,
            action="escalation.raise",
            target=escalation,
            changes={
                "severity": escalation.severity,
                "reasons": escalation.severity_reasons,
                "accounts": sorted(a.name for a in fresh),
                "customer_cited": customer_cited,
                "due_at": escalation.due_at,
            },
        )
        days = response_days(org, escalation.severity)
        for member in _product_leads(org, escalation):
            if member.pk == actor.pk:
                continue
            notification_create(
                org=org,
                recipient=member,
                kind="escalation.raised",
                title=f"{escalation.severity} escalation: {escalation.title}"[:200],
                body=(
                    f"{actor.display_name} escalated this to Product"
                    + (f" (ticket {ticket_ref})" if ticket_ref else "")
                    + ".\n"
                    + "\n".join(f"- {reason}" for reason in escalation.severity_reasons)
                    + f"\n\nRespond within {days} business day{'s' if days != 1 else ''}."
                ),
                url=_url(org, escalation),
                dedupe_key=f"esc-raised:{escalation.pk}:{member.pk}",
            )
    return escalation


# --- severity -------------------------------------------------------------------------------


def escalation_override_severity(
    *,
    org: Organization,
    actor: Membership,
    escalation: Escalation,
    severity: str,
    reason: str = "",
) -> Escalation:
    """A PM sets the severity by hand, with the reason recorded.

    Choosing the computed severity again clears the override. The response clock is
    recomputed for the severity that now applies, still counted from when it was raised:
    an upgrade to P1 two days in is already late, and the breach sweep will say so.
    """
    _require(actor, org, Perm.ESCALATION_MANAGE, "Only product leads can override severity.")
    if severity not in Severity.values:
        raise ApplicationError(
            "Choose P1, P2 or P3.", field_errors={"severity": ["Choose P1, P2 or P3."]}
        )
    reason = reason.strip()
    with transaction.atomic():
        escalation = _locked(org, escalation)
        if escalation.status == EscalationStatus.RESOLVED:
            raise ApplicationError("This escalation is resolved; its severity is final.")
        if severity != escalation.computed_severity and not reason:
            message = f"Say why it is {severity} when the rules say {escalation.computed_severity}."
            raise ApplicationError(message, field_errors={"reason": [message]})
        before = snapshot(escalation, ("severity", "override_reason", "due_at"))
        if severity == escalation.computed_severity:
            escalation.severity, escalation.override_reason = severity, ""
            escalation.overridden_by = None
        else:
            escalation.severity, escalation.override_reason = severity, reason
            escalation.overridden_by = actor
        escalation.due_at = due_for(org, escalation.created_at, escalation.severity)
        changes = diff(before, snapshot(escalation, ("severity", "override_reason", "due_at")))
        if not changes:
            return escalation
        escalation.save()
        audit_record(
            org=org,
            actor=actor.user,
            action="escalation.override" if escalation.override_reason else "escalation.revert",
            target=escalation,
            changes={**changes, "computed_severity": escalation.computed_severity},
        )
    return escalation


def escalation_recompute(
    *,
    org: Organization,
    escalation: Escalation,
    actor: Membership | None = None,
    now: datetime.datetime | None = None,
    org_account_count: int | None = None,
) -> Escalation:
    """Run the rules again on today's figures (accounts' ARR and renewals move, and so do the
    organization's threshold and account count). An override stays in force; an escalation
    without one follows the new severity and its response clock."""
    if actor is not None:
        _require(actor, org, Perm.ESCALATION_MANAGE, "Only product leads can recompute severity.")
    with transaction.atomic():
        escalation = _locked(org, escalation)
        if escalation.status == EscalationStatus.RESOLVED:
            return escalation
        accounts = list(
            Account.objects.for_org(org).filter(escalation_links__escalation=escalation)
        )
        result = severity_for(
            org=org,
            accounts=accounts,
            customer_cited=escalation.customer_cited,
            now=now,
            org_account_count=org_account_count,
        )
        before = snapshot(escalation, SEVERITY_FIELDS)
        old_reasons = list(escalation.severity_reasons)
        _apply(org, escalation, result)
        changes = diff(before, snapshot(escalation, SEVERITY_FIELDS))
        if not changes and old_reasons == escalation.severity_reasons:
            return escalation
        escalation.save()
        if changes:
            audit_record(
                org=org,
                actor=actor.user if actor else None,
                action="escalation.recompute",
                target=escalation,
                changes={**changes, "reasons": escalation.severity_reasons},
            )
    return escalation


# --- accounts -------------------------------------------------------------------------------


def _require_account_editor(actor: Membership, org: Organization, escalation: Escalation) -> None:
    _require(actor, org, Perm.VIEW, "You are not a member of this organization.")
    if role_has_perm(actor.role, Perm.ESCALATION_MANAGE):
        return
    if role_has_perm(actor.role, Perm.ESCALATION_RAISE):
        return
    raise ApplicationError("Your role cannot change an escalation's accounts.", code="forbidden")


def escalation_account_add(
    *, org: Organization, actor: Membership, escalation: Escalation, account: Account
) -> Escalation:
    """Add an affected account; the severity is recomputed at once."""
    _require_account_editor(actor, org, escalation)
    if account.organization_id != org.pk:
        raise ApplicationError(
            "That account does not exist in this organization.",
            field_errors={"account": ["Not found."]},
        )
    with transaction.atomic():
        locked = _locked(org, escalation)
        if locked.status == EscalationStatus.RESOLVED:
            raise ApplicationError("This escalation is resolved; its accounts are final.")
        links = EscalationAccount.objects.for_org(org).filter(escalation=locked)
        if links.filter(account=account).exists():
            raise ApplicationError(
                f"{account.name} is already on this escalation.",
                field_errors={"account": [f"{account.name} is already on this escalation."]},
            )
        if links.count() >= MAX_ACCOUNTS:
            raise ApplicationError(f"An escalation can name at most {MAX_ACCOUNTS} accounts.")
        EscalationAccount.objects.for_org(org).create(
            organization=org, escalation=locked, account=account
        )
        audit_record(
            org=org,
            actor=actor.user,
            action="escalation.account_add",
            target=locked,
            changes={"account": account.name},
        )
        return escalation_recompute(org=org, escalation=locked)


def escalation_account_remove(
    *, org: Organization, actor: Membership, escalation: Escalation, account: Account
) -> Escalation:
    """Take an account off; the last one cannot go (an escalation affects someone)."""
    _require_account_editor(actor, org, escalation)
    with transaction.atomic():
        locked = _locked(org, escalation)
        if locked.status == EscalationStatus.RESOLVED:
            raise ApplicationError("This escalation is resolved; its accounts are final.")
        links = EscalationAccount.objects.for_org(org).filter(escalation=locked)
        link = links.filter(account_id=account.pk).first()
        if link is None:
            raise ApplicationError("That account is not on this escalation.", code="not_found")
        if links.count() <= 1:
            raise ApplicationError(
                "An escalation needs at least one affected account: add another one first."
            )
        link.delete()
        audit_record(
            org=org,
            actor=actor.user,
            action="escalation.account_remove",
            target=locked,
            changes={"account": account.name},
        )
        return escalation_recompute(org=org, escalation=locked)


# --- status ---------------------------------------------------------------------------------


def allowed_next_statuses(status: str) -> list[str]:
    """Forward moves only: an escalation never goes back to open."""
    index = STATUS_ORDER.index(EscalationStatus(status))
    return [str(s) for s in STATUS_ORDER[index + 1 :]]


def escalation_set_status(
    *,
    org: Organization,
    actor: Membership,
    escalation: Escalation,
    status: str,
    now: datetime.datetime | None = None,
) -> Escalation:
    """Move an escalation forward. Any move off "open" is Product's response and stops the
    clock. Moving to "in development" or "resolved" tells every CSM owning an affected
    account, and the person who raised it, once per move (the dedupe key names the
    escalation, the status and the recipient, so a retried request tells nobody twice)."""
    _require(actor, org, Perm.ESCALATION_MANAGE, "Only product leads can change the status.")
    if status not in EscalationStatus.values:
        raise ApplicationError("Choose a status.", field_errors={"status": ["Choose a status."]})
    now = now or timezone.now()
    with transaction.atomic():
        escalation = _locked(org, escalation)
        old = escalation.status
        if status == old:
            return escalation
        if status not in allowed_next_statuses(old):
            message = (
                f"An escalation that is {escalation.get_status_display().lower()} cannot move "
                f"back to {EscalationStatus(status).label.lower()}."
            )
            raise ApplicationError(message, field_errors={"status": [message]})
        escalation.status = status
        if escalation.responded_at is None:
            escalation.responded_at = now
        if status == EscalationStatus.RESOLVED:
            escalation.resolved_at = now
        escalation.save()
        audit_record(
            org=org,
            actor=actor.user,
            action="escalation.status",
            target=escalation,
            changes={"status": [old, status]},
        )
        if status in CSM_NOTIFIED_STATUSES:
            _notify_owners(org=org, actor=actor, escalation=escalation, status=status)
    return escalation


def escalation_acknowledge(
    *, org: Organization, actor: Membership, escalation: Escalation
) -> Escalation:
    """Product has seen it: the response clock stops."""
    return escalation_set_status(
        org=org, actor=actor, escalation=escalation, status=EscalationStatus.ACKNOWLEDGED
    )


def owning_csms(org: Organization, escalation: Escalation) -> list[Membership]:
    """The distinct CSMs of the affected accounts."""
    return list(
        Membership.objects.for_org(org)
        .filter(owned_accounts__escalation_links__escalation=escalation)
        .select_related("user")
        .distinct()
    )


def _notify_owners(
    *, org: Organization, actor: Membership, escalation: Escalation, status: str
) -> None:
    recipients = {m.pk: m for m in owning_csms(org, escalation)}
    if escalation.raised_by_id and escalation.raised_by_id not in recipients:
        raiser = Membership.objects.for_org(org).filter(pk=escalation.raised_by_id).first()
        if raiser is not None:
            recipients[raiser.pk] = raiser
    recipients.pop(actor.pk, None)  # the person who moved it knows
    if not recipients:
        return
    names_by_csm: dict[int, list[str]] = {}
    for csm_id, name in (
        Account.objects.for_org(org)
        .filter(escalation_links__escalation=escalation, csm__isnull=False)
        .order_by("name")
        .values_list("csm_id", "name")
    ):
        names_by_csm.setdefault(csm_id, []).append(name)
    label = EscalationStatus(status).label.lower()
    what_to_say = {
        EscalationStatus.IN_DEVELOPMENT: (
            "Product is working on a fix. You can tell the customer it is being worked on; "
            "don't promise a date."
        ),
        EscalationStatus.RESOLVED: "Product marked it resolved. Confirm with the customer.",
    }[EscalationStatus(status)]
    for member in recipients.values():
        mine = names_by_csm.get(member.pk, [])
        body = what_to_say
        if mine:
            body = f"Your accounts affected: {', '.join(mine)}.\n{body}"
        notification_create(
            org=org,
            recipient=member,
            kind="escalation.status",
            title=f"Escalation {label}: {escalation.title}"[:200],
            body=body,
            url=_url(org, escalation),
            dedupe_key=f"esc-status:{escalation.pk}:{status}:{member.pk}",
        )


# --- organization settings ------------------------------------------------------------------


def escalation_settings_update(
    *,
    org: Organization,
    actor: Membership,
    p1_arr_threshold: Decimal,
    p1_response_days: int,
    p2_response_days: int,
    p3_response_days: int,
    now: datetime.datetime | None = None,
) -> Organization:
    """Change the P1 ARR threshold and the response expectation per severity.

    A more severe escalation never gets longer to answer than a less severe one. Open
    escalations follow the new settings at once: their severity is recomputed (the
    threshold moved) and their response clocks re-counted (the days moved).
    """
    _require(actor, org, Perm.ORG_SETTINGS, "Only admins can change organization settings.")
    errors: dict[str, list[str]] = {}
    if p1_arr_threshold is None or p1_arr_threshold < 0:
        errors["escalation_p1_arr_threshold"] = ["The threshold cannot be negative."]
    elif p1_arr_threshold >= Decimal("1e12"):
        errors["escalation_p1_arr_threshold"] = ["That threshold is larger than any ARR."]
    for name, value, high in (
        ("escalation_p1_response_days", p1_response_days, 30),
        ("escalation_p2_response_days", p2_response_days, 30),
        ("escalation_p3_response_days", p3_response_days, 60),
    ):
        if value is None or not 1 <= value <= high:
            errors[name] = [f"Between 1 and {high} business days."]
    if not errors:
        if p1_response_days > p2_response_days:
            errors["escalation_p1_response_days"] = [
                "P1 is the most urgent: give it no more days than P2."
            ]
        if p2_response_days > p3_response_days:
            errors["escalation_p2_response_days"] = ["Give P2 no more days than P3."]
    if errors:
        raise ApplicationError("Some escalation settings are not valid.", field_errors=errors)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=org.pk)
        before = snapshot(org, ESCALATION_SETTING_FIELDS)
        org.escalation_p1_arr_threshold = p1_arr_threshold
        org.escalation_p1_response_days = p1_response_days
        org.escalation_p2_response_days = p2_response_days
        org.escalation_p3_response_days = p3_response_days
        changes = diff(before, snapshot(org, ESCALATION_SETTING_FIELDS))
        if not changes:
            return org
        org.save(update_fields=list(changes))
        audit_record(
            org=org,
            actor=actor.user,
            action="organization.escalation_settings",
            target=org,
            changes=changes,
        )
        total = countable_account_total(org)
        for escalation in (
            Escalation.objects.for_org(org).exclude(status=EscalationStatus.RESOLVED).order_by("pk")
        ):
            escalation_recompute(org=org, escalation=escalation, now=now, org_account_count=total)
    return org

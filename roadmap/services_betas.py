"""Writes of beta programs: who takes part and why, the feedback they give, the retrospective
that closes the program, and general availability, where participants' CSMs hear first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, Membership, Organization, Role
from alignment.services.audit import audit_record
from alignment.services.notifications import notification_create
from feedback.models import Feedback, Theme, ThemeStatus
from roadmap.models import (
    BetaParticipant,
    BetaProgram,
    BetaStatus,
    Delivery,
    RoadmapItem,
    SelectionReason,
)
from roadmap.services_releases import (
    feedback_accounts_by_csm,
    item_set_delivery,
    ordered_recipients,
    participant_accounts_by_csm,
)

CS_OWNER_ROLES = (Role.CSM, Role.VP_CS, Role.CS_OPS, Role.ADMIN)
PM_ROLES = (Role.PM, Role.HEAD_OF_PRODUCT, Role.ADMIN)
RETRO_FIELDS = {
    "retro_actioned": "Say what was actioned from the beta's feedback.",
    "retro_not_actioned": "Say what was not actioned.",
    "retro_why": "Say why — participants' CSMs pass this on.",
}


@dataclass
class BetaData:
    item: RoadmapItem | None
    name: str
    cs_owner: Membership | None
    pm: Membership | None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


def beta_url(org: Organization, beta: BetaProgram) -> str:
    return reverse("roadmap:beta-detail", kwargs={"org_slug": org.slug, "pk": beta.pk})


def _locked(org: Organization, beta: BetaProgram) -> BetaProgram:
    if beta.organization_id != org.pk:
        raise ApplicationError("That beta does not exist in this organization.")
    return BetaProgram.objects.for_org(org).select_for_update().get(pk=beta.pk)


def _require_open(beta: BetaProgram) -> None:
    if beta.status != BetaStatus.OPEN:
        raise ApplicationError("This beta is closed; its participants and feedback are final.")


def _member_error(
    org: Organization, member: Membership | None, roles: tuple[str, ...], field: str, what: str
) -> str | None:
    if member is None:
        return f"Choose the {what}."
    if member.organization_id != org.pk or not member.is_active:
        return f"Choose an active member of this organization as the {what}."
    if member.role not in roles:
        return f"The {what} must be one of: " + ", ".join(Role(r).label for r in roles) + "."
    return None


@transaction.atomic
def beta_create(*, org: Organization, actor: Membership, data: BetaData) -> BetaProgram:
    """Start a beta for a roadmap item, with the CS owner and the PM who attends its sessions."""
    errors: dict[str, list[str]] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = ["Give the beta a name."]
    elif len(name) > 200:
        errors["name"] = ["Keep the name under 200 characters."]
    item = data.item
    if item is None or item.organization_id != org.pk:
        errors["item"] = ["Choose the roadmap item this beta tests."]
    elif item.delivery_status in (Delivery.SHIPPED, Delivery.CANCELLED):
        errors["item"] = [
            f"“{item.title}” is {item.get_delivery_status_display().lower()}: "
            "a beta needs an item still in the works."
        ]
    for field_name, member, roles, what in (
        ("cs_owner", data.cs_owner, CS_OWNER_ROLES, "CS owner"),
        ("pm", data.pm, PM_ROLES, "PM"),
    ):
        message = _member_error(org, member, roles, field_name, what)
        if message:
            errors[field_name] = [message]
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        errors["ends_on"] = ["The end date is before the start date."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], field_errors=errors)
    beta = BetaProgram.objects.for_org(org).create(
        organization=org,
        item=item,
        name=name,
        cs_owner=data.cs_owner,
        pm=data.pm,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="beta.create",
        target=beta,
        changes={
            "item": item.title if item else "",
            "cs_owner": str(data.cs_owner),
            "pm": str(data.pm),
            "starts_on": data.starts_on,
            "ends_on": data.ends_on,
        },
    )
    return beta


@transaction.atomic
def beta_participant_add(
    *,
    org: Organization,
    actor: Membership,
    beta: BetaProgram,
    account: Account | None,
    reason: str,
    note: str = "",
) -> BetaParticipant:
    """Add an account to a running beta, saying why it was selected."""
    beta = _locked(org, beta)
    _require_open(beta)
    errors: dict[str, list[str]] = {}
    if account is None or account.organization_id != org.pk:
        errors["account"] = ["Choose an account of this organization."]
    if reason not in SelectionReason.values:
        errors["reason"] = ["Say why this account was selected."]
    note = (note or "").strip()
    if len(note) > 300:
        errors["note"] = ["Keep the note under 300 characters."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], field_errors=errors)
    assert account is not None  # for the type checker: validated above
    try:
        with transaction.atomic():
            participant = BetaParticipant.objects.for_org(org).create(
                organization=org, beta=beta, account=account, reason=reason, note=note
            )
    except IntegrityError:
        message = f"{account.name} is already in this beta."
        raise ApplicationError(message, field_errors={"account": [message]}) from None
    audit_record(
        org=org,
        actor=actor.user,
        action="beta.participant_add",
        target=beta,
        changes={"account": account.name, "reason": reason, "note": note},
    )
    return participant


@transaction.atomic
def beta_participant_remove(
    *, org: Organization, actor: Membership, beta: BetaProgram, participant: BetaParticipant
) -> None:
    beta = _locked(org, beta)
    _require_open(beta)
    if participant.organization_id != org.pk or participant.beta_id != beta.pk:
        raise ApplicationError("That account is not in this beta.")
    name = participant.account.name
    participant.delete()
    audit_record(
        org=org,
        actor=actor.user,
        action="beta.participant_remove",
        target=beta,
        changes={"account": name},
    )


@transaction.atomic
def beta_feedback_tag(
    *, org: Organization, actor: Membership, beta: BetaProgram, feedback: Feedback
) -> Feedback:
    """Tag a participant's feedback to the beta, so the retrospective can account for it."""
    beta = _locked(org, beta)
    _require_open(beta)
    if feedback.organization_id != org.pk:
        raise ApplicationError("That feedback does not exist in this organization.")
    feedback = Feedback.objects.for_org(org).select_for_update().get(pk=feedback.pk)
    if (
        not BetaParticipant.objects.for_org(org)
        .filter(beta=beta, account_id=feedback.account_id)
        .exists()
    ):
        raise ApplicationError("Only feedback from this beta's participating accounts is tagged.")
    if feedback.beta_id == beta.pk:
        return feedback
    old = feedback.beta_id
    feedback.beta = beta
    feedback.save(update_fields=["beta", "updated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.beta_tag",
        target=feedback,
        changes={"beta": [old, beta.pk]},
    )
    return feedback


@transaction.atomic
def beta_feedback_untag(
    *, org: Organization, actor: Membership, beta: BetaProgram, feedback: Feedback
) -> Feedback:
    beta = _locked(org, beta)
    _require_open(beta)
    if feedback.organization_id != org.pk or feedback.beta_id != beta.pk:
        raise ApplicationError("That feedback is not tagged to this beta.")
    feedback.beta = None
    feedback.save(update_fields=["beta", "updated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="feedback.beta_untag",
        target=feedback,
        changes={"beta": [beta.pk, None]},
    )
    return feedback


@transaction.atomic
def beta_close(
    *,
    org: Organization,
    actor: Membership,
    beta: BetaProgram,
    actioned: str,
    not_actioned: str,
    why: str,
) -> BetaProgram:
    """Close a beta with its retrospective, sent once to every participant's CSM."""
    beta = _locked(org, beta)
    _require_open(beta)
    values = {
        "retro_actioned": (actioned or "").strip(),
        "retro_not_actioned": (not_actioned or "").strip(),
        "retro_why": (why or "").strip(),
    }
    missing = {name: [message] for name, message in RETRO_FIELDS.items() if not values[name]}
    if missing:
        raise ApplicationError(
            "A beta closes with its retrospective: what was actioned, what was not, and why.",
            field_errors=missing,
        )
    beta.retro_actioned = values["retro_actioned"]
    beta.retro_not_actioned = values["retro_not_actioned"]
    beta.retro_why = values["retro_why"]
    beta.status = BetaStatus.CLOSED
    beta.closed_at = timezone.now()
    beta.closed_by = actor
    beta.save()
    audit_record(org=org, actor=actor.user, action="beta.close", target=beta, changes=values)
    by_csm: dict[int, list[str]] = {}
    for csm_id, account_name in (
        BetaParticipant.objects.for_org(org)
        .filter(beta=beta, account__csm__isnull=False, account__csm__is_active=True)
        .order_by("account__name")
        .values_list("account__csm_id", "account__name")
    ):
        by_csm.setdefault(csm_id, []).append(account_name)
    url = beta_url(org, beta)
    for member in Membership.objects.for_org(org).filter(pk__in=by_csm).order_by("pk"):
        notification_create(
            org=org,
            recipient=member,
            kind="beta.retro",
            title=f"Beta closed: {beta.name} — the retrospective",
            body=(
                f"Your accounts in this beta: {', '.join(by_csm[member.pk])}.\n\n"
                f"What was actioned: {beta.retro_actioned}\n\n"
                f"What was not: {beta.retro_not_actioned}\n\n"
                f"Why: {beta.retro_why}"
            ),
            url=url,
            dedupe_key=f"beta-retro:{beta.pk}:{member.pk}",
        )
    return beta


@dataclass
class GaResult:
    item: RoadmapItem
    beta_csms: list[Membership]
    other_csms: list[Membership]


@transaction.atomic
def roadmap_item_mark_ga(
    *, org: Organization, actor: Membership, item: RoadmapItem, beta: BetaProgram | None = None
) -> GaResult:
    """The item is generally available. The CSMs of its beta participants are told first,
    then the CSMs whose feedback asked for it (linked themes); one notice each."""
    if item.organization_id != org.pk:
        raise ApplicationError("That roadmap item does not exist in this organization.")
    item = RoadmapItem.objects.for_org(org).select_for_update().get(pk=item.pk)
    if item.delivery_status == Delivery.GA:
        raise ApplicationError(f"“{item.title}” is already generally available.")
    if item.delivery_status in (Delivery.SHIPPED, Delivery.CANCELLED):
        raise ApplicationError(
            f"“{item.title}” is {item.get_delivery_status_display().lower()}; "
            "it cannot become generally available now."
        )
    item_set_delivery(
        org=org,
        actor=actor,
        item=item,
        status=Delivery.GA,
        cause=f"beta:{beta.pk}" if beta else "ga",
    )
    theme_ids = list(
        Theme.objects.for_org(org)
        .filter(roadmap_item=item, merged_into__isnull=True)
        .exclude(status=ThemeStatus.ARCHIVED)
        .values_list("pk", flat=True)
    )
    participants = participant_accounts_by_csm(org, [item.pk])
    feedback = feedback_accounts_by_csm(org, theme_ids)
    first, rest = ordered_recipients(org, actor, participants, feedback)
    url = beta_url(org, beta) if beta else ""
    for member in first + rest:
        lines = [f"“{item.title}” is now generally available."]
        if member.pk in participants:
            lines.append(
                "Your beta participants hear it first — thank them: "
                + ", ".join(sorted(participants[member.pk]))
                + "."
            )
        others = sorted(feedback.get(member.pk, set()) - participants.get(member.pk, set()))
        if others:
            lines.append("Accounts that asked for it: " + ", ".join(others) + ".")
        notification_create(
            org=org,
            recipient=member,
            kind="roadmap.ga",
            title=f"Generally available: {item.title}",
            body="\n\n".join(lines),
            url=url,
            dedupe_key=f"ga:{item.pk}:{member.pk}",
        )
    return GaResult(item=item, beta_csms=first, other_csms=rest)

"""Commitments: promises to one named customer about one roadmap item.

A CSM asks; the item's owning PM (or a Head of Product) approves with the exact words the
CSM may use, or declines with a reason. Nothing is quotable before approval. When the item
slips, drops a tier or is cancelled, every approved commitment on it is flagged at risk and
its holder told at once, until the holder records how the customer was told.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, Membership, Organization, Role
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_record
from alignment.services.notifications import notification_create
from integrations.models import WebhookEvent
from integrations.services_webhooks import webhook_event_emit
from roadmap import wording
from roadmap.models import (
    Commitment,
    CommitmentStatus,
    Delivery,
    RoadmapItem,
    Tier,
    Visibility,
)

# A conversation is recorded up to a year after it happened, or ahead of one booked soon.
MAX_PAST_DAYS = 365
MAX_FUTURE_DAYS = 90
# Who may ask for any account (a CSM asks only for the accounts they own).
ANY_ACCOUNT_ROLES = (Role.VP_CS, Role.ADMIN)
# Who may decide on any item (otherwise only the item's owning PM).
ANY_ITEM_DECIDERS = (Role.HEAD_OF_PRODUCT, Role.ADMIN)


def _denied(message: str) -> ApplicationError:
    return ApplicationError(message, code="permission_denied")


def _detail_url(org: Organization, commitment: Commitment) -> str:
    return reverse("roadmap:commitment-detail", kwargs={"org_slug": org.slug, "pk": commitment.pk})


def _same_org(org: Organization, *objects: object, field: str) -> None:
    for obj in objects:
        if obj is not None and getattr(obj, "organization_id", None) != org.pk:
            raise ApplicationError(
                "That choice does not exist in this organization.",
                field_errors={field: ["Not found."]},
            )


def commitment_can_request_for(*, actor: Membership, account: Account) -> bool:
    """CSMs ask for the accounts they own; VP CS and admins for any account."""
    if not role_has_perm(actor.role, Perm.COMMITMENT_REQUEST):
        return False
    return actor.role in ANY_ACCOUNT_ROLES or account.csm_id == actor.pk


def commitment_can_decide(*, actor: Membership, item: RoadmapItem) -> bool:
    """The item's owning PM decides; a Head of Product or an admin may decide any item."""
    if not role_has_perm(actor.role, Perm.COMMITMENT_DECIDE):
        return False
    return actor.role in ANY_ITEM_DECIDERS or (item.pm_id is not None and item.pm_id == actor.pk)


def commitment_can_manage(*, actor: Membership, commitment: Commitment) -> bool:
    """The holder (who asked), the account's CSM, VP CS and admins look after a promise."""
    return (
        actor.pk == commitment.requested_by_id
        or actor.pk == commitment.account.csm_id
        or actor.role in ANY_ACCOUNT_ROLES
    )


def _deciders(org: Organization, item: RoadmapItem) -> list[Membership]:
    if item.pm_id is not None:
        pm = Membership.objects.for_org(org).filter(pk=item.pm_id, is_active=True).first()
        if pm is not None:
            return [pm]
    return list(Membership.objects.for_org(org).filter(role=Role.HEAD_OF_PRODUCT, is_active=True))


@transaction.atomic
def commitment_request(
    *,
    org: Organization,
    actor: Membership,
    account: Account,
    item: RoadmapItem,
    context: str,
    conversation_date: datetime.date | None,
    proposed_wording: str = "",
    include_quarter: bool = False,
) -> Commitment:
    """Ask the owning PM to approve telling ``account`` something about ``item``.

    Only a committed item may be promised with a quarter; a pending request for the same
    account and item is not duplicated. The deciders are notified once.
    """
    _same_org(org, account, field="account")
    _same_org(org, item, field="item")
    if not role_has_perm(actor.role, Perm.COMMITMENT_REQUEST):
        raise _denied("Your role does not ask for commitments.")
    if not commitment_can_request_for(actor=actor, account=account):
        raise ApplicationError(
            "You can ask for commitments only for the accounts you own.",
            field_errors={"account": ["You are not this account's CSM."]},
            code="permission_denied",
        )
    item = RoadmapItem.objects.for_org(org).select_for_update().get(pk=item.pk)
    if item.visibility == Visibility.INTERNAL:
        # Internal means never mentioned to a customer; for CS it does not exist at all.
        internal = role_has_perm(actor.role, Perm.ROADMAP_VIEW_INTERNAL)
        raise ApplicationError(
            "Internal items are never promised to customers; make it public or NDA first."
            if internal
            else "That roadmap item does not exist.",
            field_errors={"item": ["Not available for customer commitments."]},
        )
    errors: dict[str, list[str]] = {}
    if item.delivery_status in (Delivery.CANCELLED, Delivery.SHIPPED):
        errors["item"] = [
            f"This item is {item.get_delivery_status_display().lower()}: there is nothing "
            "left to promise."
        ]
    if include_quarter and item.tier != Tier.COMMITTED:
        errors["include_quarter"] = [
            f"Only a committed item may be promised with a quarter; this one is "
            f"{item.get_tier_display().lower()}."
        ]
    context = context.strip()
    if not context:
        errors["context"] = ["Say what the customer asked and why it matters to them."]
    today = timezone.localdate(timezone=org.tzinfo)
    if conversation_date is None:
        errors["conversation_date"] = ["Give the date of the conversation."]
    elif conversation_date < today - datetime.timedelta(days=MAX_PAST_DAYS):
        errors["conversation_date"] = ["That conversation is more than a year ago."]
    elif conversation_date > today + datetime.timedelta(days=MAX_FUTURE_DAYS):
        errors["conversation_date"] = ["Ask within 90 days of the conversation."]
    if errors:
        raise ApplicationError("Some fields need attention.", field_errors=errors)
    pending = (
        Commitment.objects.for_org(org)
        .filter(account=account, item=item, status=CommitmentStatus.REQUESTED)
        .exists()
    )
    if pending:
        raise ApplicationError(
            "A request about this item for this account is already awaiting sign-off.",
            field_errors={"item": ["Already awaiting sign-off for this account."]},
        )
    assert conversation_date is not None
    commitment = Commitment.objects.for_org(org).create(
        organization=org,
        account=account,
        item=item,
        requested_by=actor,
        context=context,
        conversation_date=conversation_date,
        proposed_wording=proposed_wording.strip(),
        include_quarter=include_quarter,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="commitment.request",
        target=commitment,
        changes={
            "account": account.name,
            "item": item.title,
            "include_quarter": include_quarter,
            "conversation_date": conversation_date,
        },
    )
    url = _detail_url(org, commitment)
    for decider in _deciders(org, item):
        if decider.pk == actor.pk:
            continue
        notification_create(
            org=org,
            recipient=decider,
            kind="commitment.requested",
            title=f"Sign-off requested: “{item.title}” for {account.name}",
            body=(
                f"{actor.display_name} would like to tell {account.name} about “{item.title}”"
                f"{' with its quarter' if include_quarter else ''}.\n\n"
                f"Context: {context}"
                + (
                    f"\n\nProposed wording: {commitment.proposed_wording}"
                    if proposed_wording
                    else ""
                )
            ),
            url=url,
            dedupe_key=f"commitment:{commitment.pk}:requested:{decider.pk}",
        )
    return commitment


def _lock_pending(org: Organization, commitment: Commitment) -> Commitment:
    _same_org(org, commitment, field="commitment")
    locked = (
        Commitment.objects.for_org(org)
        .select_related("account", "item", "requested_by__user")
        .select_for_update(of=("self",))
        .get(pk=commitment.pk)
    )
    if locked.status != CommitmentStatus.REQUESTED:
        raise ApplicationError(
            f"This request is already {locked.get_status_display().lower()}; nothing to decide."
        )
    return locked


def _check_decider(actor: Membership, item: RoadmapItem) -> None:
    if not commitment_can_decide(actor=actor, item=item):
        owner = item.pm.display_name if item.pm_id and item.pm else "the owning PM"
        raise _denied(
            f"Only {owner} (the item's owning PM) or a Head of Product can decide on this "
            "commitment."
        )


def _notify_requester(
    org: Organization, actor: Membership, commitment: Commitment, title: str, body: str
) -> None:
    requester = commitment.requested_by
    if requester is None or requester.pk == actor.pk:
        return
    notification_create(
        org=org,
        recipient=requester,
        kind="commitment.decided",
        title=title,
        body=body,
        url=_detail_url(org, commitment),
        dedupe_key=f"commitment:{commitment.pk}:decided",
    )


@transaction.atomic
def commitment_approve(
    *, org: Organization, actor: Membership, commitment: Commitment, approved_wording: str
) -> Commitment:
    """Approve with the exact words the CSM may use. A quarter may be promised (or named in
    the wording) only while the item is committed, checked now, not when it was asked."""
    commitment = _lock_pending(org, commitment)
    item = (
        RoadmapItem.objects.for_org(org)
        .select_related("pm__user")
        .select_for_update(of=("self",))
        .get(pk=commitment.item_id)
    )
    _check_decider(actor, item)
    approved_wording = approved_wording.strip()
    if not approved_wording:
        raise ApplicationError(
            "Write the exact words the CSM may use with the customer.",
            field_errors={"approved_wording": ["Write the approved wording."]},
        )
    if item.delivery_status in (Delivery.CANCELLED, Delivery.SHIPPED):
        raise ApplicationError(
            f"The item is {item.get_delivery_status_display().lower()}: decline instead."
        )
    committed = item.tier == Tier.COMMITTED
    if commitment.include_quarter and not committed:
        raise ApplicationError(
            f"The CSM asked to promise a quarter, but the item is "
            f"{item.get_tier_display().lower()}: only a committed item may be promised with "
            "a quarter. Commit the item first, or decline and say why.",
            field_errors={"approved_wording": ["The item is not committed."]},
        )
    if not committed and wording.wording_names_a_quarter(approved_wording):
        raise ApplicationError(
            "This wording names a quarter, but the item is not committed.",
            field_errors={
                "approved_wording": [
                    "Only a committed item may be promised with a quarter: take the date out."
                ]
            },
        )
    now = timezone.now()
    commitment.status = CommitmentStatus.APPROVED
    commitment.approved_wording = approved_wording
    commitment.decided_by = actor
    commitment.decided_at = now
    commitment.tier_at_approval = item.tier
    commitment.quarter_at_approval = item.target_quarter if committed else ""
    commitment.save(
        update_fields=[
            "status",
            "approved_wording",
            "decided_by",
            "decided_at",
            "tier_at_approval",
            "quarter_at_approval",
            "updated_at",
        ]
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="commitment.approve",
        target=commitment,
        changes={"status": ["requested", "approved"], "approved_wording": approved_wording},
    )
    _notify_requester(
        org,
        actor,
        commitment,
        f"Approved: what you may tell {commitment.account.name} about “{item.title}”",
        f"{actor.display_name} approved this wording; use it as written:\n\n{approved_wording}",
    )
    return commitment


@transaction.atomic
def commitment_decline(
    *, org: Organization, actor: Membership, commitment: Commitment, reason: str
) -> Commitment:
    """Decline with a reason the CSM can act on."""
    commitment = _lock_pending(org, commitment)
    item = RoadmapItem.objects.for_org(org).select_related("pm__user").get(pk=commitment.item_id)
    _check_decider(actor, item)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "Say why, so the CSM knows what they can tell the customer instead.",
            field_errors={"decline_reason": ["A reason is required."]},
        )
    commitment.status = CommitmentStatus.DECLINED
    commitment.decline_reason = reason
    commitment.decided_by = actor
    commitment.decided_at = timezone.now()
    commitment.save(
        update_fields=["status", "decline_reason", "decided_by", "decided_at", "updated_at"]
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="commitment.decline",
        target=commitment,
        changes={"status": ["requested", "declined"], "reason": reason},
    )
    _notify_requester(
        org,
        actor,
        commitment,
        f"Declined: “{item.title}” for {commitment.account.name}",
        f"{actor.display_name} declined this request. Do not promise it.\n\nWhy: {reason}",
    )
    return commitment


@transaction.atomic
def commitment_withdraw(
    *, org: Organization, actor: Membership, commitment: Commitment
) -> Commitment:
    """The requester (or VP CS / an admin) takes back a request still awaiting sign-off."""
    commitment = _lock_pending(org, commitment)
    if actor.pk != commitment.requested_by_id and actor.role not in ANY_ACCOUNT_ROLES:
        raise _denied("Only the CSM who asked can withdraw this request.")
    commitment.status = CommitmentStatus.WITHDRAWN
    commitment.save(update_fields=["status", "updated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="commitment.withdraw",
        target=commitment,
        changes={"status": ["requested", "withdrawn"]},
    )
    return commitment


@transaction.atomic
def commitment_record_customer_informed(
    *,
    org: Organization,
    actor: Membership,
    commitment: Commitment,
    informed_on: datetime.date | None,
    note: str,
) -> Commitment:
    """The holder told the customer about the change: this clears the at-risk flag."""
    _same_org(org, commitment, field="commitment")
    commitment = (
        Commitment.objects.for_org(org)
        .select_related("account")
        .select_for_update(of=("self",))
        .get(pk=commitment.pk)
    )
    if not commitment_can_manage(actor=actor, commitment=commitment):
        raise _denied("Only the CSM holding this commitment can record that.")
    if commitment.at_risk_since is None:
        raise ApplicationError("This commitment is not at risk: there is nothing to record.")
    today = timezone.localdate(timezone=org.tzinfo)
    errors: dict[str, list[str]] = {}
    flagged_on = timezone.localtime(commitment.at_risk_since, org.tzinfo).date()
    if informed_on is None:
        errors["informed_on"] = ["Give the date the customer was told."]
    elif informed_on > today:
        errors["informed_on"] = ["That date is in the future."]
    elif informed_on < flagged_on:
        errors["informed_on"] = [
            f"The change was on {flagged_on:%b} {flagged_on.day}, {flagged_on.year}; "
            "give the date you told the customer since."
        ]
    note = note.strip()
    if not note:
        errors["note"] = ["Say how the customer was told and how they took it."]
    if errors:
        raise ApplicationError("Some fields need attention.", field_errors=errors)
    commitment.customer_informed_at = informed_on
    commitment.customer_informed_note = note
    commitment.at_risk_since = None
    commitment.save(
        update_fields=[
            "customer_informed_at",
            "customer_informed_note",
            "at_risk_since",
            "updated_at",
        ]
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="commitment.customer_informed",
        target=commitment,
        changes={"informed_on": informed_on, "note": note},
    )
    return commitment


def commitments_put_at_risk(
    *,
    org: Organization,
    actor: Membership | None,
    item: RoadmapItem,
    cause: str,
    reason: str,
) -> list[Commitment]:
    """Flag every approved commitment on ``item`` at risk and tell each holder once.

    Called inside the item service's transaction, with ``cause`` naming the change (the
    item event's id): one notification per holder per change, listing their accounts, so a
    retry or a second call for the same change sends nothing twice.
    """
    commitments = list(
        Commitment.objects.for_org(org)
        .filter(item=item, status=CommitmentStatus.APPROVED)
        .select_related("account__csm", "requested_by")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if not commitments:
        return []
    now = timezone.now()
    by_holder: dict[int, list[Commitment]] = defaultdict(list)
    holders: dict[int, Membership] = {}
    for commitment in commitments:
        if commitment.at_risk_since is None:
            commitment.at_risk_since = now
            commitment.at_risk_reason = reason
        else:
            commitment.at_risk_reason = f"{commitment.at_risk_reason}\n{reason}".strip()
        commitment.save(update_fields=["at_risk_since", "at_risk_reason", "updated_at"])
        audit_record(
            org=org,
            actor=actor.user if actor else None,
            action="commitment.at_risk",
            target=commitment,
            changes={"reason": reason},
        )
        webhook_event_emit(
            org=org,
            event=WebhookEvent.COMMITMENT_AT_RISK,
            data={
                "commitment_id": commitment.pk,
                "account_id": commitment.account_id,
                "account_external_id": commitment.account.external_id,
                "item_id": item.pk,
                "item_title": item.title,
                "reason": reason,
                "approved_wording": commitment.approved_wording,
            },
        )
        holder = commitment.requested_by
        if holder is None or not holder.is_active:
            holder = commitment.account.csm
        if holder is not None:
            holders[holder.pk] = holder
            by_holder[holder.pk].append(commitment)
    url = reverse("roadmap:promise-list", kwargs={"org_slug": org.slug}) + "?at_risk=1"
    for holder_pk, held in by_holder.items():
        accounts = sorted({c.account.name for c in held})
        lines = "\n".join(f"- {c.account.name}: “{c.approved_wording}”" for c in held)
        notification_create(
            org=org,
            recipient=holders[holder_pk],
            kind="commitment.at_risk",
            title=f"At risk: your promise on “{item.title}” ({', '.join(accounts)})",
            body=(
                f"{reason}\n\nWhat you promised:\n{lines}\n\n"
                "Tell the customer before they hear it elsewhere, then record how you told "
                "them to clear the flag."
            ),
            url=url,
            dedupe_key=f"commitment:at_risk:{cause}:{holder_pk}",
        )
    return commitments

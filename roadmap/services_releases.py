"""Writes of releases: drafting with the CS brief, announcing to CS, and shipping.

A customer-facing release reaches CS at least ``NOTICE_DAYS`` days before its date, with a
complete brief (approved messaging, talking points, what not to say); announcing later needs a
recorded reason. Shipping is a person's action and happens once: the items become shipped,
their themes become shipped, and every CSM who has something to tell a customer gets one
notice for the whole release — the CSMs of beta participants first, so they hear before
everyone else.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization, Role
from alignment.services.audit import audit_record, diff, snapshot
from alignment.services.notifications import notification_create
from feedback.models import Feedback, Theme, ThemeStatus
from feedback.services import customer_wording, theme_set_status
from integrations.models import WebhookEvent
from integrations.services_webhooks import webhook_event_emit
from roadmap.models import (
    BetaParticipant,
    Delivery,
    Release,
    ReleaseItem,
    ReleaseStatus,
    RoadmapItem,
    RoadmapItemEvent,
)

NOTICE_DAYS = 14
FIELDS = ("name", "release_date", "customer_facing", "messaging", "talking_points", "do_not_say")
BRIEF_FIELDS = {
    "messaging": "Write the approved messaging CSMs may use.",
    "talking_points": "Add the talking points for customer conversations.",
    "do_not_say": "Say what CSMs must not say (claims, dates, comparisons to avoid).",
}
UNSHIPPABLE = (Delivery.SHIPPED, Delivery.CANCELLED)


@dataclass
class ReleaseData:
    name: str
    release_date: datetime.date | None
    customer_facing: bool = True
    messaging: str = ""
    talking_points: str = ""
    do_not_say: str = ""
    items: list[RoadmapItem] = field(default_factory=list)


def org_today(org: Organization) -> datetime.date:
    return timezone.localdate(timezone=org.tzinfo)


def notice_days(release: Release, *, today: datetime.date) -> int:
    """Days between today (in the organization's timezone) and the release date."""
    return (release.release_date - today).days


def release_brief_missing(release: Release) -> dict[str, list[str]]:
    """The brief fields a customer-facing release still lacks, as field errors."""
    if not release.customer_facing:
        return {}
    return {
        name: [message]
        for name, message in BRIEF_FIELDS.items()
        if not (getattr(release, name) or "").strip()
    }


def _clean(org: Organization, data: ReleaseData, *, release: Release | None) -> ReleaseData:
    errors: dict[str, list[str]] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = ["Give the release a name."]
    elif len(name) > 200:
        errors["name"] = ["Keep the name under 200 characters."]
    if data.release_date is None:
        errors["release_date"] = ["Choose the date it ships."]
    items = list({item.pk: item for item in data.items}.values())
    if not items:
        errors["items"] = ["Choose at least one roadmap item this release ships."]
    if any(item.organization_id != org.pk for item in items):
        errors["items"] = ["Choose roadmap items of this organization."]
    else:
        already = (
            set(
                ReleaseItem.objects.for_org(org)
                .filter(release=release)
                .values_list("item_id", flat=True)
            )
            if release
            else set()
        )
        blocked = [
            item.title
            for item in items
            if item.delivery_status in UNSHIPPABLE and item.pk not in already
        ]
        if blocked:
            errors["items"] = [
                f"Already shipped or cancelled, so it cannot ship here: {', '.join(blocked)}."
            ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(first, field_errors=errors)
    return ReleaseData(
        name=name,
        release_date=data.release_date,
        customer_facing=bool(data.customer_facing),
        messaging=data.messaging.strip(),
        talking_points=data.talking_points.strip(),
        do_not_say=data.do_not_say.strip(),
        items=items,
    )


def _set_items(org: Organization, release: Release, items: list[RoadmapItem]) -> dict[str, list]:
    current = {ri.item_id: ri for ri in ReleaseItem.objects.for_org(org).filter(release=release)}
    wanted = {item.pk: item for item in items}
    removed = [pk for pk in current if pk not in wanted]
    added = [item for pk, item in wanted.items() if pk not in current]
    if removed:
        ReleaseItem.objects.for_org(org).filter(release=release, item_id__in=removed).delete()
    if added:
        ReleaseItem.objects.for_org(org).bulk_create(
            [ReleaseItem(organization=org, release=release, item=item) for item in added]
        )
    changes: dict[str, list] = {}
    if added:
        changes["items_added"] = [item.title for item in added]
    if removed:
        changes["items_removed"] = [current[pk].item_id for pk in removed]
    return changes


@transaction.atomic
def release_create(*, org: Organization, actor: Membership, data: ReleaseData) -> Release:
    """Draft a release. Drafts are visible to release managers only, until announced."""
    clean = _clean(org, data, release=None)
    release = Release.objects.for_org(org).create(
        organization=org,
        name=clean.name,
        release_date=clean.release_date,
        customer_facing=clean.customer_facing,
        messaging=clean.messaging,
        talking_points=clean.talking_points,
        do_not_say=clean.do_not_say,
        created_by=actor,
    )
    _set_items(org, release, clean.items)
    audit_record(
        org=org,
        actor=actor.user,
        action="release.create",
        target=release,
        changes={**snapshot(release, FIELDS), "items": [item.title for item in clean.items]},
    )
    return release


@transaction.atomic
def release_update(
    *, org: Organization, actor: Membership, release: Release, data: ReleaseData
) -> Release:
    """Edit a draft or announced release. A shipped release is history and stays as it was.

    Changing the date of an announced release is allowed (plans move) and audited as a
    reschedule; the notice rule is not re-checked after the fact.
    """
    release = _locked(org, release)
    if release.status == ReleaseStatus.SHIPPED:
        raise ApplicationError("This release has shipped; it can no longer be edited.")
    clean = _clean(org, data, release=release)
    before = snapshot(release, FIELDS)
    release.name = clean.name
    release.release_date = clean.release_date
    release.customer_facing = clean.customer_facing
    release.messaging = clean.messaging
    release.talking_points = clean.talking_points
    release.do_not_say = clean.do_not_say
    release.save()
    changes: dict[str, object] = dict(diff(before, snapshot(release, FIELDS)))
    changes.update(_set_items(org, release, clean.items))
    if not changes:
        return release
    rescheduled = release.status == ReleaseStatus.ANNOUNCED and "release_date" in changes
    audit_record(
        org=org,
        actor=actor.user,
        action="release.rescheduled" if rescheduled else "release.update",
        target=release,
        changes=changes,
    )
    return release


def _locked(org: Organization, release: Release) -> Release:
    if release.organization_id != org.pk:
        raise ApplicationError("That release does not exist in this organization.")
    return Release.objects.for_org(org).select_for_update().get(pk=release.pk)


def _active_csms(org: Organization) -> list[Membership]:
    return list(
        Membership.objects.for_org(org)
        .filter(role=Role.CSM, is_active=True)
        .select_related("user")
        .order_by("pk")
    )


def release_url(org: Organization, release: Release) -> str:
    return reverse("roadmap:release-detail", kwargs={"org_slug": org.slug, "pk": release.pk})


@transaction.atomic
def release_announce(
    *,
    org: Organization,
    actor: Membership,
    release: Release,
    late_notice_reason: str = "",
    today: datetime.date | None = None,
) -> Release:
    """Announce a release to CS: every active CSM is told once, with a link to the brief.

    A customer-facing release needs the complete brief, and at least 14 days' notice counted
    in the organization's timezone; with less, the reason for the late notice is recorded.
    """
    release = _locked(org, release)
    if release.status != ReleaseStatus.DRAFT:
        raise ApplicationError(
            f"This release is already {release.get_status_display().lower()}; "
            "it is announced only once."
        )
    missing = release_brief_missing(release)
    if missing:
        raise ApplicationError(
            "Complete the CS brief before announcing: CSMs need approved messaging, talking "
            "points and what not to say.",
            field_errors=missing,
        )
    today = today or org_today(org)
    days = notice_days(release, today=today)
    reason = (late_notice_reason or "").strip()
    late = release.customer_facing and days < NOTICE_DAYS
    if late and not reason:
        message = (
            f"CS gets {NOTICE_DAYS} days' notice of a customer-facing release; this one ships "
            f"in {days} day{'s' if days != 1 else ''}. Record why the notice is late."
        )
        raise ApplicationError(message, field_errors={"late_notice_reason": [message]})
    release.status = ReleaseStatus.ANNOUNCED
    release.announced_at = timezone.now()
    release.announced_by = actor
    release.late_notice_reason = reason if late else ""
    release.save()
    audit_record(
        org=org,
        actor=actor.user,
        action="release.announce",
        target=release,
        changes={
            "notice_days": days,
            "release_date": release.release_date,
            **({"late_notice_reason": release.late_notice_reason} if late else {}),
        },
    )
    url = release_url(org, release)
    day = release.release_date
    when = f"{day:%b} {day.day}, {day.year}"
    body = (
        f"{release.name} ships on {when}."
        + (
            f"\n\nApproved messaging: {release.messaging}"
            if release.customer_facing
            else "\n\nNo customer-facing impact."
        )
        + ("\n\nRead the CS brief before you talk to customers." if release.customer_facing else "")
    )
    for member in _active_csms(org):
        notification_create(
            org=org,
            recipient=member,
            kind="release.announced",
            title=f"Upcoming release: {release.name} ({when})",
            body=body,
            url=url,
            dedupe_key=f"release-announce:{release.pk}:{member.pk}",
        )
    return release


@dataclass
class ShipResult:
    release: Release
    items_shipped: list[RoadmapItem]
    themes_shipped: list[Theme]
    beta_csms: list[Membership]  # notified first, in this order
    other_csms: list[Membership]


def item_set_delivery(
    *,
    org: Organization,
    actor: Membership,
    item: RoadmapItem,
    status: str,
    cause: str,
    **data: object,
) -> bool:
    """Move one item's delivery status, with its history row and audit event. The caller
    holds the item's row lock. Returns False when it was already there."""
    old = item.delivery_status
    if old == status:
        return False
    item.delivery_status = status
    item.save(update_fields=["delivery_status", "updated_at"])
    RoadmapItemEvent.objects.for_org(org).create(
        organization=org,
        item=item,
        kind="delivery_changed",
        actor=actor,
        data={"old": old, "new": status, "cause": cause, **data},
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="roadmap_item.delivery",
        target=item,
        changes={"delivery_status": [old, status], "cause": cause},
    )
    return True


def participant_accounts_by_csm(org: Organization, item_ids: list[int]) -> dict[int, set[str]]:
    """CSM membership id -> the names of their accounts in a beta (open or closed) of these
    items. Only accounts with an owning CSM count."""
    by_csm: dict[int, set[str]] = defaultdict(set)
    rows = (
        BetaParticipant.objects.for_org(org)
        .filter(beta__item_id__in=item_ids, account__csm__isnull=False)
        .values_list("account__csm_id", "account__name")
    )
    for csm_id, account_name in rows:
        by_csm[csm_id].add(account_name)
    return by_csm


def feedback_accounts_by_csm(org: Organization, theme_ids: list[int]) -> dict[int, set[str]]:
    """Membership id of whoever logged feedback in these themes -> its accounts' names."""
    by_csm: dict[int, set[str]] = defaultdict(set)
    if not theme_ids:
        return by_csm
    rows = (
        Feedback.objects.for_org(org)
        .filter(theme_id__in=theme_ids, logged_by__isnull=False, archived_at__isnull=True)
        .values_list("logged_by_id", "account__name")
    )
    for member_id, account_name in rows:
        by_csm[member_id].add(account_name)
    return by_csm


def ordered_recipients(
    org: Organization,
    actor: Membership,
    beta: dict[int, set[str]],
    feedback: dict[int, set[str]],
) -> tuple[list[Membership], list[Membership]]:
    """Active members to tell, beta participants' CSMs first (each group by name)."""
    ids = set(beta) | set(feedback)
    members = {
        m.pk: m
        for m in Membership.objects.for_org(org)
        .filter(pk__in=ids, is_active=True)
        .exclude(pk=actor.pk)
        .select_related("user")
    }

    def by_name(pks: set[int]) -> list[Membership]:
        chosen = [members[pk] for pk in pks if pk in members]
        return sorted(chosen, key=lambda m: (m.user.display_name.lower(), m.pk))

    first = by_name(set(beta))
    rest = by_name(set(feedback) - set(beta))
    return first, rest


@transaction.atomic
def release_ship(*, org: Organization, actor: Membership, release: Release) -> ShipResult:
    """Mark the release shipped and close the loop, exactly once.

    Its items become ``shipped`` (history row and audit each), the themes linked to them
    become ``shipped`` (through ``theme_set_status``, without its per-theme notices), and
    every CSM with something to tell a customer gets ONE notice for the release listing the
    accounts to tell. The CSMs of beta participants are written (and their emails enqueued)
    before everyone else, so they hear first. A second attempt is refused, so nobody is
    told twice; the dedupe keys would refuse a duplicate even then.
    """
    release = _locked(org, release)
    if release.status == ReleaseStatus.SHIPPED:
        shipped_on = timezone.localtime(release.shipped_at, org.tzinfo).date()
        raise ApplicationError(f"This release already shipped on {shipped_on:%b} {shipped_on.day}.")
    if release.customer_facing and release.status != ReleaseStatus.ANNOUNCED:
        raise ApplicationError(
            "Announce this customer-facing release to CS before shipping it: CSMs must have "
            "the brief before customers see the change."
        )
    items = list(
        RoadmapItem.objects.for_org(org)
        .select_for_update(of=("self",))
        .filter(release_items__release=release)
        .order_by("pk")
    )
    if not items:
        raise ApplicationError("This release has no roadmap items to ship.")
    cancelled = [item.title for item in items if item.delivery_status == Delivery.CANCELLED]
    if cancelled:
        raise ApplicationError(
            f"Cancelled items cannot ship: {', '.join(cancelled)}. Edit the release first."
        )
    now = timezone.now()
    release.status = ReleaseStatus.SHIPPED
    release.shipped_at = now
    release.shipped_by = actor
    release.save()
    cause = f"release:{release.pk}"
    shipped_items = [
        item
        for item in items
        if item_set_delivery(
            org=org,
            actor=actor,
            item=item,
            status=Delivery.SHIPPED,
            cause=cause,
            release_id=release.pk,
        )
    ]
    item_ids = [item.pk for item in items]
    themes = list(
        Theme.objects.for_org(org)
        .filter(roadmap_item_id__in=item_ids, merged_into__isnull=True)
        .exclude(status=ThemeStatus.ARCHIVED)
        .order_by("pk")
    )
    themes_shipped = []
    for theme in themes:
        if theme.status != ThemeStatus.SHIPPED:
            theme_set_status(
                org=org, actor=actor, theme=theme, status=ThemeStatus.SHIPPED, notify=False
            )
            themes_shipped.append(theme)
    beta = participant_accounts_by_csm(org, item_ids)
    feedback = feedback_accounts_by_csm(org, [t.pk for t in themes])
    first, rest = ordered_recipients(org, actor, beta, feedback)
    url = release_url(org, release)
    for member in first + rest:
        notification_create(
            org=org,
            recipient=member,
            kind="release.shipped",
            title=f"Shipped: {release.name} — tell your accounts",
            body=_ship_body(release, items, beta.get(member.pk), feedback.get(member.pk)),
            url=url,
            dedupe_key=f"release-shipped:{release.pk}:{member.pk}",
        )
    audit_record(
        org=org,
        actor=actor.user,
        action="release.ship",
        target=release,
        changes={
            "items": [item.title for item in items],
            "themes": [theme.title for theme in themes_shipped],
            "notified": len(first) + len(rest),
        },
    )
    webhook_event_emit(
        org=org,
        event=WebhookEvent.RELEASE_SHIPPED,
        data={
            "release": {
                "id": release.pk,
                "name": release.name,
                "release_date": release.release_date.isoformat(),
                "customer_facing": release.customer_facing,
                "shipped_at": now.isoformat(),
            },
            "items": [{"id": item.pk, "title": item.title} for item in items],
            "themes": [{"id": theme.pk, "title": theme.title} for theme in themes],
        },
    )
    return ShipResult(
        release=release,
        items_shipped=shipped_items,
        themes_shipped=themes_shipped,
        beta_csms=first,
        other_csms=rest,
    )


def _ship_body(
    release: Release,
    items: list[RoadmapItem],
    beta_accounts: set[str] | None,
    feedback_accounts: set[str] | None,
) -> str:
    parts = [f"{release.name} has shipped: {', '.join(item.title for item in items)}."]
    if beta_accounts:
        parts.append(
            "Your beta participants (tell them first, and thank them): "
            + ", ".join(sorted(beta_accounts))
            + "."
        )
    others = sorted((feedback_accounts or set()) - (beta_accounts or set()))
    if others:
        parts.append("Accounts that asked for it: " + ", ".join(others) + ".")
    if release.customer_facing and release.messaging:
        parts.append(f"Approved messaging: {release.messaging}")
    if release.customer_facing and release.do_not_say:
        parts.append(f"Do not say: {release.do_not_say}")
    if not release.messaging:
        parts.append(f"What you can tell them: {customer_wording(ThemeStatus.SHIPPED)}")
    return "\n\n".join(parts)

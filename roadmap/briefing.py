"""The monthly roadmap briefing to every CSM: what changed last month, what ships next.

Sent on the first days of each month (Celery beat), one notification per active CSM, with
the same text readable in the app on the briefing page. It covers, for the calendar month
before the one it is sent in (in the organization's timezone):

- tier changes, quarter moves of committed items, and cancellations, read from the items'
  history (``RoadmapItemEvent``), only for items a CSM may see: internal items never appear,
  and quarters appear only for committed items (a planned item has no date CSMs may repeat);
- releases announced to CS whose date falls in the next 30 days.

"Nothing changed on the roadmap this month" is itself news, so an empty briefing is sent too.
The beat entry runs several times on days 1 and 2; each run is a catch-up sweep and the
dedupe key ``briefing:<YYYY-MM>:<membership id>`` makes every CSM's briefing exactly-once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone

from alignment.models import Membership, Organization, Role
from alignment.services.audit import audit_source
from alignment.services.notifications import notification_create
from alignment.tenancy import cross_tenant_system_context, tenant_context
from roadmap.models import (
    Delivery,
    Release,
    ReleaseStatus,
    RoadmapItem,
    RoadmapItemEvent,
    Tier,
    Visibility,
)

UPCOMING_DAYS = 30
# The sweep sends a month's briefing only this early in the month: an organization created
# late in a month does not receive a stale briefing for it.
SEND_WINDOW_DAYS = 7
NOTHING_CHANGED = "Nothing changed on the roadmap this month."

# Item history kinds (written by roadmap/services_items.py and services_releases.py, each
# with ``data={"old": ..., "new": ...}``) and the change each one reports.
_EVENT_FIELDS = {
    "tier_changed": "tier",
    "quarter_changed": "quarter",
    "delivery_changed": "delivery",
}


@dataclass(frozen=True)
class BriefingLine:
    item_id: int
    item_title: str
    nda: bool
    kind: str  # tier, slip, pulled_in, cancelled
    text: str
    at: datetime.datetime


@dataclass
class Briefing:
    month: datetime.date  # the first day of the month it is sent in
    period_start: datetime.date  # the month it reports on
    period_end: datetime.date  # exclusive
    today: datetime.date
    changes: list[BriefingLine] = field(default_factory=list)
    upcoming: list[Release] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def reported_month_label(self) -> str:
        return self.period_start.strftime("%B %Y")

    @property
    def nothing_changed(self) -> bool:
        return not self.changes

    @property
    def title(self) -> str:
        return f"Roadmap briefing for {self.month.strftime('%B %Y')}"

    def as_text(self) -> str:
        lines = [f"Changes in {self.reported_month_label}:"]
        if self.changes:
            lines += [f"- {c.item_title}: {c.text}" for c in self.changes]
        else:
            lines.append(NOTHING_CHANGED)
        lines += ["", f"Shipping in the next {UPCOMING_DAYS} days:"]
        if self.upcoming:
            lines += [
                f"- {r.release_date:%b} {r.release_date.day}: {r.name}"
                + (" (shipped)" if r.status == ReleaseStatus.SHIPPED else "")
                + (" — customer-facing: read the CS brief" if r.customer_facing else "")
                for r in self.upcoming
            ]
        else:
            lines.append("No release is announced for the next 30 days.")
        return "\n".join(lines)


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _previous_month(first: datetime.date) -> datetime.date:
    return _month_start(first - datetime.timedelta(days=1))


def _local_midnight(org: Organization, day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=org.tzinfo)


def event_changes(event: RoadmapItemEvent) -> list[tuple[str, Any, Any]]:
    """The (field, old, new) change a history event records, if the briefing reports it."""
    field_name = _EVENT_FIELDS.get(event.kind)
    if field_name is None:
        return []
    data = event.data if isinstance(event.data, dict) else {}
    return [(field_name, data.get("old"), data.get("new"))]


def _tier_label(value: Any) -> str:
    try:
        return Tier(value).label
    except ValueError:
        return str(value or "none")


def _describe(item: RoadmapItem, field_name: str, old: Any, new: Any) -> tuple[str, str] | None:
    """What a CSM may read about one change, or None when it is not theirs to know."""
    if field_name == "tier" and old != new and new:
        text = f"{_tier_label(old)} → {_tier_label(new)}"
        if new == Tier.COMMITTED and item.tier == Tier.COMMITTED and item.target_quarter:
            text += f" (committed for {item.target_quarter})"
        elif old == Tier.COMMITTED:
            text += " — no longer committed: revisit anything you told customers about it"
        return "tier", text
    if field_name == "quarter" and old and new and old != new:
        # Planned quarters are internal: only a committed item's quarter is quotable.
        if item.tier != Tier.COMMITTED:
            return None
        if str(new) > str(old):
            return "slip", f"slipped from {old} to {new}"
        return "pulled_in", f"moved up from {old} to {new}"
    if field_name == "delivery" and new == Delivery.CANCELLED and old != new:
        return "cancelled", "cancelled — tell any customer who was expecting it"
    return None


def briefing_build(*, org: Organization, today: datetime.date | None = None) -> Briefing:
    """The briefing of the month ``today`` falls in (in the organization's timezone)."""
    today = today or timezone.localdate(timezone=org.tzinfo)
    month = _month_start(today)
    period_start = _previous_month(month)
    briefing = Briefing(month=month, period_start=period_start, period_end=month, today=today)
    events = (
        RoadmapItemEvent.objects.for_org(org)
        .filter(
            created_at__gte=_local_midnight(org, period_start),
            created_at__lt=_local_midnight(org, month),
        )
        .exclude(item__visibility=Visibility.INTERNAL)
        .select_related("item")
        .order_by("created_at", "pk")
    )
    for event in events:
        item = event.item
        for field_name, old, new in event_changes(event):
            described = _describe(item, field_name, old, new)
            if described is None:
                continue
            kind, text = described
            briefing.changes.append(
                BriefingLine(
                    item_id=item.pk,
                    item_title=item.title,
                    nda=item.visibility == Visibility.NDA,
                    kind=kind,
                    text=text,
                    at=event.created_at,
                )
            )
    briefing.upcoming = list(
        Release.objects.for_org(org)
        .filter(
            # Shipped ones stay listed (shipped early, or an earlier month's briefing re-read).
            status__in=[ReleaseStatus.ANNOUNCED, ReleaseStatus.SHIPPED],
            release_date__gte=today,
            release_date__lte=today + datetime.timedelta(days=UPCOMING_DAYS),
        )
        .order_by("release_date", "pk")
    )
    return briefing


def briefing_dedupe_key(briefing: Briefing, member: Membership) -> str:
    return f"briefing:{briefing.key}:{member.pk}"


def briefing_send(*, org: Organization, today: datetime.date | None = None) -> int:
    """Send this month's briefing to every active CSM who has not had it. Returns how many
    were sent now (0 on a second run: the dedupe key refuses repeats)."""
    briefing = briefing_build(org=org, today=today)
    url = reverse("roadmap:briefing", kwargs={"org_slug": org.slug}) + f"?month={briefing.key}"
    body = briefing.as_text()
    title = briefing.title + (" — nothing changed" if briefing.nothing_changed else "")
    sent = 0
    csms = Membership.objects.for_org(org).filter(role=Role.CSM, is_active=True).order_by("pk")
    for member in csms:
        created = notification_create(
            org=org,
            recipient=member,
            kind="roadmap.briefing",
            title=title,
            body=body,
            url=url,
            dedupe_key=briefing_dedupe_key(briefing, member),
        )
        sent += created is not None
    return sent


@dataclass
class BriefingRun:
    organizations: int = 0
    sent: int = 0


def monthly_briefings_send(*, now: datetime.datetime | None = None) -> BriefingRun:
    """The beat sweep: each organization, in its own context, early in its own month."""
    now = now or timezone.now()
    result = BriefingRun()
    # A system job: the one place that lists every organization, and only their ids.
    with cross_tenant_system_context():
        org_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    with audit_source("task", label="Monthly roadmap briefing"):
        for org_id in org_ids:
            with tenant_context(org_id):
                org = Organization.objects.get(pk=org_id)
                today = timezone.localtime(now, org.tzinfo).date()
                if today.day > SEND_WINDOW_DAYS:
                    continue
                result.organizations += 1
                result.sent += briefing_send(org=org, today=today)
    return result

"""Demo data for releases, betas and the monthly briefing (called by ``seed_demo``).

Idempotent: a second run finds the demo releases and changes nothing. Everything goes
through the services, so the demo carries the same notifications and audit trail as real use.
Runs inside the caller's ``tenant_context(org)``.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from alignment.models import Account, LifecycleStage, Membership, Organization
from feedback.models import Feedback, Theme, ThemeStatus
from feedback.services import theme_set_status
from roadmap import services_betas, services_releases
from roadmap.models import (
    Delivery,
    Release,
    RoadmapItem,
    RoadmapItemEvent,
    SelectionReason,
    Tier,
    Visibility,
)

MARKER = "Analytics release: scheduled reports"


def _item(
    org: Organization, title: str, *, delivery: str, visibility: str = Visibility.PUBLIC
) -> RoadmapItem:
    item = RoadmapItem.objects.for_org(org).filter(title=title).first()
    if item is None:
        item = RoadmapItem.objects.for_org(org).create(
            organization=org,
            title=title,
            tier=Tier.PLANNED,
            delivery_status=delivery,
            visibility=visibility,
        )
    return item


def _reports_item(org: Organization, pm: Membership) -> RoadmapItem:
    """The item behind the "Scheduled PDF reports" theme: the one already linked (another
    seed may have put it on the roadmap), else a new one, linked so shipping closes its loop."""
    theme = Theme.objects.for_org(org).filter(title="Scheduled PDF reports").first()
    if theme is not None and theme.roadmap_item_id:
        linked = RoadmapItem.objects.for_org(org).get(pk=theme.roadmap_item_id)
        if linked.delivery_status not in (Delivery.SHIPPED, Delivery.CANCELLED):
            return linked
    item = _item(org, "Scheduled PDF reports", delivery=Delivery.IN_DEVELOPMENT)
    if theme is not None and theme.roadmap_item_id is None and not theme.merged_into_id:
        theme_set_status(
            org=org,
            actor=pm,
            theme=theme,
            status=ThemeStatus.ON_ROADMAP,
            roadmap_item=item,
            notify=False,
        )
    return item


def seed(*, org: Organization, members: dict[str, Membership], rng: random.Random) -> None:
    if Release.objects.for_org(org).filter(name=MARKER).exists():
        return
    pm, csm = members["pm"], members["csm"]
    manager = members.get("pmm") or pm
    today = timezone.localdate(timezone=org.tzinfo)

    # An announced customer-facing release, three weeks out, with its brief.
    reports = _reports_item(org, pm)
    announced = services_releases.release_create(
        org=org,
        actor=manager,
        data=services_releases.ReleaseData(
            name=MARKER,
            release_date=today + datetime.timedelta(days=21),
            messaging=(
                "Reports can now be scheduled as PDFs to any list of recipients, daily, "
                "weekly or monthly."
            ),
            talking_points=(
                "Replaces the manual Monday export most admins run today\n"
                "Recipients need no Seam seat\n"
                "Available on every plan; admins turn it on per workspace"
            ),
            do_not_say=(
                "Do not promise custom branding of the PDF or delivery to Slack: neither is "
                "in this release."
            ),
            items=[reports],
        ),
    )
    services_releases.release_announce(org=org, actor=manager, release=announced, today=today)

    # A draft only ten days out: announcing it will ask for the reason the notice is late.
    audit_export = _item(
        org, "Audit log export to S3", delivery=Delivery.IN_DEVELOPMENT, visibility=Visibility.NDA
    )
    services_releases.release_create(
        org=org,
        actor=pm,
        data=services_releases.ReleaseData(
            name="Audit log export",
            release_date=today + datetime.timedelta(days=10),
            messaging="Enterprise admins can stream the audit log to their own S3 bucket.",
            talking_points="Hourly delivery\nJSON lines, one event per line",
            do_not_say="Do not mention other storage targets yet.",
            items=[audit_export],
        ),
    )

    # A shipped internal release from last week.
    perf = _item(org, "Faster account search", delivery=Delivery.IN_DEVELOPMENT)
    shipped = services_releases.release_create(
        org=org,
        actor=pm,
        data=services_releases.ReleaseData(
            name="Search performance",
            release_date=today - datetime.timedelta(days=5),
            customer_facing=False,
            items=[perf],
        ),
    )
    services_releases.release_ship(org=org, actor=pm, release=shipped)

    # A running beta with participants chosen for a reason, and one closed with its retro.
    alerts = _item(org, "Usage alerts", delivery=Delivery.BETA)
    accounts = list(
        Account.objects.for_org(org)
        .exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .filter(csm__isnull=False)
        .order_by("-arr", "pk")[:12]
    )
    rng.shuffle(accounts)
    beta = services_betas.beta_create(
        org=org,
        actor=pm,
        data=services_betas.BetaData(
            item=alerts,
            name="Usage alerts beta",
            cs_owner=csm,
            pm=pm,
            starts_on=today - datetime.timedelta(days=20),
            ends_on=today + datetime.timedelta(days=25),
        ),
    )
    reasons = [
        (SelectionReason.ARR, "Top-ARR account, exec sponsor asked to be early"),
        (SelectionReason.HEALTH, "Healthy and engaged; gives structured feedback"),
        (SelectionReason.ADVOCACY, "Reference customer"),
        (SelectionReason.NEED, "Raised usage spikes in their last QBR"),
    ]
    for account, (reason, note) in zip(accounts[:4], reasons, strict=False):
        services_betas.beta_participant_add(
            org=org, actor=pm, beta=beta, account=account, reason=reason, note=note
        )
    tagged = (
        Feedback.objects.for_org(org)
        .filter(account__in=accounts[:4], beta__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if tagged is not None:
        services_betas.beta_feedback_tag(org=org, actor=pm, beta=beta, feedback=tagged)

    slack = _item(org, "Slack notifications", delivery=Delivery.BETA)
    closed = services_betas.beta_create(
        org=org,
        actor=pm,
        data=services_betas.BetaData(
            item=slack,
            name="Slack notifications beta",
            cs_owner=members.get("csm2") or csm,
            pm=pm,
            starts_on=today - datetime.timedelta(days=75),
            ends_on=today - datetime.timedelta(days=15),
        ),
    )
    for account in accounts[4:7]:
        services_betas.beta_participant_add(
            org=org,
            actor=pm,
            beta=closed,
            account=account,
            reason=SelectionReason.HEALTH,
            note="Heavy Slack users",
        )
    services_betas.beta_close(
        org=org,
        actor=pm,
        beta=closed,
        actioned="Per-channel routing and a daily digest option.",
        not_actioned="Threaded replies back into Seam.",
        why="Only one participant asked for replies; the Slack API limits made it costly.",
    )
    services_betas.roadmap_item_mark_ga(org=org, actor=pm, item=slack, beta=closed)

    # History for the monthly briefing: last month, "Usage alerts" moved up to planned.
    first_of_month = today.replace(day=1)
    mid_last_month = (first_of_month - datetime.timedelta(days=1)).replace(day=15)
    RoadmapItemEvent.objects.for_org(org).create(
        organization=org,
        item=alerts,
        kind="tier_changed",
        actor=pm,
        data={"old": Tier.EXPLORING, "new": Tier.PLANNED},
        created_at=datetime.datetime.combine(
            mid_last_month, datetime.time(15, 0), tzinfo=org.tzinfo
        ),
    )

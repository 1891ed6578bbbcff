"""The monthly roadmap briefing: what CSMs may read about last month, sent once to each."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from alignment.models import Notification, Role
from alignment.tenancy import tenant_context
from roadmap import briefing
from roadmap.models import (
    Delivery,
    Release,
    ReleaseStatus,
    RoadmapItem,
    RoadmapItemEvent,
    Tier,
    Visibility,
)
from roadmap.tasks import send_monthly_briefings_task

# April 1, 2026, 08:17 in New York: the briefing of April reports on March.
SEND_AT = datetime.datetime(2026, 4, 1, 12, 17, tzinfo=datetime.UTC)
IN_MARCH = datetime.datetime(2026, 3, 15, 15, 0, tzinfo=datetime.UTC)


def item(org, title, **kw):
    kw.setdefault("visibility", Visibility.PUBLIC)
    with tenant_context(org):
        return RoadmapItem.objects.for_org(org).create(organization=org, title=title, **kw)


def event(org, target, kind, at=IN_MARCH, **data):
    with tenant_context(org):
        return RoadmapItemEvent.objects.for_org(org).create(
            organization=org, item=target, kind=kind, data=data, created_at=at
        )


def committed(org, pm, title, quarter):
    return item(
        org,
        title,
        tier=Tier.COMMITTED,
        dev_owner="Platform team",
        target_quarter=quarter,
        signed_off_by=pm,
        signed_off_at=IN_MARCH,
    )


def briefings(org):
    with tenant_context(org):
        return list(
            Notification.objects.for_org(org).filter(kind="roadmap.briefing").order_by("pk")
        )


def build(org, today=datetime.date(2026, 4, 1)):
    with tenant_context(org):
        return briefing.briefing_build(org=org, today=today)


def test_it_reports_tier_changes_slips_and_cancellations_of_last_month(org_a, pm_a):
    slipped = committed(org_a, pm_a, "SSO for everyone", "2026-Q3")
    dropped = item(org_a, "Custom dashboards", tier=Tier.PLANNED)
    gone = item(org_a, "Legacy importer", delivery_status=Delivery.CANCELLED)
    event(org_a, slipped, "quarter_changed", old="2026-Q2", new="2026-Q3")
    event(org_a, dropped, "tier_changed", old=Tier.COMMITTED, new=Tier.PLANNED)
    event(org_a, gone, "delivery_changed", old=Delivery.DISCOVERY, new=Delivery.CANCELLED)
    report = build(org_a)
    lines = {(c.item_title, c.kind) for c in report.changes}
    assert lines == {
        ("SSO for everyone", "slip"),
        ("Custom dashboards", "tier"),
        ("Legacy importer", "cancelled"),
    }
    text = report.as_text()
    assert "slipped from 2026-Q2 to 2026-Q3" in text
    assert "Committed → Planned" in text


def test_internal_items_and_planned_quarters_never_reach_csms(org_a, pm_a):
    secret = item(org_a, "Project Falcon", visibility=Visibility.INTERNAL, tier=Tier.PLANNED)
    planned = item(org_a, "Bulk edit", tier=Tier.PLANNED, target_quarter="2026-Q4")
    event(org_a, secret, "tier_changed", old=Tier.EXPLORING, new=Tier.PLANNED)
    event(org_a, planned, "quarter_changed", old="2026-Q3", new="2026-Q4")
    report = build(org_a)
    assert report.changes == []
    assert "Falcon" not in report.as_text() and "2026-Q4" not in report.as_text()


def test_only_last_month_in_the_organizations_timezone_counts(org_a, pm_a):
    target = item(org_a, "Webhooks v2", tier=Tier.PLANNED)
    # 03:00 UTC on April 1 is still March 31 in New York: it counts.
    event(
        org_a,
        target,
        "tier_changed",
        at=datetime.datetime(2026, 4, 1, 3, 0, tzinfo=datetime.UTC),
        old=Tier.EXPLORING,
        new=Tier.PLANNED,
    )
    # February is not last month.
    event(
        org_a,
        target,
        "tier_changed",
        at=datetime.datetime(2026, 2, 27, 15, 0, tzinfo=datetime.UTC),
        old=Tier.PLANNED,
        new=Tier.EXPLORING,
    )
    assert [c.text for c in build(org_a).changes] == ["Exploring → Planned"]


def test_it_lists_releases_announced_for_the_next_30_days(org_a, pm_a):
    with tenant_context(org_a):
        for name, days, status in (
            ("Soon", 10, ReleaseStatus.ANNOUNCED),
            ("Edge", 30, ReleaseStatus.ANNOUNCED),
            ("Too far", 31, ReleaseStatus.ANNOUNCED),
            ("Still a draft", 5, ReleaseStatus.DRAFT),
        ):
            Release.objects.for_org(org_a).create(
                organization=org_a,
                name=name,
                status=status,
                release_date=datetime.date(2026, 4, 1) + datetime.timedelta(days=days),
            )
    assert [r.name for r in build(org_a).upcoming] == ["Soon", "Edge"]


def test_every_active_csm_gets_it_once_even_when_nothing_changed(org_a, csm_a, pm_a, make_member):
    second = make_member(org_a, Role.CSM)
    make_member(org_a, Role.CSM, is_active=False)
    with time_machine.travel(SEND_AT, tick=False):
        first = briefing.monthly_briefings_send()
        again = briefing.monthly_briefings_send()
    assert first.sent == 2 and again.sent == 0
    sent = briefings(org_a)
    assert [n.recipient_id for n in sent] == [csm_a.pk, second.pk]
    assert sent[0].dedupe_key == f"briefing:2026-04:{csm_a.pk}"
    assert "Nothing changed on the roadmap this month." in sent[0].body
    assert sent[0].url.endswith("/briefing/?month=2026-04")


def test_the_beat_task_covers_every_organization_in_its_own_context(org_a, org_b, csm_a, csm_b):
    with time_machine.travel(SEND_AT, tick=False):
        result = send_monthly_briefings_task.delay().get()
    assert result["sent"] == 2
    assert [n.recipient_id for n in briefings(org_a)] == [csm_a.pk]
    assert [n.recipient_id for n in briefings(org_b)] == [csm_b.pk]


def test_it_waits_for_the_organizations_own_new_month(org_a, csm_a):
    # 02:17 UTC on April 1 is still March 31 in New York: too late for March's briefing,
    # too early for April's. The next run, after midnight there, sends April's.
    with time_machine.travel(datetime.datetime(2026, 4, 1, 2, 17, tzinfo=datetime.UTC)):
        assert briefing.monthly_briefings_send().sent == 0
    with time_machine.travel(datetime.datetime(2026, 4, 1, 6, 17, tzinfo=datetime.UTC)):
        assert briefing.monthly_briefings_send().sent == 1


def test_the_beat_entry_runs_early_in_the_month_off_the_hour_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["send-monthly-roadmap-briefings"]
    assert entry["task"] == "roadmap.tasks.send_monthly_briefings_task"
    assert entry["options"]["expires"] > 0
    assert 0 not in entry["schedule"].minute
    assert entry["schedule"].day_of_month == {1, 2}


def test_csms_read_the_current_briefing_in_the_app(org_a, pm_a, csm_a, client_for):
    target = item(org_a, "Custom dashboards", tier=Tier.PLANNED)
    event(org_a, target, "tier_changed", old=Tier.COMMITTED, new=Tier.PLANNED)
    client = client_for(csm_a)
    with time_machine.travel(SEND_AT, tick=False):
        page = client.get(reverse("roadmap:briefing", args=[org_a.slug]))
        odd = client.get(reverse("roadmap:briefing", args=[org_a.slug]) + "?month=banana")
    assert page.status_code == 200
    assert "Custom dashboards" in page.content.decode()
    assert odd.status_code == 200


@pytest.mark.parametrize("month", ["2026-03", "2099-01"])
def test_another_months_briefing_can_be_reread(org_a, csm_a, client_for, month):
    with time_machine.travel(SEND_AT, tick=False):
        page = client_for(csm_a).get(
            reverse("roadmap:briefing", args=[org_a.slug]) + f"?month={month}"
        )
    assert page.status_code == 200

"""The quarterly backlog purge: what counts as stale, archiving without deleting, telling each
CSM once, restoring, the beat run across organizations and the Backlog hygiene page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from alignment.models import AuditEvent, Notification, Role
from alignment.tenancy import tenant_context
from feedback import purge, services
from feedback.models import ThemeStatus
from feedback.selectors_triage import triage_queue
from feedback.tasks import purge_backlog_task
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import AccountFactory

NOW = datetime.datetime(2025, 4, 1, 9, 23, tzinfo=datetime.UTC)
CUTOFF = datetime.datetime(2024, 4, 1, 9, 23, tzinfo=datetime.UTC)
LONG_AGO = datetime.datetime(2023, 9, 5, 15, 0, tzinfo=datetime.UTC)
RECENTLY = datetime.datetime(2025, 1, 15, 15, 0, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def free(org_a, csm_a):
    """An account paying nothing (a free tier, a churned customer), owned by csm_a."""
    return AccountFactory(organization=org_a, csm=csm_a, name="Freebie", arr=Decimal("0"))


@pytest.fixture
def paying(org_a, csm_a):
    return AccountFactory(organization=org_a, csm=csm_a, name="Payer", arr=Decimal("120000"))


@pytest.fixture
def hop_a(org_a, make_member):
    return make_member(
        org_a, Role.HEAD_OF_PRODUCT, user__email="hop@acme.test", user__full_name="Hana Head"
    )


def log(org, actor, account, words, at, theme=None):
    with time_machine.travel(at, tick=False), tenant_context(org):
        return services.feedback_log(
            org=org, actor=actor, account=account, verbatim=words, logged_at=at, theme=theme
        )


def new_theme(org, actor, title, at, status=ThemeStatus.UNDER_REVIEW, reason=""):
    with time_machine.travel(at, tick=False), tenant_context(org):
        return services.theme_create(
            org=org,
            actor=actor,
            data=services.NewTheme(title=title, status=status, not_planned_reason=reason),
        )


def run(org, actor=None, now=NOW):
    with time_machine.travel(now, tick=False), tenant_context(org):
        return purge.backlog_purge_run(org=org, actor=actor)


def preview(org, now=NOW):
    with time_machine.travel(now, tick=False), tenant_context(org):
        return purge.backlog_purge_preview(org=org)


def fresh(obj):
    with tenant_context(obj.organization_id):
        obj.refresh_from_db()
    return obj


def notifications(org, kind="backlog.purged"):
    with tenant_context(org):
        return list(Notification.objects.for_org(org).filter(kind=kind).select_related("recipient"))


def url(org, name, *args):
    return reverse(f"feedback:{name}", args=[org.slug, *args])


# --- What is stale ------------------------------------------------------------------------------


def test_feedback_is_archived_only_once_it_is_more_than_twelve_months_old(org_a, csm_a, free):
    at_the_line = log(org_a, csm_a, free, "Exactly twelve months", CUTOFF)
    just_over = log(org_a, csm_a, free, "One second more", CUTOFF - SECOND)
    result = run(org_a)
    assert result.feedback_ids == [just_over.pk]
    assert fresh(just_over).archived_at == NOW
    assert fresh(at_the_line).archived_at is None


def test_a_theme_is_archived_only_once_it_is_more_than_twelve_months_old(org_a, pm_a, csm_a, free):
    at_the_line = new_theme(org_a, pm_a, "At the line", CUTOFF)
    just_over = new_theme(org_a, pm_a, "Just over", CUTOFF - SECOND)
    log(org_a, csm_a, free, "Ask", CUTOFF - SECOND, theme=just_over)
    result = run(org_a)
    assert result.theme_ids == [just_over.pk]
    archived = fresh(just_over)
    assert (archived.status, archived.archived_by_purge) == (ThemeStatus.ARCHIVED, True)
    assert archived.status_before_archive == ThemeStatus.UNDER_REVIEW
    assert archived.archived_at == NOW
    assert fresh(at_the_line).status == ThemeStatus.UNDER_REVIEW


def test_an_account_with_arr_keeps_its_feedback_and_any_theme_it_is_in(
    org_a, pm_a, csm_a, free, paying
):
    theme = new_theme(org_a, pm_a, "Mixed accounts", LONG_AGO)
    log(org_a, csm_a, free, "Free ask", LONG_AGO, theme=theme)
    log(org_a, csm_a, paying, "Paying ask", LONG_AGO, theme=theme)
    paying_untriaged = log(org_a, csm_a, paying, "Queued paying ask", LONG_AGO)
    result = run(org_a)
    assert result.theme_ids == [] and result.feedback_ids == []
    assert fresh(theme).status == ThemeStatus.UNDER_REVIEW
    assert fresh(paying_untriaged).archived_at is None


def test_recent_activity_keeps_an_old_theme(org_a, pm_a, csm_a, free):
    status_changed = new_theme(org_a, pm_a, "Status changed lately", LONG_AGO)
    with time_machine.travel(RECENTLY, tick=False), tenant_context(org_a):
        services.theme_set_status(
            org=org_a,
            actor=pm_a,
            theme=status_changed,
            status=ThemeStatus.NOT_PLANNED,
            reason="Out of scope",
        )
    new_feedback = new_theme(org_a, pm_a, "Fresh feedback", LONG_AGO)
    log(org_a, csm_a, free, "Asked again", RECENTLY, theme=new_feedback)
    attached = new_theme(org_a, pm_a, "Attached lately", LONG_AGO)
    old_ask = log(org_a, csm_a, free, "Old ask", LONG_AGO)
    with time_machine.travel(RECENTLY, tick=False), tenant_context(org_a):
        services.feedback_attach(org=org_a, actor=pm_a, feedback=old_ask, theme=attached)
    stale = new_theme(org_a, pm_a, "Nobody cares", LONG_AGO)
    assert run(org_a).theme_ids == [stale.pk]


def test_recent_activity_keeps_old_untriaged_feedback(org_a, pm_a, csm_a, free):
    theme = new_theme(org_a, pm_a, "Wrong group", LONG_AGO)
    detached = log(org_a, csm_a, free, "Put back lately", LONG_AGO, theme=theme)
    with time_machine.travel(RECENTLY, tick=False), tenant_context(org_a):
        services.feedback_detach(org=org_a, actor=pm_a, feedback=detached)
    untouched = log(org_a, csm_a, free, "Untouched", LONG_AGO)
    assert run(org_a).feedback_ids == [untouched.pk]


def test_decided_themes_are_never_purged(org_a, pm_a, make_member):
    on_roadmap = new_theme(org_a, pm_a, "Decided", LONG_AGO)
    with time_machine.travel(LONG_AGO, tick=False), tenant_context(org_a):
        services.theme_set_status(org=org_a, actor=pm_a, theme=on_roadmap, status="shipped")
    not_planned = new_theme(
        org_a, pm_a, "Declined", LONG_AGO, status=ThemeStatus.NOT_PLANNED, reason="Not our market"
    )
    result = run(org_a)
    assert result.theme_ids == [not_planned.pk]
    assert fresh(on_roadmap).status == ThemeStatus.SHIPPED
    assert fresh(not_planned).status_before_archive == ThemeStatus.NOT_PLANNED


# --- Dry run ------------------------------------------------------------------------------------


def test_the_dry_run_lists_what_would_be_archived_and_writes_nothing(org_a, pm_a, csm_a, free):
    theme = new_theme(org_a, pm_a, "Stale theme", LONG_AGO)
    log(org_a, csm_a, free, "In the theme", LONG_AGO, theme=theme)
    older = log(org_a, csm_a, free, "Oldest ask", LONG_AGO - datetime.timedelta(days=30))
    with tenant_context(org_a):
        audits = AuditEvent.objects.for_org(org_a).count()
    result = preview(org_a)
    assert (result.theme_count, result.feedback_count, result.total) == (1, 1, 2)
    assert [t.title for t in result.themes] == ["Stale theme"]
    assert [f.pk for f in result.feedback] == [older.pk]
    assert result.oldest == older.created_at
    assert result.themes[0].last_activity_at == LONG_AGO
    assert fresh(theme).status == ThemeStatus.UNDER_REVIEW
    assert fresh(older).archived_at is None
    with tenant_context(org_a):
        assert AuditEvent.objects.for_org(org_a).count() == audits
    assert notifications(org_a) == []


# --- Running: notify once, audit, webhooks --------------------------------------------------------


def test_each_csm_hears_once_per_run_and_a_repeated_run_tells_nobody_again(
    org_a, pm_a, csm_a, make_member, free
):
    other = make_member(org_a, Role.CSM, user__email="csm2@acme.test")
    theme = new_theme(org_a, pm_a, "Dark mode", LONG_AGO)
    log(org_a, csm_a, free, "Dark mode please", LONG_AGO, theme=theme)
    log(org_a, csm_a, free, "Export to PDF", LONG_AGO)
    log(org_a, other, free, "Another ask", LONG_AGO)
    first = run(org_a)
    second = run(org_a, now=NOW + datetime.timedelta(minutes=5))
    sent = notifications(org_a)
    assert (first.total, first.notified, second.total) == (3, 2, 0)
    assert sorted(n.recipient.user.email for n in sent) == ["csm2@acme.test", "csm@acme.test"]
    mine = next(n for n in sent if n.recipient == csm_a)
    assert mine.title == "2 stale items you raised were archived"
    assert "Theme “Dark mode”" in mine.body
    assert "Freebie: “Export to PDF”" in mine.body
    with tenant_context(org_a):
        runs = list(AuditEvent.objects.for_org(org_a).filter(action="backlog.purged"))
    assert [r.changes["themes_archived"] + r.changes["feedback_archived"] for r in runs] == [3, 0]
    assert runs[0].changes["theme_ids"] == [theme.pk]


def test_archiving_and_restoring_a_theme_emits_webhooks_and_history(
    org_a, pm_a, admin_a, csm_a, free
):
    with tenant_context(org_a):
        WebhookEndpoint.objects.for_org(org_a).create(
            organization=org_a,
            url="https://hooks.example.test/seam",
            events=[WebhookEvent.THEME_STATUS_CHANGED.value],
            secret="s3cret",
        )
    theme = new_theme(org_a, pm_a, "Legacy import", LONG_AGO)
    run(org_a)
    with tenant_context(org_a):
        purge.theme_restore(org=org_a, actor=admin_a, theme=theme)
        payloads = [
            d.payload["data"] for d in WebhookDelivery.objects.for_org(org_a).order_by("pk")
        ]
    assert [(p["old_status"], p["status"]) for p in payloads] == [
        ("under_review", "archived"),
        ("archived", "under_review"),
    ]
    page = pm_client(pm_a).get(url(org_a, "theme-detail", theme.pk)).content.decode()
    assert "Status changed to archived: Archived by the backlog purge" in page


def pm_client(member):
    from django.test import Client

    client = Client()
    client.force_login(member.user)
    return client


# --- Restoring ----------------------------------------------------------------------------------


def test_restoring_a_theme_brings_back_its_status_and_tells_its_csms(
    org_a, pm_a, admin_a, csm_a, free
):
    theme = new_theme(
        org_a,
        pm_a,
        "Declined long ago",
        LONG_AGO,
        status=ThemeStatus.NOT_PLANNED,
        reason="Not our market",
    )
    log(org_a, csm_a, free, "Please", LONG_AGO, theme=theme)
    run(org_a)
    with tenant_context(org_a):
        restored = purge.theme_restore(org=org_a, actor=admin_a, theme=theme)
        audit = AuditEvent.objects.for_org(org_a).get(action="theme.restore")
    assert restored.status == ThemeStatus.NOT_PLANNED
    assert (restored.archived_at, restored.archived_by_purge, restored.status_before_archive) == (
        None,
        False,
        "",
    )
    assert audit.actor == admin_a.user
    assert [n.title for n in notifications(org_a, "theme.status")] == [
        "“Declined long ago” is now not planned"
    ]
    # Restored means cared about: the next run leaves it alone.
    assert run(org_a, now=NOW + datetime.timedelta(days=1)).theme_ids == []


def test_restoring_feedback_puts_it_back_in_the_queue_with_its_original_clock(
    org_a, admin_a, csm_a, free
):
    item = log(org_a, csm_a, free, "Old ask", LONG_AGO)
    due, remind = item.due_at, item.remind_at
    run(org_a)
    with tenant_context(org_a):
        assert item.pk not in {f.pk for f in triage_queue(org=org_a, area_ids=None)}
        purge.feedback_restore(org=org_a, actor=admin_a, feedback=item)
        queue = {f.pk for f in triage_queue(org=org_a, area_ids=None)}
        audit = AuditEvent.objects.for_org(org_a).get(action="feedback.restore")
    restored = fresh(item)
    assert item.pk in queue
    assert (restored.archived_at, restored.due_at, restored.remind_at) == (None, due, remind)
    assert audit.actor == admin_a.user


def test_a_theme_that_is_not_archived_cannot_be_restored(org_a, pm_a, admin_a):
    theme = new_theme(org_a, pm_a, "Live", LONG_AGO)
    with tenant_context(org_a), pytest.raises(Exception, match="is not archived"):
        purge.theme_restore(org=org_a, actor=admin_a, theme=theme)


# --- The beat run -------------------------------------------------------------------------------


def test_the_beat_task_purges_every_organization_in_its_own_context_and_is_idempotent(
    org_a, org_b, csm_a, csm_b, free
):
    b_free = AccountFactory(organization=org_b, csm=csm_b, arr=Decimal("0"))
    a_item = log(org_a, csm_a, free, "A's old ask", LONG_AGO)
    b_item = log(org_b, csm_b, b_free, "B's old ask", LONG_AGO)
    with time_machine.travel(NOW, tick=False):
        first = purge_backlog_task()
        second = purge_backlog_task()
    assert first["feedback"] == 2 and first["failed"] == 0
    assert second["feedback"] == 0
    assert fresh(a_item).archived_at == NOW and fresh(b_item).archived_at == NOW
    assert len(notifications(org_a)) == 1 and len(notifications(org_b)) == 1
    with tenant_context(org_b):
        b_runs = list(AuditEvent.objects.for_org(org_b).filter(action="backlog.purged"))
    assert [r.changes["run"] for r in b_runs] == ["scheduled", "scheduled"]
    assert b_runs[0].source == "task"


def test_beat_runs_the_purge_quarterly_off_the_hour_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-stale-backlog"]
    schedule = entry["schedule"]
    assert entry["task"] == "feedback.tasks.purge_backlog_task"
    assert schedule.month_of_year == {1, 4, 7, 10}
    assert schedule.day_of_month == {1}
    assert 0 not in schedule.minute
    assert entry["options"]["expires"] > 0


# --- The page -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.CSM, False), (Role.PM, False), (Role.HEAD_OF_PRODUCT, True)]
)
def test_only_roles_with_the_purge_permission_see_and_use_backlog_hygiene(
    org_a, make_member, client_for, pm_a, csm_a, free, role, allowed
):
    member = make_member(org_a, role)
    theme = new_theme(org_a, pm_a, "Stale", LONG_AGO)
    item = log(org_a, csm_a, free, "Old ask", LONG_AGO - datetime.timedelta(days=1))
    run(org_a)
    client = client_for(member)
    expected = 200 if allowed else 403
    assert client.get(url(org_a, "backlog")).status_code == expected
    restore = client.post(url(org_a, "backlog-theme-restore", theme.pk), HTTP_HX_REQUEST="true")
    assert restore.status_code == expected
    assert fresh(theme).status == (ThemeStatus.UNDER_REVIEW if allowed else ThemeStatus.ARCHIVED)
    assert client.post(url(org_a, "backlog-run"), {"confirm": "yes"}).status_code in (
        (302,) if allowed else (403,)
    )
    sidebar = client.get(url(org_a, "my-feedback")).content.decode()
    assert ("Backlog hygiene" in sidebar) is allowed
    assert fresh(item).archived_at is not None


def test_the_page_previews_runs_with_confirmation_and_restores_in_place(
    org_a, hop_a, pm_a, csm_a, free, client_for
):
    theme = new_theme(org_a, pm_a, "Forgotten request", LONG_AGO)
    item = log(org_a, csm_a, free, "Nobody triaged this", LONG_AGO)
    client = client_for(hop_a)
    with time_machine.travel(NOW, tick=False):
        page = client.get(url(org_a, "backlog")).content.decode()
        assert "Forgotten request" in page and "Nobody triaged this" in page
        assert "Run purge now" in page
        refused = client.post(url(org_a, "backlog-run"), HTTP_HX_REQUEST="true")
        assert refused.status_code == 422
        assert "Tick the box to confirm" in refused.content.decode()
        assert fresh(item).archived_at is None
        done = client.post(url(org_a, "backlog-run"), {"confirm": "yes"}, HTTP_HX_REQUEST="true")
        assert done.status_code == 200 and done["HX-Redirect"] == url(org_a, "backlog")
        after = client.get(url(org_a, "backlog")).content.decode()
        assert "Archived 1 theme and 1 feedback item; 1 CSM told." in after
        assert "Nothing is stale." in after
        assert f'id="archived-theme-{theme.pk}"' in after
        row = client.post(
            url(org_a, "backlog-theme-restore", theme.pk), HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "restored as" in row and "<html" not in row
        row = client.post(
            url(org_a, "backlog-feedback-restore", item.pk), HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "back in the" in row and "triage queue" in row
        assert client.post(url(org_a, "backlog-feedback-restore", item.pk)).status_code == 404
    assert fresh(theme).status == ThemeStatus.UNDER_REVIEW
    assert fresh(item).archived_at is None


def test_the_backlog_page_costs_the_same_queries_for_few_or_many_items(
    org_a, hop_a, pm_a, csm_a, free, client_for, django_assert_max_num_queries
):
    def seed(prefix, count):
        for i in range(count):
            theme = new_theme(org_a, pm_a, f"{prefix} theme {i}", LONG_AGO)
            log(org_a, csm_a, free, f"{prefix} in theme {i}", LONG_AGO, theme=theme)
            log(org_a, csm_a, free, f"{prefix} queued {i}", LONG_AGO)

    client = client_for(hop_a)
    seed("few", 2)
    run(org_a, now=NOW - datetime.timedelta(days=1))
    seed("stale", 2)
    with time_machine.travel(NOW, tick=False):
        client.get(url(org_a, "backlog"))
        with django_assert_max_num_queries(20) as few:
            client.get(url(org_a, "backlog"))
    seed("more", 30)
    run(org_a, now=NOW - datetime.timedelta(hours=1))
    seed("later", 30)
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_max_num_queries(len(few.captured_queries)),
    ):
        response = client.get(url(org_a, "backlog"))
    assert "Showing the 25 oldest of 30 themes." in response.content.decode()

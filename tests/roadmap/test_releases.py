"""Releases: the CS brief, the 14-day notice, and shipping that tells exactly the right CSMs
once, beta participants' CSMs first."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import AuditEvent, Notification, Role
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from feedback.models import ThemeStatus
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from roadmap import services_releases as services
from roadmap.models import (
    BetaParticipant,
    BetaProgram,
    BetaStatus,
    Delivery,
    Release,
    ReleaseStatus,
    RoadmapItem,
    RoadmapItemEvent,
    SelectionReason,
    Visibility,
)
from tests.factories import AccountFactory

# 10:00 in New York (the test organizations' timezone) on Monday, March 2, 2026.
NOW = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)

BRIEF = {
    "messaging": "Exports now run on a schedule you choose.",
    "talking_points": "Daily, weekly or monthly\nCSV or Parquet",
    "do_not_say": "Do not promise real-time exports.",
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def make_item(org, title="Scheduled exports", **kw):
    kw.setdefault("visibility", Visibility.PUBLIC)
    kw.setdefault("delivery_status", Delivery.IN_DEVELOPMENT)
    with tenant_context(org):
        return RoadmapItem.objects.for_org(org).create(organization=org, title=title, **kw)


def draft(org, actor, items, *, days=21, customer_facing=True, **brief):
    data = services.ReleaseData(
        name="Spring release",
        release_date=TODAY + datetime.timedelta(days=days),
        customer_facing=customer_facing,
        items=list(items),
        **{**(BRIEF if customer_facing else {}), **brief},
    )
    with tenant_context(org):
        return services.release_create(org=org, actor=actor, data=data)


def announce(org, actor, release, reason=""):
    with tenant_context(org):
        return services.release_announce(
            org=org, actor=actor, release=release, late_notice_reason=reason
        )


def ship(org, actor, release):
    with tenant_context(org):
        return services.release_ship(org=org, actor=actor, release=release)


def notices(org, kind):
    with tenant_context(org):
        return list(Notification.objects.for_org(org).filter(kind=kind).order_by("pk"))


# --- the brief and the 14-day rule -------------------------------------------------------------


def test_a_release_needs_a_name_a_date_and_its_items(org_a, pm_a):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        services.release_create(
            org=org_a,
            actor=pm_a,
            data=services.ReleaseData(name=" ", release_date=None, items=[]),
        )
    assert set(error.value.field_errors) == {"name", "release_date", "items"}


def test_another_organizations_item_cannot_be_put_in_a_release(org_a, pm_a, org_b):
    foreign = make_item(org_b)
    with pytest.raises(ApplicationError) as error:
        draft(org_a, pm_a, [foreign])
    assert "items" in error.value.field_errors


def test_announcing_fourteen_days_ahead_needs_no_reason_and_tells_every_active_csm_once(
    org_a, pm_a, csm_a, make_member
):
    second = make_member(org_a, Role.CSM)
    make_member(org_a, Role.CSM, is_active=False)
    make_member(org_a, Role.PM)
    release = draft(org_a, pm_a, [make_item(org_a)], days=14)
    release = announce(org_a, pm_a, release)
    assert release.status == ReleaseStatus.ANNOUNCED
    assert release.announced_by == pm_a and release.late_notice_reason == ""
    sent = notices(org_a, "release.announced")
    assert {n.recipient_id for n in sent} == {csm_a.pk, second.pk}
    assert all(n.url.endswith(f"/releases/{release.pk}/") for n in sent)


def test_announcing_thirteen_days_ahead_without_a_reason_is_refused_on_the_reason_field(
    org_a, pm_a, csm_a
):
    release = draft(org_a, pm_a, [make_item(org_a)], days=13)
    with pytest.raises(ApplicationError) as error:
        announce(org_a, pm_a, release)
    assert "late_notice_reason" in error.value.field_errors
    assert "13 days" in error.value.message
    with tenant_context(org_a):
        release.refresh_from_db()
    assert release.status == ReleaseStatus.DRAFT
    assert notices(org_a, "release.announced") == []


def test_late_notice_is_allowed_with_a_recorded_reason(org_a, pm_a, csm_a):
    release = draft(org_a, pm_a, [make_item(org_a)], days=5)
    release = announce(org_a, pm_a, release, reason="Security fix, date set by the auditor.")
    assert release.late_notice_reason == "Security fix, date set by the auditor."
    with tenant_context(org_a):
        audit = AuditEvent.objects.for_org(org_a).get(action="release.announce")
    assert audit.changes["late_notice_reason"] == "Security fix, date set by the auditor."
    assert audit.changes["notice_days"] == 5


def test_notice_days_count_in_the_organizations_timezone(org_a, pm_a):
    # 03:00 UTC on March 3 is still March 2 in New York: 14 days to March 16 there.
    release = draft(org_a, pm_a, [make_item(org_a)], days=14)
    with time_machine.travel(datetime.datetime(2026, 3, 3, 3, 0, tzinfo=datetime.UTC)):
        announce(org_a, pm_a, release)


def test_a_customer_facing_release_cannot_be_announced_without_its_full_brief(org_a, pm_a):
    release = draft(org_a, pm_a, [make_item(org_a)], messaging="", do_not_say="  ")
    with pytest.raises(ApplicationError) as error:
        announce(org_a, pm_a, release)
    assert set(error.value.field_errors) == {"messaging", "do_not_say"}


def test_a_release_without_customer_facing_impact_needs_no_brief_nor_notice(org_a, pm_a):
    release = draft(org_a, pm_a, [make_item(org_a)], days=1, customer_facing=False)
    release = announce(org_a, pm_a, release)
    assert release.status == ReleaseStatus.ANNOUNCED and release.late_notice_reason == ""


def test_a_release_is_announced_only_once(org_a, pm_a, csm_a):
    release = announce(org_a, pm_a, draft(org_a, pm_a, [make_item(org_a)]))
    with pytest.raises(ApplicationError):
        announce(org_a, pm_a, release)
    assert len(notices(org_a, "release.announced")) == 1


def test_moving_an_announced_release_is_audited_as_a_reschedule(org_a, pm_a):
    item = make_item(org_a)
    release = announce(org_a, pm_a, draft(org_a, pm_a, [item], days=20))
    with tenant_context(org_a):
        services.release_update(
            org=org_a,
            actor=pm_a,
            release=release,
            data=services.ReleaseData(
                name=release.name,
                release_date=TODAY + datetime.timedelta(days=3),
                items=[item],
                **BRIEF,
            ),
        )
        audit = AuditEvent.objects.for_org(org_a).get(action="release.rescheduled")
        release.refresh_from_db()
    assert audit.changes["release_date"] == ["2026-03-22", "2026-03-05"]
    assert release.status == ReleaseStatus.ANNOUNCED


# --- shipping ----------------------------------------------------------------------------------


@pytest.fixture
def shipping_world(org_a, pm_a, csm_a, make_member):
    """An item with a theme; feedback from two CSMs' accounts; a beta with a third CSM's
    account; a CSM with feedback in an unrelated theme; a deactivated CSM with feedback."""
    beta_csm = make_member(org_a, Role.CSM, user__full_name="Zed Beta")
    other_csm = make_member(org_a, Role.CSM, user__full_name="Amy Other")
    bystander = make_member(org_a, Role.CSM, user__full_name="Bob Bystander")
    gone = make_member(org_a, Role.CSM, user__full_name="Gone CSM")
    item = make_item(org_a)
    unrelated = make_item(org_a, title="Dark mode")
    acme = AccountFactory(csm=csm_a, name="Acme Corp")
    globex = AccountFactory(csm=other_csm, name="Globex")
    initech = AccountFactory(csm=beta_csm, name="Initech")
    hooli = AccountFactory(csm=bystander, name="Hooli")
    with tenant_context(org_a):
        theme = feedback_services.theme_create(
            org=org_a,
            actor=pm_a,
            data=feedback_services.NewTheme(
                title="Scheduled exports", status=ThemeStatus.ON_ROADMAP, roadmap_item=item
            ),
        )
        other_theme = feedback_services.theme_create(
            org=org_a,
            actor=pm_a,
            data=feedback_services.NewTheme(
                title="Dark mode", status=ThemeStatus.ON_ROADMAP, roadmap_item=unrelated
            ),
        )
        for csm, account in ((csm_a, acme), (other_csm, globex), (gone, globex)):
            feedback_services.feedback_log(
                org=org_a, actor=csm, account=account, verbatim="Exports on a schedule", theme=theme
            )
        feedback_services.feedback_log(
            org=org_a, actor=bystander, account=hooli, verbatim="Dark mode", theme=other_theme
        )
        gone.is_active = False
        gone.save()
        beta = BetaProgram.objects.for_org(org_a).create(
            organization=org_a,
            item=item,
            name="Exports beta",
            cs_owner=csm_a,
            pm=pm_a,
            status=BetaStatus.CLOSED,
            retro_actioned="a",
            retro_not_actioned="b",
            retro_why="c",
        )
        BetaParticipant.objects.for_org(org_a).create(
            organization=org_a, beta=beta, account=initech, reason=SelectionReason.ADVOCACY
        )
        Notification.objects.for_org(org_a).all().delete()
    release = announce(org_a, pm_a, draft(org_a, pm_a, [item]))
    with tenant_context(org_a):
        Notification.objects.for_org(org_a).filter(kind="release.announced").delete()
    return {
        "release": release,
        "item": item,
        "theme": theme,
        "other_theme": other_theme,
        "beta_csm": beta_csm,
        "other_csm": other_csm,
        "bystander": bystander,
        "gone": gone,
    }


def test_shipping_marks_items_and_their_themes_shipped_with_history(org_a, pm_a, shipping_world):
    w = shipping_world
    result = ship(org_a, pm_a, w["release"])
    with tenant_context(org_a):
        w["item"].refresh_from_db()
        w["theme"].refresh_from_db()
        w["other_theme"].refresh_from_db()
        event = RoadmapItemEvent.objects.for_org(org_a).get(item=w["item"])
        release = Release.objects.for_org(org_a).get(pk=w["release"].pk)
    assert w["item"].delivery_status == Delivery.SHIPPED
    assert w["theme"].status == ThemeStatus.SHIPPED
    assert w["other_theme"].status == ThemeStatus.ON_ROADMAP
    assert event.kind == "delivery_changed"
    assert event.data["old"] == Delivery.IN_DEVELOPMENT and event.data["new"] == Delivery.SHIPPED
    assert release.status == ReleaseStatus.SHIPPED and release.shipped_by_id == pm_a.pk
    assert result.items_shipped == [w["item"]] and len(result.themes_shipped) == 1


def test_shipping_notifies_exactly_the_csms_with_accounts_to_tell_once_each(
    org_a, pm_a, csm_a, shipping_world
):
    w = shipping_world
    ship(org_a, pm_a, w["release"])
    with tenant_context(org_a):
        everything = list(Notification.objects.for_org(org_a).order_by("pk"))
    # One consolidated notice per CSM: no per-theme status notices besides it.
    assert {n.kind for n in everything} == {"release.shipped"}
    recipients = [n.recipient_id for n in everything]
    assert sorted(recipients) == sorted([w["beta_csm"].pk, csm_a.pk, w["other_csm"].pk])
    by_recipient = {n.recipient_id: n for n in everything}
    assert "Acme Corp" in by_recipient[csm_a.pk].body
    assert "Globex" in by_recipient[w["other_csm"].pk].body
    assert "Initech" in by_recipient[w["beta_csm"].pk].body
    assert "Exports now run on a schedule" in by_recipient[csm_a.pk].body
    assert "Do not promise real-time exports." in by_recipient[csm_a.pk].body


def test_beta_participants_csms_are_notified_and_emailed_before_everyone_else(
    org_a, pm_a, csm_a, shipping_world, django_capture_on_commit_callbacks
):
    w = shipping_world
    # Alphabetically the beta CSM ("Zed") would come last: ordering is by beta, not name.
    with django_capture_on_commit_callbacks(execute=True):
        result = ship(org_a, pm_a, w["release"])
    assert result.beta_csms == [w["beta_csm"]]
    assert result.other_csms == [w["other_csm"], csm_a]  # Amy Other, Casey CSM
    sent = notices(org_a, "release.shipped")
    assert [n.recipient_id for n in sent] == [w["beta_csm"].pk, w["other_csm"].pk, csm_a.pk]
    assert sent[0].created_at <= sent[1].created_at <= sent[2].created_at
    assert [m.to[0] for m in mail.outbox] == [
        w["beta_csm"].user.email,
        w["other_csm"].user.email,
        csm_a.user.email,
    ]


def test_a_csm_who_is_both_a_beta_csm_and_raised_feedback_gets_one_notice_in_the_first_group(
    org_a, pm_a, csm_a, shipping_world
):
    w = shipping_world
    with tenant_context(org_a):
        beta = BetaProgram.objects.for_org(org_a).get()
        BetaParticipant.objects.for_org(org_a).create(
            organization=org_a,
            beta=beta,
            account=AccountFactory(csm=csm_a, name="Umbrella"),
            reason=SelectionReason.ARR,
        )
    result = ship(org_a, pm_a, w["release"])
    assert [m.pk for m in result.beta_csms] == [csm_a.pk, w["beta_csm"].pk]  # Casey, Zed
    sent = notices(org_a, "release.shipped")
    assert [n.recipient_id for n in sent][:2] == [csm_a.pk, w["beta_csm"].pk]
    mine = [n for n in sent if n.recipient_id == csm_a.pk]
    assert len(mine) == 1 and "Umbrella" in mine[0].body and "Acme Corp" in mine[0].body


def test_shipping_twice_is_refused_and_tells_nobody_again(org_a, pm_a, shipping_world):
    w = shipping_world
    ship(org_a, pm_a, w["release"])
    before = len(notices(org_a, "release.shipped"))
    with pytest.raises(ApplicationError) as error:
        ship(org_a, pm_a, w["release"])
    assert "already shipped" in error.value.message
    assert len(notices(org_a, "release.shipped")) == before


def test_shipping_emits_one_release_shipped_webhook(org_a, pm_a, shipping_world):
    with tenant_context(org_a):
        WebhookEndpoint.objects.for_org(org_a).create(
            organization=org_a,
            url="https://example.test/hook",
            events=[WebhookEvent.RELEASE_SHIPPED.value],
            secret="s3cret-s3cret-s3cret",
        )
    ship(org_a, pm_a, shipping_world["release"])
    with tenant_context(org_a):
        deliveries = list(WebhookDelivery.objects.for_org(org_a))
    assert [d.event_type for d in deliveries] == [WebhookEvent.RELEASE_SHIPPED.value]
    assert deliveries[0].payload["data"]["items"][0]["title"] == "Scheduled exports"


def test_a_customer_facing_draft_cannot_ship_before_cs_has_the_brief(org_a, pm_a):
    release = draft(org_a, pm_a, [make_item(org_a)])
    with pytest.raises(ApplicationError) as error:
        ship(org_a, pm_a, release)
    assert "Announce" in error.value.message


def test_a_failed_ship_changes_nothing(org_a, pm_a, csm_a):
    item = make_item(org_a)
    release = announce(org_a, pm_a, draft(org_a, pm_a, [item]))
    with tenant_context(org_a):
        RoadmapItem.objects.for_org(org_a).filter(pk=item.pk).update(
            delivery_status=Delivery.CANCELLED
        )
    with pytest.raises(ApplicationError):
        ship(org_a, pm_a, release)
    with tenant_context(org_a):
        release.refresh_from_db()
    assert release.status == ReleaseStatus.ANNOUNCED
    assert notices(org_a, "release.shipped") == []


# --- pages -------------------------------------------------------------------------------------


def test_csms_see_announced_releases_and_their_brief_but_not_drafts(
    org_a, pm_a, csm_a, client_for, django_assert_max_num_queries
):
    announced = announce(org_a, pm_a, draft(org_a, pm_a, [make_item(org_a)]))
    hidden = draft(org_a, pm_a, [make_item(org_a, title="Secret")], days=40)
    for n in range(5):
        draft(org_a, pm_a, [make_item(org_a, title=f"Later {n}")], days=50 + n)
    client = client_for(csm_a)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("roadmap:release-list", args=[org_a.slug]))
    assert page.status_code == 200
    assert "Spring release" in page.content.decode()
    assert "Drafts" not in page.content.decode()
    detail = client.get(reverse("roadmap:release-detail", args=[org_a.slug, announced.pk]))
    assert "Do not promise real-time exports." in detail.content.decode()
    assert (
        client.get(reverse("roadmap:release-detail", args=[org_a.slug, hidden.pk])).status_code
        == 404
    )
    assert client.get(reverse("roadmap:release-create", args=[org_a.slug])).status_code == 403


def test_release_list_query_count_does_not_grow_with_releases(
    org_a, pm_a, client_for, django_assert_max_num_queries
):
    client = client_for(pm_a)
    url = reverse("roadmap:release-list", args=[org_a.slug])
    draft(org_a, pm_a, [make_item(org_a, title="First")])
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for n in range(8):
        release = draft(
            org_a, pm_a, [make_item(org_a, title=f"Item {n}"), make_item(org_a, title=f"X {n}")]
        )
        if n % 2:
            announce(org_a, pm_a, release)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200 and "Item 7" in page.content.decode()


def test_a_pm_creates_announces_late_with_a_reason_and_ships_in_the_browser(
    org_a, pm_a, csm_a, client_for
):
    item = make_item(org_a)
    client = client_for(pm_a)
    response = client.post(
        reverse("roadmap:release-create", args=[org_a.slug]),
        {
            "name": "Exports GA",
            "release_date": (TODAY + datetime.timedelta(days=3)).isoformat(),
            "customer_facing": "on",
            "items": [item.pk],
            **BRIEF,
        },
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        release = Release.objects.for_org(org_a).get(name="Exports GA")
    url = reverse("roadmap:release-announce", args=[org_a.slug, release.pk])
    refused = client.post(url, {"late_notice_reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert "Record why the notice is late" in refused.content.decode()
    assert client.post(url, {"late_notice_reason": "Contractual date."}).status_code == 302
    ship_url = reverse("roadmap:release-ship", args=[org_a.slug, release.pk])
    assert client.post(ship_url, {}).status_code == 200  # the confirmation box is required
    assert client.post(ship_url, {"confirm": "on"}).status_code == 302
    with tenant_context(org_a):
        release.refresh_from_db()
    assert release.status == ReleaseStatus.SHIPPED
    again = client.post(ship_url, {"confirm": "on"}, follow=True)
    assert "already shipped" in again.content.decode()


def test_an_invalid_release_form_shows_field_errors_and_creates_nothing(org_a, pm_a, client_for):
    response = client_for(pm_a).post(
        reverse("roadmap:release-create", args=[org_a.slug]),
        {"name": "", "release_date": "not a date", "items": ["999999"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    with tenant_context(org_a):
        assert not Release.objects.for_org(org_a).exists()


def test_the_demo_seed_is_idempotent_and_goes_through_the_services(org_a, make_member):
    import random

    from roadmap import demo_releases

    members = {
        key: make_member(org_a, role)
        for key, role in (("csm", Role.CSM), ("csm2", Role.CSM), ("pm", Role.PM), ("pmm", Role.PMM))
    }
    for n in range(8):
        AccountFactory(csm=members["csm" if n % 2 else "csm2"], name=f"Customer {n}")
    for _ in range(2):
        with tenant_context(org_a):
            demo_releases.seed(org=org_a, members=members, rng=random.Random(1))
    with tenant_context(org_a):
        statuses = sorted(Release.objects.for_org(org_a).values_list("status", flat=True))
        betas = sorted(BetaProgram.objects.for_org(org_a).values_list("status", flat=True))
    assert statuses == ["announced", "draft", "shipped"]
    assert betas == ["closed", "open"]


def test_every_release_page_renders_for_a_manager(org_a, pm_a, csm_a, client_for):
    release = draft(org_a, pm_a, [make_item(org_a)], days=5)
    client = client_for(pm_a)
    for name in ("release-detail", "release-edit", "release-announce", "release-ship"):
        page = client.get(reverse(f"roadmap:{name}", args=[org_a.slug, release.pk]))
        assert page.status_code == 200, name
    announce_page = client.get(reverse("roadmap:release-announce", args=[org_a.slug, release.pk]))
    assert "Why is the notice late?" in announce_page.content.decode()
    for name in ("release-list", "release-create", "briefing"):
        assert client.get(reverse(f"roadmap:{name}", args=[org_a.slug])).status_code == 200

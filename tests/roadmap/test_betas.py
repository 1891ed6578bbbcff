"""Beta programs: participants and why, tagged feedback, the retrospective that closes a beta,
and GA where participants' CSMs hear first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import AuditEvent, Notification, Role
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from feedback.models import Feedback, ThemeStatus
from roadmap import services_betas as services
from roadmap.models import (
    BetaParticipant,
    BetaProgram,
    BetaStatus,
    Delivery,
    RoadmapItem,
    RoadmapItemEvent,
    SelectionReason,
    Visibility,
)
from tests.factories import AccountFactory


def make_item(org, title="Usage alerts", **kw):
    kw.setdefault("visibility", Visibility.PUBLIC)
    kw.setdefault("delivery_status", Delivery.BETA)
    with tenant_context(org):
        return RoadmapItem.objects.for_org(org).create(organization=org, title=title, **kw)


def make_beta(org, actor, cs_owner, pm, item=None, name="Usage alerts beta"):
    with tenant_context(org):
        return services.beta_create(
            org=org,
            actor=actor,
            data=services.BetaData(
                item=item or make_item(org), name=name, cs_owner=cs_owner, pm=pm
            ),
        )


def add(org, actor, beta, account, reason=SelectionReason.HEALTH, note=""):
    with tenant_context(org):
        return services.beta_participant_add(
            org=org, actor=actor, beta=beta, account=account, reason=reason, note=note
        )


def close(org, actor, beta, **retro):
    values = {
        "actioned": "Thresholds per workspace",
        "not_actioned": "SMS alerts",
        "why": "Low use",
    }
    values.update(retro)
    with tenant_context(org):
        return services.beta_close(org=org, actor=actor, beta=beta, **values)


def notices(org, kind):
    with tenant_context(org):
        return list(Notification.objects.for_org(org).filter(kind=kind).order_by("pk"))


@pytest.fixture
def beta(org_a, pm_a, csm_a):
    return make_beta(org_a, pm_a, csm_a, pm_a)


def test_a_beta_needs_a_cs_owner_from_cs_and_a_pm_from_product(org_a, pm_a, csm_a):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        services.beta_create(
            org=org_a,
            actor=pm_a,
            data=services.BetaData(item=make_item(org_a), name="", cs_owner=pm_a, pm=csm_a),
        )
    assert set(error.value.field_errors) == {"name", "cs_owner", "pm"}


def test_a_beta_cannot_test_an_item_of_another_organization(org_a, org_b, pm_a, csm_a):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        services.beta_create(
            org=org_a,
            actor=pm_a,
            data=services.BetaData(item=make_item(org_b), name="X", cs_owner=csm_a, pm=pm_a),
        )
    assert "item" in error.value.field_errors


def test_participants_are_recorded_with_why_they_were_selected_once_each(org_a, pm_a, csm_a, beta):
    account = AccountFactory(csm=csm_a, name="Acme Corp")
    participant = add(org_a, pm_a, beta, account, SelectionReason.ADVOCACY, "Spoke at our summit")
    assert participant.get_reason_display() == "Advocate"
    with pytest.raises(ApplicationError) as error:
        add(org_a, pm_a, beta, account)
    assert "already in this beta" in error.value.field_errors["account"][0]
    with pytest.raises(ApplicationError) as error:
        add(org_a, pm_a, beta, AccountFactory(csm=csm_a), reason="vibes")
    assert "reason" in error.value.field_errors


def test_only_participants_feedback_can_be_tagged_to_the_beta(org_a, pm_a, csm_a, beta):
    inside = AccountFactory(csm=csm_a, name="Inside")
    outside = AccountFactory(csm=csm_a, name="Outside")
    add(org_a, pm_a, beta, inside)
    with tenant_context(org_a):
        mine = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=inside, verbatim="Alerts fire too often"
        )
        theirs = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=outside, verbatim="Alerts please"
        )
        services.beta_feedback_tag(org=org_a, actor=pm_a, beta=beta, feedback=mine)
        with pytest.raises(ApplicationError):
            services.beta_feedback_tag(org=org_a, actor=pm_a, beta=beta, feedback=theirs)
        assert list(Feedback.objects.for_org(org_a).filter(beta=beta)) == [mine]


def test_closing_requires_each_part_of_the_retrospective(org_a, pm_a, beta):
    with pytest.raises(ApplicationError) as error:
        close(org_a, pm_a, beta, actioned=" ", not_actioned="", why="")
    assert set(error.value.field_errors) == {"retro_actioned", "retro_not_actioned", "retro_why"}
    with tenant_context(org_a):
        beta.refresh_from_db()
    assert beta.status == BetaStatus.OPEN


def test_closing_sends_the_retrospective_to_every_participants_csm_once(
    org_a, pm_a, csm_a, make_member, beta
):
    other = make_member(org_a, Role.CSM)
    nobody = make_member(org_a, Role.CSM)
    add(org_a, pm_a, beta, AccountFactory(csm=csm_a, name="Acme"))
    add(org_a, pm_a, beta, AccountFactory(csm=csm_a, name="Beta Inc"))
    add(org_a, pm_a, beta, AccountFactory(csm=other, name="Globex"))
    add(org_a, pm_a, beta, AccountFactory(organization=org_a, csm=None, name="Orphan"))
    closed = close(org_a, pm_a, beta)
    assert closed.status == BetaStatus.CLOSED and closed.closed_by == pm_a
    sent = notices(org_a, "beta.retro")
    assert sorted(n.recipient_id for n in sent) == sorted([csm_a.pk, other.pk])
    assert nobody.pk not in {n.recipient_id for n in sent}
    mine = next(n for n in sent if n.recipient_id == csm_a.pk)
    assert "Acme, Beta Inc" in mine.body and "SMS alerts" in mine.body and "Low use" in mine.body
    with pytest.raises(ApplicationError):
        close(org_a, pm_a, beta)
    assert len(notices(org_a, "beta.retro")) == 2


def test_a_closed_beta_takes_no_new_participants(org_a, pm_a, csm_a, beta):
    close(org_a, pm_a, beta)
    with pytest.raises(ApplicationError):
        add(org_a, pm_a, beta, AccountFactory(csm=csm_a))


def test_at_ga_participants_csms_hear_before_csms_whose_accounts_asked_for_it(
    org_a, pm_a, csm_a, make_member
):
    beta_csm = make_member(org_a, Role.CSM, user__full_name="Zoe Beta")
    asker = make_member(org_a, Role.CSM, user__full_name="Abe Asker")
    item = make_item(org_a)
    beta = make_beta(org_a, pm_a, csm_a, pm_a, item=item)
    add(org_a, pm_a, beta, AccountFactory(csm=beta_csm, name="Initech"))
    with tenant_context(org_a):
        theme = feedback_services.theme_create(
            org=org_a,
            actor=pm_a,
            data=feedback_services.NewTheme(
                title="Usage alerts", status=ThemeStatus.ON_ROADMAP, roadmap_item=item
            ),
        )
        feedback_services.feedback_log(
            org=org_a,
            actor=asker,
            account=AccountFactory(csm=asker, name="Globex"),
            verbatim="Alert me",
            theme=theme,
        )
        result = services.roadmap_item_mark_ga(org=org_a, actor=pm_a, item=item, beta=beta)
        item.refresh_from_db()
        event = RoadmapItemEvent.objects.for_org(org_a).get(item=item)
        assert AuditEvent.objects.for_org(org_a).filter(action="roadmap_item.delivery").exists()
    assert item.delivery_status == Delivery.GA
    assert event.kind == "delivery_changed" and event.data["new"] == Delivery.GA
    assert result.beta_csms == [beta_csm] and result.other_csms == [asker]
    sent = notices(org_a, "roadmap.ga")
    assert [n.recipient_id for n in sent] == [beta_csm.pk, asker.pk]
    assert "Initech" in sent[0].body and "Globex" in sent[1].body
    with tenant_context(org_a), pytest.raises(ApplicationError):
        services.roadmap_item_mark_ga(org=org_a, actor=pm_a, item=item, beta=beta)
    assert len(notices(org_a, "roadmap.ga")) == 2


# --- pages -------------------------------------------------------------------------------------


def test_participants_are_added_and_removed_in_place_with_htmx(
    org_a, pm_a, csm_a, client_for, beta
):
    account = AccountFactory(csm=csm_a, name="Acme Corp")
    client = client_for(pm_a)
    url = reverse("roadmap:beta-participant-add", args=[org_a.slug, beta.pk])
    missing = client.post(url, {"account": account.pk}, HTTP_HX_REQUEST="true")
    assert missing.status_code == 422
    added = client.post(
        url, {"account": account.pk, "reason": "arr", "note": "Top-10"}, HTTP_HX_REQUEST="true"
    )
    assert added.status_code == 200 and "Acme Corp" in added.content.decode()
    with tenant_context(org_a):
        participant = BetaParticipant.objects.for_org(org_a).get(beta=beta)
    removed = client.post(
        reverse("roadmap:beta-participant-remove", args=[org_a.slug, beta.pk, participant.pk]),
        HTTP_HX_REQUEST="true",
    )
    assert removed.status_code == 200
    with tenant_context(org_a):
        assert not BetaParticipant.objects.for_org(org_a).filter(beta=beta).exists()


def test_the_close_page_keeps_what_was_typed_and_marks_the_missing_fields(
    org_a, pm_a, client_for, beta
):
    response = client_for(pm_a).post(
        reverse("roadmap:beta-close", args=[org_a.slug, beta.pk]),
        {"retro_actioned": "Digest emails", "retro_not_actioned": "", "retro_why": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Digest emails" in body and "Say what was not actioned." in body


def test_csms_can_read_betas_but_not_run_them(org_a, pm_a, csm_a, client_for, beta):
    client = client_for(csm_a)
    assert client.get(reverse("roadmap:beta-list", args=[org_a.slug])).status_code == 200
    page = client.get(reverse("roadmap:beta-detail", args=[org_a.slug, beta.pk]))
    assert page.status_code == 200 and "Close with retrospective" not in page.content.decode()
    assert client.get(reverse("roadmap:beta-create", args=[org_a.slug])).status_code == 403
    assert client.post(reverse("roadmap:beta-close", args=[org_a.slug, beta.pk])).status_code == 403


def test_beta_list_query_count_is_constant(
    org_a, pm_a, csm_a, client_for, django_assert_max_num_queries
):
    for n in range(6):
        beta = make_beta(org_a, pm_a, csm_a, pm_a, name=f"Beta {n}")
        add(org_a, pm_a, beta, AccountFactory(csm=csm_a))
    client = client_for(pm_a)
    with django_assert_max_num_queries(18):
        page = client.get(reverse("roadmap:beta-list", args=[org_a.slug]))
    assert page.status_code == 200 and "Beta 5" in page.content.decode()


def test_a_pm_creates_a_beta_in_the_browser(org_a, pm_a, csm_a, client_for):
    item = make_item(org_a)
    response = client_for(pm_a).post(
        reverse("roadmap:beta-create", args=[org_a.slug]),
        {"item": item.pk, "name": "Alerts beta", "cs_owner": csm_a.pk, "pm": pm_a.pk},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        assert BetaProgram.objects.for_org(org_a).get().name == "Alerts beta"


def test_every_beta_page_renders_for_a_manager(org_a, pm_a, csm_a, client_for, beta):
    account = AccountFactory(csm=csm_a, name="Acme Corp")
    add(org_a, pm_a, beta, account)
    with tenant_context(org_a):
        feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=account, verbatim="Alerts are noisy"
        )
    client = client_for(pm_a)
    detail = client.get(reverse("roadmap:beta-detail", args=[org_a.slug, beta.pk]))
    assert detail.status_code == 200 and "Tag to this beta" in detail.content.decode()
    search = client.get(
        reverse("roadmap:beta-detail", args=[org_a.slug, beta.pk]) + "?candidates=1&q=zzz",
        HTTP_HX_REQUEST="true",
    )
    assert search.status_code == 200 and "No account matches" in search.content.decode()
    assert client.get(reverse("roadmap:beta-close", args=[org_a.slug, beta.pk])).status_code == 200
    assert client.get(reverse("roadmap:beta-create", args=[org_a.slug])).status_code == 200

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from alignment.models import Notification, Role
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Feedback, Theme, ThemeEvent, ThemeStatus
from roadmap.models import RoadmapItem
from tests.factories import AccountFactory, ProductAreaFactory


@pytest.fixture
def csm2_a(org_a, make_member):
    return make_member(org_a, Role.CSM, user__full_name="Second CSM")


def log(org, csm, account, text="We need a Salesforce sync", **kw):
    with tenant_context(org):
        return services.feedback_log(org=org, actor=csm, account=account, verbatim=text, **kw)


def new_theme(org, actor, title, **kw):
    with tenant_context(org):
        return services.theme_create(
            org=org, actor=actor, data=services.NewTheme(title=title, **kw)
        )


def url(org, name, **kw):
    return reverse(f"feedback:{name}", kwargs={"org_slug": org.slug, **kw})


def test_board_lists_open_themes_by_impact_and_hides_archived(org_a, csm_a, pm_a, client_for):
    small = new_theme(org_a, pm_a, "Small ask")
    big = new_theme(org_a, pm_a, "Big ask")
    gone = new_theme(org_a, pm_a, "Gone")
    log(org_a, csm_a, AccountFactory(csm=csm_a, arr=Decimal("300000")), theme=big)
    log(org_a, csm_a, AccountFactory(csm=csm_a, arr=Decimal("40000")), theme=small)
    with tenant_context(org_a):
        services.theme_set_status(org=org_a, actor=pm_a, theme=gone, status="archived")
    html = client_for(csm_a).get(url(org_a, "theme-board")).content.decode()
    assert html.index("Big ask") < html.index("Small ask")
    assert "Gone" not in html
    assert "$300,000" in html
    archived = client_for(csm_a).get(url(org_a, "theme-board") + "?status=archived")
    assert "Gone" in archived.content.decode()


def test_board_filters_by_product_area_and_status_with_an_htmx_partial(
    org_a, pm_a, csm_a, client_for
):
    area = ProductAreaFactory(organization=org_a, name="Reporting")
    new_theme(org_a, pm_a, "Reporting theme", product_area=area)
    new_theme(org_a, pm_a, "Other theme")
    new_theme(org_a, pm_a, "Refused theme", status="not_planned", not_planned_reason="No.")
    client = client_for(csm_a)
    html = client.get(url(org_a, "theme-board") + f"?area={area.pk}").content.decode()
    assert "Reporting theme" in html and "Other theme" not in html
    response = client.get(url(org_a, "theme-board") + "?status=not_planned", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Refused theme" in html and "Other theme" not in html and "<html" not in html


@pytest.mark.parametrize("rows", [5, 30])
def test_board_runs_a_constant_number_of_queries(
    rows, org_a, pm_a, client_for, django_assert_max_num_queries
):
    area = ProductAreaFactory(organization=org_a)
    with tenant_context(org_a):
        item = RoadmapItem.objects.create(organization=org_a, title="Roadmap thing")
    for i in range(rows):
        new_theme(
            org_a, pm_a, f"Theme {i}", product_area=area, status="on_roadmap", roadmap_item=item
        )
    client = client_for(pm_a)
    with django_assert_max_num_queries(18):
        response = client.get(url(org_a, "theme-board"))
    assert response.content.decode().count("Roadmap thing") == min(rows, 25)


def test_theme_page_shows_wording_breakdown_feedback_and_history(org_a, csm_a, pm_a, client_for):
    theme = new_theme(org_a, pm_a, "SSO")
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Globex", arr=Decimal("120000")), theme=theme)
    html = client_for(csm_a).get(url(org_a, "theme-detail", pk=theme.pk)).content.decode()
    assert services.customer_wording(ThemeStatus.UNDER_REVIEW) in html
    assert "Globex" in html and "$120,000" in html
    assert "Feedback from Globex added" in html
    assert "Change status" not in html  # a CSM only looks


def test_status_change_notifies_the_csms_and_csms_may_not_change_it(
    org_a, csm_a, csm2_a, pm_a, client_for, django_capture_on_commit_callbacks
):
    theme = new_theme(org_a, pm_a, "SSO")
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Globex"), theme=theme)
    log(org_a, csm2_a, AccountFactory(csm=csm2_a, name="Umbrella"), theme=theme)
    data = {"status": "not_planned", "not_planned_reason": "Security review blocks it."}
    assert client_for(csm_a).post(url(org_a, "theme-status", pk=theme.pk), data).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(pm_a).post(url(org_a, "theme-status", pk=theme.pk), data)
    assert response.status_code == 302
    with tenant_context(org_a):
        notes = {n.recipient_id: n for n in Notification.objects.filter(kind="theme.status")}
        theme.refresh_from_db()
    assert set(notes) == {csm_a.pk, csm2_a.pk}
    assert "Security review blocks it." in notes[csm_a.pk].body
    assert theme.status == ThemeStatus.NOT_PLANNED
    assert len([m for m in mail.outbox if "SSO" in m.subject]) == 2


def test_not_planned_without_reason_on_the_theme_page_is_an_inline_error(org_a, pm_a, client_for):
    theme = new_theme(org_a, pm_a, "SSO")
    response = client_for(pm_a).post(
        url(org_a, "theme-status", pk=theme.pk), {"status": "not_planned"}
    )
    assert response.status_code == 422
    assert "A reason is required" in response.content.decode()
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert theme.status == ThemeStatus.UNDER_REVIEW


def test_on_roadmap_needs_a_roadmap_item(org_a, pm_a, client_for):
    theme = new_theme(org_a, pm_a, "SSO")
    response = client_for(pm_a).post(
        url(org_a, "theme-status", pk=theme.pk), {"status": "on_roadmap"}
    )
    assert response.status_code == 422
    assert "Choose the roadmap item." in response.content.decode()


def test_merge_via_the_page_moves_feedback_and_redirects_to_the_target(
    org_a, csm_a, pm_a, client_for
):
    source = new_theme(org_a, pm_a, "SF sync")
    target = new_theme(org_a, pm_a, "Salesforce integration")
    log(org_a, csm_a, AccountFactory(csm=csm_a), theme=source)
    client = client_for(pm_a)
    unconfirmed = client.post(url(org_a, "theme-merge", pk=source.pk), {"target": target.pk})
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.content.decode()
    response = client.post(
        url(org_a, "theme-merge", pk=source.pk), {"target": target.pk, "confirm": "on"}
    )
    assert response.url == url(org_a, "theme-detail", pk=target.pk)
    with tenant_context(org_a):
        source.refresh_from_db()
        assert source.merged_into == target
        assert Feedback.objects.filter(theme=target).count() == 1


def test_detach_via_the_page_puts_feedback_back_in_the_queue(org_a, csm_a, pm_a, client_for):
    theme = new_theme(org_a, pm_a, "SSO")
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), theme=theme)
    response = client_for(pm_a).post(
        url(org_a, "theme-detach", pk=theme.pk, feedback_pk=feedback.pk), follow=True
    )
    assert "back in the triage queue" in response.content.decode()
    with tenant_context(org_a):
        feedback.refresh_from_db()
        assert feedback.theme is None
        assert ThemeEvent.objects.filter(theme=theme, kind="feedback_detached").exists()


def test_create_a_theme_directly(org_a, pm_a, client_for):
    client = client_for(pm_a)
    assert client.get(url(org_a, "theme-new")).status_code == 200
    response = client.post(
        url(org_a, "theme-new"), {"title": "  Audit  log ", "status": "under_review"}
    )
    with tenant_context(org_a):
        theme = Theme.objects.get()
    assert theme.title == "Audit log"
    assert response.url == url(org_a, "theme-detail", pk=theme.pk)


def test_another_organizations_theme_is_missing(org_a, org_b, pm_a, admin_b, client_for):
    foreign = new_theme(org_b, admin_b, "Theirs")
    assert client_for(pm_a).get(url(org_a, "theme-detail", pk=foreign.pk)).status_code == 404

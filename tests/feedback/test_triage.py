import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from alignment.models import Role
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Feedback, Theme, ThemeStatus
from tests.factories import AccountFactory, ProductAreaFactory


@pytest.fixture
def area(pm_a):
    return ProductAreaFactory(pm=pm_a, name="Reporting")


@pytest.fixture
def other_area(org_a):
    return ProductAreaFactory(organization=org_a, name="Billing")


def log(org, csm, account, text="We need a Salesforce sync", **kw):
    with tenant_context(org):
        return services.feedback_log(org=org, actor=csm, account=account, verbatim=text, **kw)


def queue_url(org, **query):
    url = reverse("feedback:triage-queue", kwargs={"org_slug": org.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_queue_shows_only_my_areas_untriaged_feedback_biggest_account_first(
    org_a, csm_a, pm_a, area, other_area, client_for
):
    for i in range(5):
        log(
            org_a,
            csm_a,
            AccountFactory(csm=csm_a, arr=Decimal("40000"), name=f"Small {i}"),
            product_area=area,
        )
    log(
        org_a,
        csm_a,
        AccountFactory(csm=csm_a, arr=Decimal("300000"), name="Bigco"),
        product_area=area,
    )
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Elsewhere Inc"), product_area=other_area)
    html = client_for(pm_a).get(queue_url(org_a)).content.decode()
    assert "Elsewhere Inc" not in html
    assert html.index("Bigco") < html.index("Small 0")
    assert "Bigco" in html


def test_scope_all_shows_every_area(org_a, csm_a, pm_a, area, other_area, client_for):
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Elsewhere Inc"), product_area=other_area)
    html = client_for(pm_a).get(queue_url(org_a, scope="all")).content.decode()
    assert "Elsewhere Inc" in html


def test_a_member_without_areas_sees_every_area_and_is_told_so(
    org_a, csm_a, admin_a, other_area, client_for
):
    log(org_a, csm_a, AccountFactory(csm=csm_a, name="Elsewhere Inc"), product_area=other_area)
    html = client_for(admin_a).get(queue_url(org_a)).content.decode()
    assert "Elsewhere Inc" in html
    assert "You don't own a product area" in html


def test_sla_labels_say_due_in_and_overdue_by_business_days(org_a, csm_a, pm_a, area, client_for):
    logged = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # Wed, due Wed 11th
    log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area, logged_at=logged)
    client = client_for(pm_a)
    with time_machine.travel(datetime.datetime(2026, 3, 9, 15, 0, tzinfo=datetime.UTC), tick=False):
        html = client.get(queue_url(org_a)).content.decode()
    assert "due in 2 business days" in html
    with time_machine.travel(
        datetime.datetime(2026, 3, 12, 16, 0, tzinfo=datetime.UTC), tick=False
    ):
        html = client.get(queue_url(org_a)).content.decode()
    assert "overdue by 1 business day" in html
    assert "sla-overdue" in html


def test_triage_into_a_new_theme_by_plain_post_redirects_back_with_a_message(
    org_a, csm_a, pm_a, area, client_for
):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    response = client_for(pm_a).post(
        url, {"title": "Salesforce sync", "status": ThemeStatus.UNDER_REVIEW}, follow=True
    )
    assert response.redirect_chain[-1][0] == queue_url(org_a)
    assert "Salesforce sync" in response.content.decode()
    with tenant_context(org_a):
        feedback.refresh_from_db()
        assert feedback.theme.title == "Salesforce sync"
        assert feedback.theme.product_area == area


def test_triage_by_htmx_returns_the_confirmation_row_with_undo(
    org_a, csm_a, pm_a, area, client_for
):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a, name="Globex"), product_area=area)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    client = client_for(pm_a)
    response = client.post(
        url, {"title": "Salesforce sync", "status": "under_review"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="feedback-row-{feedback.pk}"' in html
    assert "triaged into" in html and "Undo" in html
    assert "<html" not in html
    undo = reverse("feedback:triage-undo", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    response = client.post(undo, HTTP_HX_REQUEST="true")
    assert "Add to theme" in response.content.decode()
    with tenant_context(org_a):
        feedback.refresh_from_db()
        assert feedback.theme is None and feedback.triaged_at is None


def test_add_to_an_existing_theme(org_a, csm_a, pm_a, area, client_for):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area)
    with tenant_context(org_a):
        theme = services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="SSO"))
    url = reverse("feedback:triage-attach", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    response = client_for(pm_a).post(url, {"theme": theme.pk}, HTTP_HX_REQUEST="true")
    assert "SSO" in response.content.decode()
    with tenant_context(org_a):
        feedback.refresh_from_db()
        assert feedback.theme == theme


def test_not_planned_without_a_reason_is_an_inline_error_and_saves_nothing(
    org_a, csm_a, pm_a, area, client_for
):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    response = client_for(pm_a).post(
        url, {"title": "Dark mode", "status": "not_planned"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "A reason is required" in response.content.decode()
    with tenant_context(org_a):
        assert not Theme.objects.exists()
        feedback.refresh_from_db()
        assert feedback.theme is None


def test_attaching_to_another_organizations_theme_changes_nothing(
    org_a, org_b, csm_a, pm_a, admin_b, area, client_for
):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area)
    with tenant_context(org_b):
        foreign = services.theme_create(org=org_b, actor=admin_b, data=services.NewTheme(title="B"))
    url = reverse("feedback:triage-attach", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    response = client_for(pm_a).post(url, {"theme": foreign.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Choose an open theme of this organization" in response.content.decode()
    with tenant_context(org_a):
        feedback.refresh_from_db()
        assert feedback.theme_id is None
    with tenant_context(org_b):
        foreign.refresh_from_db()
        assert foreign.feedback_count == 0


def test_csm_cannot_triage_but_a_pm_can(org_a, csm_a, pm_a, area, client_for):
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    data = {"title": "Salesforce sync", "status": "under_review"}
    assert client_for(csm_a).post(url, data).status_code == 403
    with tenant_context(org_a):
        assert Feedback.objects.get(pk=feedback.pk).theme_id is None
    assert client_for(pm_a).post(url, data).status_code == 302
    with tenant_context(org_a):
        assert Feedback.objects.get(pk=feedback.pk).theme_id is not None


def test_head_of_product_may_triage(org_a, csm_a, make_member, area, client_for):
    head = make_member(org_a, Role.HEAD_OF_PRODUCT)
    feedback = log(org_a, csm_a, AccountFactory(csm=csm_a), product_area=area)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": feedback.pk})
    response = client_for(head).post(url, {"title": "X", "status": "under_review"})
    assert response.status_code == 302


@pytest.mark.parametrize("rows", [5, 30])
def test_queue_runs_a_constant_number_of_queries(
    rows, org_a, csm_a, pm_a, area, client_for, django_assert_max_num_queries
):
    with tenant_context(org_a):
        services.theme_create(org=org_a, actor=pm_a, data=services.NewTheme(title="Existing"))
    for i in range(rows):
        log(org_a, csm_a, AccountFactory(csm=csm_a), text=f"Request {i}", product_area=area)
    client = client_for(pm_a)
    with django_assert_max_num_queries(19):
        response = client.get(queue_url(org_a))
    assert response.status_code == 200
    assert response.content.decode().count('class="triage-item"') == min(rows, 25)

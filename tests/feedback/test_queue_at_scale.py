"""The triage queue stays light when the organization is big: each row's "New theme" form is
loaded when opened, the roadmap pick list leaves out finished items, and the pager's count
stops at a cap."""

from decimal import Decimal

from django.urls import reverse

from alignment.paging import CappedPaginator
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Feedback
from roadmap.models import Delivery, RoadmapItem
from tests.factories import AccountFactory, ProductAreaFactory


def _queue_item(org, csm, pm):
    area = ProductAreaFactory(organization=org, pm=pm, name="Reporting")
    account = AccountFactory(organization=org, csm=csm, arr=Decimal("90000"), name="Northwind")
    with tenant_context(org):
        return services.feedback_log(
            org=org, actor=csm, account=account, verbatim="PDF exports", product_area=area
        )


def _items(org):
    with tenant_context(org):
        for title, status in [
            ("Scheduled exports", Delivery.IN_DEVELOPMENT),
            ("Old dashboards", Delivery.SHIPPED),
            ("Abandoned idea", Delivery.CANCELLED),
        ]:
            RoadmapItem.objects.for_org(org).create(
                organization=org, title=title, delivery_status=status
            )


def test_queue_rows_load_the_new_theme_form_only_when_opened(org_a, csm_a, pm_a, client_for):
    item = _queue_item(org_a, csm_a, pm_a)
    _items(org_a)
    client = client_for(pm_a)

    page = client.get(reverse("feedback:triage-queue", kwargs={"org_slug": org_a.slug}))
    form_url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": item.pk})
    html = page.content.decode()
    assert f'hx-get="{form_url}"' in html
    assert "Scheduled exports" not in html  # no roadmap list per row in the page itself

    fragment = client.get(form_url, headers={"HX-Request": "true"}).content.decode()
    assert 'name="title"' in fragment
    assert "Scheduled exports" in fragment
    assert "Old dashboards" not in fragment and "Abandoned idea" not in fragment
    assert "<html" not in fragment


def test_the_new_theme_form_works_as_a_page_of_its_own_without_javascript(
    org_a, csm_a, pm_a, client_for
):
    item = _queue_item(org_a, csm_a, pm_a)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": item.pk})
    client = client_for(pm_a)

    page = client.get(url)
    assert page.status_code == 200
    assert "Triage into a new theme" in page.content.decode()
    assert "hx-post" not in page.content.decode().split("Triage into a new theme")[1]

    response = client.post(url, {"title": "PDF exports", "status": "under_review"})
    assert response.status_code == 302
    with tenant_context(org_a):
        assert Feedback.objects.for_org(org_a).get(pk=item.pk).theme.title == "PDF exports"


def test_a_csm_cannot_open_the_new_theme_form(org_a, csm_a, pm_a, client_for):
    item = _queue_item(org_a, csm_a, pm_a)
    url = reverse("feedback:triage-new-theme", kwargs={"org_slug": org_a.slug, "pk": item.pk})
    assert client_for(csm_a).get(url).status_code == 403


def test_the_pager_counts_up_to_its_cap_and_says_so_beyond(org_a, csm_a, pm_a):
    items = [_queue_item(org_a, csm_a, pm_a)]
    with tenant_context(org_a):
        area = items[0].product_area
        for i in range(4):
            account = AccountFactory(organization=org_a, csm=csm_a, name=f"Account {i}")
            services.feedback_log(
                org=org_a, actor=csm_a, account=account, verbatim=f"Ask {i}", product_area=area
            )
        rows = Feedback.objects.for_org(org_a).order_by("pk")
        exact = CappedPaginator(rows, 2, cap=10)
        capped = CappedPaginator(rows, 2, cap=3)
        assert (exact.count, exact.capped, exact.count_label) == (5, False, "5")
        assert (capped.count, capped.capped, capped.count_label) == (4, True, "3+")

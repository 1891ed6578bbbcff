"""Roadmap pages: the board per role, item pages, create/edit/sign-off, theme linking, and
the account page's roadmap section. Query counts stay constant on list pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from alignment.tenancy import tenant_context
from feedback.models import ThemeStatus
from roadmap import wording
from roadmap.models import RoadmapItem, Tier, Visibility
from tests.factories import ProductAreaFactory
from tests.roadmap.support_items import (
    account,
    approve,
    commit_item,
    link,
    make_item,
    request,
    theme_with_feedback,
)

pytest_plugins = ["tests.roadmap.fixtures_items"]


def url(org, name, **kw):  # type: ignore[no-untyped-def]
    return reverse(f"roadmap:{name}", kwargs={"org_slug": org.slug, **kw})


@pytest.fixture
def roadmap(org_a, pm_a):  # type: ignore[no-untyped-def]
    return {
        "committed": commit_item(org_a, pm_a, "Committed sync", quarter="2027-Q1"),
        "planned": make_item(org_a, pm_a, "Planned reports", quarter="2027-Q3"),
        "exploring": make_item(org_a, pm_a, "Exploring mobile", tier=Tier.EXPLORING),
        "internal": make_item(org_a, pm_a, "Secret pricing", visibility=Visibility.INTERNAL),
        "nda": make_item(org_a, pm_a, "NDA analytics", visibility=Visibility.NDA),
    }


def test_a_csm_sees_the_board_without_internal_items_or_planned_quarters(
    org_a, csm_a, roadmap, client_for
):
    html = client_for(csm_a).get(url(org_a, "board")).content.decode()
    assert "Committed sync" in html and "Q1 2027" in html
    assert "Planned reports" in html
    assert "2027-Q3" not in html and "Q3 2027" not in html
    assert "Secret pricing" not in html
    assert "NDA only" in html
    assert "never use these in renewal conversations" in html
    assert escape(wording.tier_sentence(Tier.PLANNED)) in html


def test_a_pm_sees_every_item_and_every_quarter(org_a, pm_a, roadmap, client_for):
    html = client_for(pm_a).get(url(org_a, "board")).content.decode()
    assert "Secret pricing" in html and "Q3 2027" in html
    assert "New roadmap item" in html


def test_the_board_filters_by_product_area_with_an_htmx_partial(org_a, pm_a, csm_a, client_for):
    area = ProductAreaFactory(organization=org_a, name="Integrations")
    make_item(org_a, pm_a, "In the area", product_area=area)
    make_item(org_a, pm_a, "Elsewhere")
    response = client_for(csm_a).get(
        url(org_a, "board") + f"?area={area.pk}", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "In the area" in html and "Elsewhere" not in html and "<html" not in html


def test_the_board_sorts_by_linked_impact_within_a_tier(org_a, pm_a, csm_a, client_for):
    small = make_item(org_a, pm_a, "Small demand")
    big = make_item(org_a, pm_a, "Big demand")
    link(
        org_a,
        pm_a,
        small,
        theme_with_feedback(org_a, pm_a, "A", (csm_a, account(org_a, csm_a, "S", "20000"))),
    )
    link(
        org_a,
        pm_a,
        big,
        theme_with_feedback(org_a, pm_a, "B", (csm_a, account(org_a, csm_a, "L", "500000"))),
    )
    html = client_for(csm_a).get(url(org_a, "board")).content.decode()
    assert html.index("Big demand") < html.index("Small demand")


@pytest.mark.parametrize("rows", [2, 12])
def test_the_board_runs_a_constant_number_of_queries(
    rows, org_a, pm_a, csm_a, client_for, django_assert_max_num_queries
):
    area = ProductAreaFactory(organization=org_a)
    for i in range(rows):
        item = make_item(org_a, pm_a, f"Item {i}", product_area=area, quarter="2027-Q2")
        acct = account(org_a, csm_a, f"Customer {i}")
        link(org_a, pm_a, item, theme_with_feedback(org_a, pm_a, f"Theme {i}", (csm_a, acct)))
    client = client_for(pm_a)
    with django_assert_max_num_queries(16):
        response = client.get(url(org_a, "board"))
    assert response.content.decode().count('class="item-card') == rows


def test_an_internal_item_is_missing_for_a_csm_and_shown_to_a_pm(
    org_a, csm_a, pm_a, roadmap, client_for
):
    pk = roadmap["internal"].pk
    assert client_for(csm_a).get(url(org_a, "item-detail", pk=pk)).status_code == 404
    assert client_for(pm_a).get(url(org_a, "item-detail", pk=pk)).status_code == 200


def test_an_item_page_shows_csms_what_they_may_say_and_hides_the_planned_quarter(
    org_a, csm_a, roadmap, client_for
):
    html = (
        client_for(csm_a).get(url(org_a, "item-detail", pk=roadmap["planned"].pk)).content.decode()
    )
    assert escape(wording.tier_sentence(Tier.PLANNED)) in html
    assert "2027-Q3" not in html and "Not shared until committed" in html
    assert "History" not in html  # quarter history would leak planned dates
    exploring = client_for(csm_a).get(url(org_a, "item-detail", pk=roadmap["exploring"].pk))
    assert "not a retention lever" in exploring.content.decode()


def test_creating_a_committed_item_shows_each_missing_requirement_on_its_field(
    org_a, pm_a, client_for
):
    response = client_for(pm_a).post(
        url(org_a, "item-create"),
        {
            "title": "Rush job",
            "tier": "committed",
            "delivery_status": "discovery",
            "visibility": "public",
            "target_quarter": "soon",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Write the quarter as YYYY-Qn" in html
    with tenant_context(org_a):
        assert not RoadmapItem.objects.exists()


def test_a_pm_creates_then_signs_off_and_commits_an_item(org_a, pm_a, client_for):
    client = client_for(pm_a)
    response = client.post(
        url(org_a, "item-create"),
        {
            "title": "Bulk export",
            "tier": "planned",
            "target_quarter": "2027-q2",
            "dev_owner": "Data team",
            "pm": pm_a.pk,
            "delivery_status": "discovery",
            "visibility": "public",
        },
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        item = RoadmapItem.objects.get(title="Bulk export")
    assert item.target_quarter == "2027-Q2"
    response = client.post(
        url(org_a, "item-sign-off", pk=item.pk), {"note": "Staffed.", "commit": "on"}
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        item.refresh_from_db()
    assert item.tier == Tier.COMMITTED and item.signed_off_by_id == pm_a.pk


def test_another_pm_is_told_who_may_sign_off(org_a, pm_a, pm2_a, client_for):
    item = make_item(org_a, pm_a, quarter="2027-Q1", dev_owner="Platform")
    response = client_for(pm2_a).get(url(org_a, "item-sign-off", pk=item.pk))
    assert response.status_code == 403
    assert "Pat PM" in response.content.decode()


def test_csms_cannot_open_the_item_forms(org_a, csm_a, roadmap, client_for):
    client = client_for(csm_a)
    assert client.get(url(org_a, "item-create")).status_code == 403
    assert client.get(url(org_a, "item-edit", pk=roadmap["planned"].pk)).status_code == 403


def test_the_edit_form_warns_how_many_promises_rest_on_the_item(org_a, pm_a, csm_a, client_for):
    item = commit_item(org_a, pm_a)
    approve(org_a, pm_a, request(org_a, csm_a, account(org_a, csm_a, "Globex"), item))
    html = client_for(pm_a).get(url(org_a, "item-edit", pk=item.pk)).content.decode()
    assert "1 approved promise rests on this item" in html


def test_a_pm_searches_and_links_a_theme_from_the_item_page(org_a, pm_a, csm_a, client_for):
    item = make_item(org_a, pm_a)
    theme = theme_with_feedback(
        org_a, pm_a, "Salesforce sync", (csm_a, account(org_a, csm_a, "Globex", "250000"))
    )
    theme_with_feedback(org_a, pm_a, "Dark mode")
    client = client_for(pm_a)
    results = client.get(url(org_a, "item-themes", pk=item.pk) + "?q=sales", HTTP_HX_REQUEST="true")
    html = results.content.decode()
    assert "Salesforce sync" in html and "Dark mode" not in html
    response = client.post(url(org_a, "item-themes", pk=item.pk), {"theme": theme.pk})
    assert response.status_code == 302
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert theme.status == ThemeStatus.ON_ROADMAP and theme.roadmap_item_id == item.pk
    page = client.get(url(org_a, "item-detail", pk=item.pk)).content.decode()
    assert "$250,000" in page and "Globex" in page
    unlink = client.post(url(org_a, "item-theme-unlink", pk=item.pk, theme_pk=theme.pk))
    assert unlink.status_code == 302
    with tenant_context(org_a):
        theme.refresh_from_db()
    assert theme.roadmap_item_id is None


def test_linking_without_choosing_a_theme_is_an_inline_error(org_a, pm_a, client_for):
    item = make_item(org_a, pm_a)
    response = client_for(pm_a).post(url(org_a, "item-themes", pk=item.pk), {"theme": "999999"})
    assert response.status_code == 422
    assert "Choose an open theme" in response.content.decode()


# --- the account page ------------------------------------------------------------------------


def test_the_account_page_lists_its_roadmap_items_with_what_the_csm_may_say(
    org_a, pm_a, csm_a, client_for
):
    globex = account(org_a, csm_a, "Globex", "120000")
    committed = commit_item(org_a, pm_a, "Committed sync", quarter="2027-Q1")
    secret = make_item(org_a, pm_a, "Secret pricing", visibility=Visibility.INTERNAL)
    link(org_a, pm_a, committed, theme_with_feedback(org_a, pm_a, "Sync", (csm_a, globex)))
    link(org_a, pm_a, secret, theme_with_feedback(org_a, pm_a, "Pricing", (csm_a, globex)))
    page = reverse("alignment:account-detail", kwargs={"org_slug": org_a.slug, "pk": globex.pk})
    html = client_for(csm_a).get(page).content.decode()
    assert "Committed sync" in html
    assert escape(wording.tier_sentence(Tier.COMMITTED, "2027-Q1")) in html
    assert "Secret pricing" not in html
    assert "Secret pricing" in client_for(pm_a).get(page).content.decode()


@pytest.mark.parametrize("rows", [1, 8])
def test_the_account_page_runs_a_constant_number_of_queries(
    rows, org_a, pm_a, csm_a, client_for, django_assert_max_num_queries
):
    globex = account(org_a, csm_a, "Globex", "120000")
    for i in range(rows):
        item = commit_item(org_a, pm_a, f"Item {i}", quarter="2027-Q1")
        link(org_a, pm_a, item, theme_with_feedback(org_a, pm_a, f"Theme {i}", (csm_a, globex)))
        approve(org_a, pm_a, request(org_a, csm_a, globex, item))
    page = reverse("alignment:account-detail", kwargs={"org_slug": org_a.slug, "pk": globex.pk})
    client = client_for(csm_a)
    with django_assert_max_num_queries(18):
        html = client.get(page).content.decode()
    assert html.count("promise-row") == rows

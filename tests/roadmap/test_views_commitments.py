"""Commitment pages: ask from an account, approvals with htmx approve/decline, the promises
list (filter by CSM, at-risk first, constant queries), withdraw and customer informed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alignment.tenancy import tenant_context
from roadmap.models import Commitment, CommitmentStatus
from tests.roadmap.support_items import (
    account,
    approve,
    commit_item,
    edit,
    make_item,
    request,
    today,
)

pytest_plugins = ["tests.roadmap.fixtures_items"]


def url(org, name, **kw):  # type: ignore[no-untyped-def]
    return reverse(f"roadmap:{name}", kwargs={"org_slug": org.slug, **kw})


def test_a_csm_asks_from_the_account_page_and_nothing_is_quotable_yet(
    org_a, csm_a, pm_a, client_for
):
    item = commit_item(org_a, pm_a)
    globex = account(org_a, csm_a, "Globex")
    client = client_for(csm_a)
    account_page = reverse(
        "alignment:account-detail", kwargs={"org_slug": org_a.slug, "pk": globex.pk}
    )
    assert f"?account={globex.pk}" in client.get(account_page).content.decode()
    form = client.get(url(org_a, "commitment-request") + f"?account={globex.pk}")
    assert "Ask for a commitment for Globex" in form.content.decode()
    response = client.post(
        url(org_a, "commitment-request"),
        {
            "account_preset": "1",
            "account": globex.pk,
            "item": item.pk,
            "conversation_date": today(org_a).isoformat(),
            "context": "QBR: the sponsor asked whether the sync lands before renewal.",
            "include_quarter": "on",
        },
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        commitment = Commitment.objects.get()
    assert commitment.status == CommitmentStatus.REQUESTED and commitment.include_quarter
    html = client.get(account_page).content.decode()
    assert "Awaiting sign-off" in html and "Nothing is quotable until approved" in html


def test_the_request_form_explains_each_missing_field(org_a, csm_a, pm_a, client_for):
    item = make_item(org_a, pm_a)
    globex = account(org_a, csm_a, "Globex")
    response = client_for(csm_a).post(
        url(org_a, "commitment-request"),
        {"account": globex.pk, "item": item.pk, "include_quarter": "on"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Give the date of the conversation." in html
    assert "Say what the customer asked" in html


def test_a_planned_item_cannot_be_asked_about_with_a_quarter(org_a, csm_a, pm_a, client_for):
    item = make_item(org_a, pm_a, quarter="2027-Q3")
    globex = account(org_a, csm_a, "Globex")
    response = client_for(csm_a).post(
        url(org_a, "commitment-request"),
        {
            "account": globex.pk,
            "item": item.pk,
            "conversation_date": today(org_a).isoformat(),
            "context": "Asked for a date.",
            "include_quarter": "on",
        },
    )
    assert response.status_code == 422
    assert "Only a committed item may be promised with a quarter" in response.content.decode()


def test_a_csm_cannot_pick_another_csms_account(org_a, csm_a, csm2_a, pm_a, client_for):
    item = make_item(org_a, pm_a)
    theirs = account(org_a, csm2_a, "Umbrella")
    response = client_for(csm_a).post(
        url(org_a, "commitment-request"),
        {
            "account": theirs.pk,
            "item": item.pk,
            "conversation_date": today(org_a).isoformat(),
            "context": "x",
        },
    )
    assert response.status_code == 422
    with tenant_context(org_a):
        assert not Commitment.objects.exists()


def test_the_owning_pm_approves_in_place_from_the_approvals_list(org_a, csm_a, pm_a, client_for):
    item = commit_item(org_a, pm_a)
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), item)
    client = client_for(pm_a)
    page = client.get(url(org_a, "approval-list")).content.decode()
    assert "Globex" in page and f'id="commitment-{commitment.pk}"' in page
    response = client.post(
        url(org_a, "commitment-approve", pk=commitment.pk),
        {"approved_wording": "The sync is committed for Q1 2027.", "from": "approvals"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Approved wording" in html
    with tenant_context(org_a):
        commitment.refresh_from_db()
    assert commitment.approved_wording == "The sync is committed for Q1 2027."


def test_another_pm_sees_a_clear_refusal_in_place(org_a, csm_a, pm_a, pm2_a, client_for):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), commit_item(org_a, pm_a))
    response = client_for(pm2_a).post(
        url(org_a, "commitment-approve", pk=commitment.pk),
        {"approved_wording": "Sure."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "Only Pat PM" in response.content.decode()
    plain = client_for(pm2_a).post(
        url(org_a, "commitment-approve", pk=commitment.pk), {"approved_wording": "Sure."}
    )
    assert plain.status_code == 403 and "Only Pat PM" in plain.content.decode()
    with tenant_context(org_a):
        commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.REQUESTED


def test_declining_without_a_reason_is_an_inline_error(org_a, csm_a, pm_a, client_for):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), make_item(org_a, pm_a))
    client = client_for(pm_a)
    response = client.post(
        url(org_a, "commitment-decline", pk=commitment.pk), {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "A reason is required." in response.content.decode()
    response = client.post(
        url(org_a, "commitment-decline", pk=commitment.pk), {"decline_reason": "Not this year."}
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.DECLINED


def test_csms_cannot_reach_the_approvals(org_a, csm_a, client_for):
    assert client_for(csm_a).get(url(org_a, "approval-list")).status_code == 403


def test_the_csm_withdraws_a_pending_request(org_a, csm_a, pm_a, client_for):
    commitment = request(org_a, csm_a, account(org_a, csm_a, "Globex"), make_item(org_a, pm_a))
    response = client_for(csm_a).post(url(org_a, "commitment-withdraw", pk=commitment.pk))
    assert response.status_code == 302
    with tenant_context(org_a):
        commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.WITHDRAWN


def test_the_promise_page_shows_the_flag_and_the_csm_clears_it(org_a, csm_a, pm_a, client_for):
    item = commit_item(org_a, pm_a)
    commitment = approve(org_a, pm_a, request(org_a, csm_a, account(org_a, csm_a, "Globex"), item))
    edit(org_a, pm_a, item, target_quarter="2027-Q3")
    client = client_for(csm_a)
    html = client.get(url(org_a, "commitment-detail", pk=commitment.pk)).content.decode()
    assert "At risk since" in html and "slipped from Q1 2027 to Q3 2027" in html
    bad = client.post(url(org_a, "commitment-informed", pk=commitment.pk), {"note": "Called."})
    assert bad.status_code == 422
    ok = client.post(
        url(org_a, "commitment-informed", pk=commitment.pk),
        {"informed_on": today(org_a).isoformat(), "note": "Called the sponsor; fine with Q3."},
    )
    assert ok.status_code == 302
    with tenant_context(org_a):
        commitment.refresh_from_db()
    assert commitment.at_risk_since is None


def test_the_promises_list_filters_by_csm_and_shows_at_risk_first(
    org_a, csm_a, csm2_a, pm_a, client_for
):
    safe_item = commit_item(org_a, pm_a, "Audit export")
    risky_item = commit_item(org_a, pm_a, "Sync")
    approve(org_a, pm_a, request(org_a, csm_a, account(org_a, csm_a, "Safe Co"), safe_item))
    approve(org_a, pm_a, request(org_a, csm2_a, account(org_a, csm2_a, "Risky Co"), risky_item))
    edit(org_a, pm_a, risky_item, target_quarter="2027-Q4")
    client = client_for(csm_a)
    html = client.get(url(org_a, "promise-list")).content.decode()
    assert html.index("Risky Co") < html.index("Safe Co")
    mine = client.get(url(org_a, "promise-list") + f"?holder={csm_a.pk}", HTTP_HX_REQUEST="true")
    assert "Safe Co" in mine.content.decode() and "Risky Co" not in mine.content.decode()
    at_risk = client.get(url(org_a, "promise-list") + "?at_risk=on").content.decode()
    assert "Risky Co" in at_risk and "Safe Co" not in at_risk


@pytest.mark.parametrize("rows", [2, 10])
def test_the_promises_list_runs_a_constant_number_of_queries(
    rows, org_a, csm_a, pm_a, client_for, django_assert_max_num_queries
):
    item = commit_item(org_a, pm_a)
    for i in range(rows):
        approve(org_a, pm_a, request(org_a, csm_a, account(org_a, csm_a, f"Customer {i}"), item))
    client = client_for(pm_a)
    with django_assert_max_num_queries(17):
        html = client.get(url(org_a, "promise-list")).content.decode()
    assert html.count("promise-row") == rows


@pytest.mark.parametrize("rows", [1, 6])
def test_the_approvals_list_runs_a_constant_number_of_queries(
    rows, org_a, csm_a, pm_a, client_for, django_assert_max_num_queries
):
    item = commit_item(org_a, pm_a)
    for i in range(rows):
        request(org_a, csm_a, account(org_a, csm_a, f"Customer {i}"), item)
    client = client_for(pm_a)
    with django_assert_max_num_queries(15):
        html = client.get(url(org_a, "approval-list")).content.decode()
    assert html.count('class="decision-card"') == rows

"""A PM commits an item; a CSM asks to promise it to an account; the PM approves the exact
wording; the quarter slips; the CSM sees the promise flagged at risk. In a real browser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from alignment.models import Role
from alignment.tenancy import tenant_context
from roadmap import services_items
from roadmap.models import Visibility
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    OrganizationFactory,
    ProductAreaFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")


def test_a_promise_is_approved_then_flagged_at_risk_when_the_quarter_slips(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    csm = MembershipFactory(
        organization=org, role=Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM"
    )
    pm = MembershipFactory(
        organization=org, role=Role.PM, user__email="pm@acme.test", user__full_name="Pat PM"
    )
    area = ProductAreaFactory(organization=org, pm=pm, name="Integrations")
    account = AccountFactory(
        organization=org, csm=csm, name="Northwind Logistics", arr=Decimal("300000")
    )
    with tenant_context(org):
        item = services_items.roadmap_item_create(
            org=org,
            actor=pm,
            data=services_items.ItemData(
                title="Two-way Salesforce sync",
                product_area=area,
                pm=pm,
                tier="planned",
                target_quarter="2027-Q1",
                dev_owner="Integrations squad",
                visibility=Visibility.PUBLIC,
            ),
        )
    ARTIFACTS.mkdir(exist_ok=True)

    # The PM commits the item with a written sign-off.
    log_in(page, "pm@acme.test")
    page.goto("/o/acme/roadmap/")
    page.screenshot(path=str(ARTIFACTS / "roadmap-board.png"), full_page=True)
    page.get_by_role("link", name="Two-way Salesforce sync").click()
    page.get_by_role("link", name="Sign off and commit").click()
    page.get_by_label("What you are signing off").fill("Staffed by the integrations squad.")
    page.get_by_role("button", name="Record sign-off").click()
    expect(page.locator(".page-header")).to_contain_text("Committed · Q1 2027")
    page.screenshot(path=str(ARTIFACTS / "roadmap-item.png"), full_page=True)
    log_out(page)

    # The CSM asks, from the account page, to promise the quarter.
    log_in(page, "csm@acme.test")
    page.goto(f"/o/acme/accounts/{account.pk}/")
    expect(page.locator("#account-promises")).to_contain_text("Nothing has been promised")
    page.get_by_role("link", name="Ask for a commitment").click()
    page.get_by_label("Roadmap item").select_option(str(item.pk))
    page.get_by_label("Conversation context").fill(
        "Renewal call: the VP of Sales asked when the sync lands."
    )
    page.get_by_label("Promise the target quarter").check()
    page.get_by_role("button", name="Ask for sign-off").click()
    expect(page.locator(".decision-card")).to_contain_text("Awaiting sign-off")
    log_out(page)

    # The PM approves the exact wording in place.
    log_in(page, "pm@acme.test")
    expect(page.locator("#unread-count")).to_have_text("1")
    page.get_by_role("link", name="Approvals").click()
    card = page.locator(".decision-card").first
    expect(card).to_contain_text("Northwind Logistics")
    card.get_by_label("Approved wording").fill("The two-way sync is committed for Q1 2027.")
    card.get_by_role("button", name="Approve this wording").click()
    expect(page.locator(".decision-card").first).to_contain_text("Approved wording")
    page.screenshot(path=str(ARTIFACTS / "commitment-approved.png"), full_page=True)

    # The quarter slips.
    page.goto(f"/o/acme/roadmap/items/{item.pk}/edit/")
    expect(page.locator(".callout")).to_contain_text("1 approved promise")
    page.get_by_label("Target quarter").fill("2027-Q3")
    page.get_by_role("button", name="Save item").click()
    expect(page.locator(".page-header")).to_contain_text("Q3 2027")
    log_out(page)

    # The CSM sees the promise at risk, first in the promises list and on the account page.
    log_in(page, "csm@acme.test")
    page.get_by_role("link", name="Promises").click()
    first_row = page.locator("tr.promise-row").first
    expect(first_row).to_contain_text("At risk")
    expect(first_row).to_contain_text("slipped from Q1 2027 to Q3 2027")
    page.goto(f"/o/acme/accounts/{account.pk}/")
    expect(page.locator("#account-promises")).to_contain_text("At risk")
    page.screenshot(path=str(ARTIFACTS / "commitment-at-risk.png"), full_page=True)

"""CS Ops imports accounts from a CSV file and finds them in the account list, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alignment.models import Role
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "external_id,name,arr,segment,renewal_date,health_score,lifecycle_stage,csm_email\n"
    'NW-1,Northwind Logistics,"$1,200,000.50",Enterprise,2030-11-30,82,Onboarded,csm@acme.test\n'
    "GX-2,Globex Retail,340000,Mid-market,3/15/2030,45,At risk,\n"
    "IN-3,Initech Software,86500,SMB,,71,Onboarding,\n"
    "UM-4,Umbrella Health,lots,Enterprise,,,,\n"
)


def test_cs_ops_imports_accounts_and_finds_them_in_the_list(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    MembershipFactory(
        organization=org, role=Role.CS_OPS, user__email="ops@acme.test", user__full_name="Olive Ops"
    )
    MembershipFactory(
        organization=org, role=Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM"
    )
    ARTIFACTS.mkdir(exist_ok=True)

    log_in(page, "ops@acme.test")
    expect(page).to_have_url(re.compile(r"/o/acme/overview/$"))

    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    expect(page.locator(".empty")).to_contain_text("No accounts yet.")

    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import accounts from a CSV file")).to_be_visible()
    expect(page.get_by_role("link", name="Download a sample CSV")).to_be_visible()
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "crm-export.csv", "mimeType": "text/csv", "buffer": CSV.encode()}],
    )
    page.get_by_role("button", name="Upload and import").click()

    # Celery runs in-process here, so the report is ready when the page loads.
    expect(page.get_by_role("heading", name="Import of crm-export.csv")).to_be_visible()
    expect(page.locator(".report-summary")).to_contain_text("3 created")
    expect(page.locator(".report-summary")).to_contain_text("1 rejected")
    rejected = page.locator("table.rejected-rows tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first).to_contain_text("UM-4")
    expect(rejected.first).to_contain_text("arr “lots” is not an amount")
    page.screenshot(path=str(ARTIFACTS / "account-import-report.png"), full_page=True)

    page.get_by_role("link", name="View accounts").click()
    rows = page.locator("table.accounts-table tbody tr")
    expect(rows).to_have_count(3)
    # ARR descending by default.
    expect(rows.nth(0)).to_contain_text("Northwind Logistics")
    expect(rows.nth(0)).to_contain_text("$1,200,001")
    expect(rows.nth(0)).to_contain_text("Casey CSM")
    expect(page.locator(".results-summary")).to_contain_text("3 accounts")

    # Search narrows the list in place (htmx) and the URL follows.
    page.get_by_label("Search").fill("globex")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Globex Retail")
    expect(page).to_have_url(re.compile(r"q=globex"))
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(3)

    # Sorting by name from the column header.
    page.locator("th a", has_text="Account").click()
    expect(rows.nth(0)).to_contain_text("Globex Retail")
    expect(page).to_have_url(re.compile(r"sort=name"))
    # Searching after sorting keeps the sort.
    page.get_by_label("Search").fill("o")
    expect(page).to_have_url(re.compile(r"q=o"))
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Globex Retail")
    expect(page).to_have_url(re.compile(r"sort=name"))
    page.screenshot(path=str(ARTIFACTS / "account-list.png"), full_page=True)

    rows.nth(0).get_by_role("link", name="Globex Retail").click()
    expect(page.get_by_role("heading", name="Globex Retail")).to_be_visible()
    expect(page.locator(".stats")).to_contain_text("$340,000")

"""A CSM logs what a customer said right after a call, in a real browser."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from alignment.models import Role
from alignment.tenancy import tenant_context
from feedback import services
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import AccountFactory, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_csm_logs_feedback_for_an_account_found_by_typing(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    csm = MembershipFactory(
        organization=org, role=Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM"
    )
    pm = MembershipFactory(organization=org, role=Role.PM, user__email="pm@acme.test")
    AccountFactory(organization=org, csm=csm, name="Northwind Logistics", arr=Decimal("1200000"))
    AccountFactory(organization=org, csm=csm, name="Globex Retail", arr=Decimal("340000"))
    with tenant_context(org):
        services.theme_create(
            org=org,
            actor=pm,
            data=services.NewTheme(
                title="Salesforce opportunity sync", description="Sync opportunities both ways"
            ),
        )
    ARTIFACTS.mkdir(exist_ok=True)

    log_in(page, "csm@acme.test")
    page.goto("/o/acme/feedback/new/")
    expect(page.get_by_role("heading", name="Log feedback")).to_be_visible()

    page.fill("#account-q", "northw")
    option = page.get_by_role("option", name=re.compile("Northwind Logistics"))
    expect(option).to_be_visible()
    expect(page.get_by_role("option", name=re.compile("Globex"))).to_have_count(0)
    option.click()
    expect(page.locator(".account-chosen")).to_contain_text("Northwind Logistics")
    expect(page.locator(".account-chosen")).to_contain_text("$1,200,000")

    page.fill("textarea[name=verbatim]", "")
    page.type("textarea[name=verbatim]", "Our reps want Salesforce opportunities synced hourly.")
    expect(page.locator("#similar")).to_contain_text("Salesforce opportunity sync")
    page.screenshot(path=str(ARTIFACTS / "feedback-log-form.png"), full_page=True)

    page.get_by_role("button", name="Log feedback").click()
    expect(page).to_have_url(re.compile(r"/o/acme/my-feedback/$"))
    expect(page.locator(".messages")).to_contain_text("Logged for Northwind Logistics. Product has")
    row = page.locator("tr", has_text="Northwind Logistics")
    expect(row).to_contain_text("Salesforce opportunities synced hourly")
    expect(row.locator(".pill")).to_have_text("New")
    page.screenshot(path=str(ARTIFACTS / "feedback-logged.png"), full_page=True)


def test_attaching_a_suggested_theme_and_an_inline_error(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    csm = MembershipFactory(organization=org, role=Role.CSM, user__email="csm@acme.test")
    pm = MembershipFactory(organization=org, role=Role.PM, user__email="pm@acme.test")
    account = AccountFactory(organization=org, csm=csm, name="Northwind Logistics")
    with tenant_context(org):
        services.theme_create(
            org=org, actor=pm, data=services.NewTheme(title="Salesforce opportunity sync")
        )

    log_in(page, "csm@acme.test")
    page.goto(f"/o/acme/feedback/new/?account={account.pk}")
    page.type("textarea[name=verbatim]", "Salesforce sync please")
    page.get_by_role("button", name="Attach to this theme").click()
    expect(page.locator(".theme-choice")).to_contain_text(
        "Will be added to: Salesforce opportunity sync"
    )
    page.fill("input[name=answer_needed_by]", "2001-01-01")
    page.get_by_role("button", name="Log feedback").click()
    expect(page.locator(".errorlist")).to_contain_text("That date has passed")
    # Nothing typed is lost, the chosen account and theme included.
    expect(page.locator("textarea[name=verbatim]")).to_have_value("Salesforce sync please")
    expect(page.locator(".account-chosen")).to_contain_text("Northwind Logistics")
    expect(page.locator(".theme-choice")).to_contain_text("Salesforce opportunity sync")
    page.screenshot(path=str(ARTIFACTS / "feedback-log-error.png"), full_page=True)
    page.fill("input[name=answer_needed_by]", "")
    page.get_by_role("button", name="Log feedback").click()
    expect(page).to_have_url(re.compile(r"/o/acme/my-feedback/$"))
    expect(page.locator(".messages")).to_contain_text("added to “Salesforce opportunity sync”")
    expect(page.locator("tr", has_text="Northwind Logistics")).to_contain_text("Under review")

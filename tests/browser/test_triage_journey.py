"""The VoC loop in a real browser: a CSM logs what a customer said through the form, a PM
triages it into a new theme in place, and the CSM hears about it and closes the loop."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from alignment.models import Role
from alignment.tenancy import tenant_context
from feedback import services
from feedback.models import Feedback
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    OrganizationFactory,
    ProductAreaFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_csm_logs_feedback_pm_triages_it_and_the_csm_closes_the_loop(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    csm = MembershipFactory(
        organization=org, role=Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM"
    )
    pm = MembershipFactory(
        organization=org, role=Role.PM, user__email="pm@acme.test", user__full_name="Pat PM"
    )
    ProductAreaFactory(organization=org, pm=pm, name="Integrations")
    AccountFactory(organization=org, csm=csm, name="Northwind Logistics", arr=Decimal("300000"))
    with tenant_context(org):
        services.theme_create(
            org=org, actor=pm, data=services.NewTheme(title="SSO for contractors")
        )
    ARTIFACTS.mkdir(exist_ok=True)

    # The CSM logs the customer's words right after the call.
    log_in(page, "csm@acme.test")
    page.goto("/o/acme/feedback/new/")
    page.fill("#account-q", "northw")
    page.get_by_role("option", name=re.compile("Northwind Logistics")).click()
    expect(page.locator(".account-chosen")).to_contain_text("Northwind Logistics")
    page.fill(
        "textarea[name=verbatim]",
        "We re-key every closed deal into Salesforce by hand; we need a sync.",
    )
    page.fill("[name=job_to_be_done]", "Keep the CRM current without double entry")
    page.fill("[name=workaround]", "An intern copies deals every Friday")
    page.select_option("select[name=product_area]", label="Integrations")
    page.get_by_role("button", name="Log feedback").click()
    expect(page).to_have_url(re.compile(r"/o/acme/my-feedback/$"))
    expect(page.locator("tr", has_text="Northwind Logistics").locator(".pill")).to_have_text("New")
    with tenant_context(org):
        feedback = Feedback.objects.get(account__name="Northwind Logistics")
        assert feedback.logged_by == csm
        assert feedback.product_area.name == "Integrations"
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")

    # The PM finds it in the queue of their product area.
    log_in(page, "pm@acme.test")
    page.goto("/o/acme/triage/")
    expect(page.get_by_role("heading", name="Triage queue")).to_be_visible()
    row = page.locator(f"#feedback-row-{feedback.pk}")
    expect(row).to_contain_text("Northwind Logistics")
    expect(row).to_contain_text("Keep the CRM current without double entry")
    expect(row).to_contain_text("due in")
    page.screenshot(path=str(ARTIFACTS / "triage-queue.png"), full_page=True)

    url_before = page.url
    row.get_by_text("New theme").click()
    row.locator("input[name=title]").fill("Salesforce sync")
    row.locator("select[name=status]").select_option("under_review")
    row.get_by_role("button", name="Create theme and triage").click()
    confirmation = page.locator(f"#feedback-row-{feedback.pk}")
    expect(confirmation).to_contain_text("triaged into")
    expect(confirmation).to_contain_text("Salesforce sync")
    expect(confirmation.get_by_role("button", name="Undo")).to_be_visible()
    assert page.url == url_before  # swapped in place, no navigation

    page.goto("/o/acme/themes/")
    expect(page.get_by_role("link", name="Salesforce sync")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "theme-board.png"), full_page=True)
    page.get_by_role("link", name="Salesforce sync").click()
    expect(page.get_by_role("heading", name="Salesforce sync")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "theme-detail.png"), full_page=True)

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")

    log_in(page, "csm@acme.test")
    expect(page.locator("#unread-count")).to_have_text("1")
    page.goto("/o/acme/my-feedback/")
    expect(page.get_by_role("heading", name="My feedback")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Under review")
    page.get_by_role("button", name="Customer told").click()
    expect(page.locator("table")).to_contain_text("Closed")
    expect(page).to_have_url(re.compile(r"/o/acme/my-feedback/$"))

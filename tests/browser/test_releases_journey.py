"""Releases and betas in a real browser: a PM announces a late release (the reason is asked
for in place), ships it, and adds a beta participant without leaving the page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alignment.models import Role
from alignment.tenancy import tenant_context
from roadmap import services_betas, services_releases
from roadmap.models import Delivery, RoadmapItem, Visibility
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import AccountFactory, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pm_announces_late_with_a_reason_ships_and_runs_a_beta(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    pm = MembershipFactory(
        organization=org, role=Role.PM, user__email="pm@acme.test", user__full_name="Pat PM"
    )
    csm = MembershipFactory(
        organization=org, role=Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM"
    )
    AccountFactory(organization=org, csm=csm, name="Northwind Logistics", arr=Decimal("300000"))
    with tenant_context(org):
        item = RoadmapItem.objects.for_org(org).create(
            organization=org,
            title="Scheduled exports",
            visibility=Visibility.PUBLIC,
            delivery_status=Delivery.BETA,
        )
        release = services_releases.release_create(
            org=org,
            actor=pm,
            data=services_releases.ReleaseData(
                name="Exports release",
                release_date=timezone.localdate(timezone=org.tzinfo) + datetime.timedelta(days=6),
                messaging="Exports on a schedule.",
                talking_points="Daily or weekly",
                do_not_say="No real-time promises.",
                items=[item],
            ),
        )
        beta = services_betas.beta_create(
            org=org,
            actor=pm,
            data=services_betas.BetaData(item=item, name="Exports beta", cs_owner=csm, pm=pm),
        )
    log_in(page, "pm@acme.test")
    page.goto(f"/o/acme/releases/{release.pk}/announce/")
    page.click("text=Announce to CS")
    expect(page.locator(".errorlist")).to_contain_text("Record why the notice is late")
    page.fill("textarea[name=late_notice_reason]", "Date set by a customer contract.")
    page.click("text=Announce to CS")
    expect(page.locator(".message-success")).to_contain_text("every CSM has been told")
    expect(page.locator("#cs-brief")).to_contain_text("No real-time promises.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "release_detail.png"), full_page=True)
    page.click("text=Mark shipped")
    page.check("input[name=confirm]")
    page.click("text=Mark shipped and tell CS")
    expect(page.locator(".message-success")).to_contain_text("shipped")

    page.goto(f"/o/acme/betas/{beta.pk}/")
    page.select_option("#candidate-select", label="Northwind Logistics · $300,000 · Casey CSM")
    page.select_option("select[name=reason]", "arr")
    page.click("text=Add to beta")
    expect(page.locator("#participants table")).to_contain_text("Northwind Logistics")
    expect(page.locator("#participants table")).to_contain_text("Strategic ARR")
    page.screenshot(path=str(ARTIFACTS / "beta_detail.png"), full_page=True)

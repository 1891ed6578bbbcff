"""Webhooks in a real browser: an admin registers a receiver, sends a test event, watches a
delivery fail while the receiver is down, and redelivers it from the log once it is back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alignment.models import Role
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import MembershipFactory, OrganizationFactory
from tests.integrations.test_webhooks_delivery import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_an_endpoint_tests_it_and_redelivers_after_an_outage(page, settings):  # type: ignore[no-untyped-def]
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    receiver = Receiver()
    receiver.up()
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    MembershipFactory(organization=org, role=Role.ADMIN, user__email="admin@acme.test")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        log_in(page, "admin@acme.test")
        page.goto("/o/acme/settings/webhooks/")
        expect(page.locator(".empty")).to_contain_text("No webhook endpoints yet")
        page.get_by_role("link", name="Add endpoint").first.click()

        # A private address is refused inline, keeping what was typed.
        page.fill("input[name=url]", "http://10.1.2.3/hooks")
        page.get_by_label("Theme status changed").check()
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator(".field.has-error")).to_contain_text("private")

        page.fill("input[name=url]", receiver.url)
        page.fill("input[name=description]", "CRM sync")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page).to_have_url(re.compile(r"/settings/webhooks/\d+/$"))
        page.get_by_text("Reveal the secret").click()
        receiver.secret = page.locator(".secret-value").inner_text().strip()
        assert receiver.secret.startswith("whsec_")

        page.get_by_role("button", name="Send test event").click()
        expect(page).to_have_url(re.compile(r"/deliveries/$"))
        expect(page.locator("tbody tr").first.locator(".pill")).to_have_text("Delivered")
        assert [r["event"] for r in receiver.received] == ["ping"]

        # The receiver goes down: the next test event fails and is scheduled for a retry.
        receiver.down()
        page.goto(page.url.replace("deliveries/", ""))
        page.get_by_role("button", name="Send test event").click()
        row = page.locator("tbody tr").first
        expect(row.locator(".pill")).to_have_text("Retrying")
        expect(row).to_contain_text("Connection refused")
        page.screenshot(path=str(ARTIFACTS / "webhooks_delivery_log.png"), full_page=True)

        # Back up: redeliver from the log, in place; the row updates itself when it is sent.
        receiver.up()
        row.get_by_role("button", name="Redeliver").click()
        expect(row.locator(".pill")).to_have_text("Delivered")
        assert [r["event"] for r in receiver.received] == ["ping", "ping"]

        page.goto("/o/acme/settings/webhooks/")
        expect(page.locator("tbody tr").first).to_contain_text("Healthy")
        page.screenshot(path=str(ARTIFACTS / "webhooks_list.png"), full_page=True)
    finally:
        receiver.down()

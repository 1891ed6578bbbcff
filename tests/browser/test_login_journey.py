"""Logging in, inviting a teammate, changing a role and logging out, in a real browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from alignment.models import Role
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click(".user-menu summary")
    page.click(".user-menu button:has-text('Log out')")
    page.wait_for_load_state("networkidle")


def test_member_logs_in_admin_invites_and_everyone_logs_out(page):  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme Analytics", slug="acme")
    MembershipFactory(
        organization=org,
        role=Role.ADMIN,
        user__email="admin@acme.test",
        user__full_name="Ada Admin",
    )
    MembershipFactory(
        organization=org, role=Role.CSM, user__email="csm@acme.test", user__full_name="Casey CSM"
    )
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto("/login/")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)

    # A wrong password is refused with an error that does not say which part was wrong.
    log_in(page, "csm@acme.test", "not my password")
    expect(page.locator(".form-errors")).to_contain_text("That email and password don't match")
    page.screenshot(path=str(ARTIFACTS / "login-error.png"), full_page=True)

    # The right one lands a CSM on their accounts.
    log_in(page, "CSM@acme.test")
    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator(".messages")).to_contain_text("You have been logged out.")

    # An admin invites a new member from the members page, without leaving it.
    log_in(page, "admin@acme.test")
    page.click("nav >> text=Members")
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    expect(page.locator("#invite-panel")).to_contain_text("No pending invitations.")
    page.fill("#invite-panel input[name=email]", "nina@acme.test")
    page.select_option("#invite-panel select[name=role]", Role.PM)
    page.click("#invite-panel button:has-text('Send invitation')")
    expect(page.locator("#invite-panel .messages")).to_contain_text(
        "Invitation sent to nina@acme.test as PM."
    )
    expect(page.locator("#invitation-table")).to_contain_text("nina@acme.test")
    expect(page.locator("#invitation-table")).to_contain_text("Ada Admin")
    assert [m.to for m in mail.outbox] == [["nina@acme.test"]]

    # Inviting an existing member is refused inline.
    page.fill("#invite-panel input[name=email]", "csm@acme.test")
    page.click("#invite-panel button:has-text('Send invitation')")
    expect(page.locator("#invite-panel .errorlist")).to_contain_text(
        "csm@acme.test is already a member."
    )

    # A role changes in place.
    row = page.locator("tr", has_text="Casey CSM")
    row.locator("select[name=role]").select_option(Role.VP_CS)
    row.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text="Casey CSM")).to_contain_text("Role changed to VP CS.")
    page.screenshot(path=str(ARTIFACTS / "members.png"), full_page=True)

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/$"))

    # The invited person follows the emailed link, creates a login and lands inside.
    link = re.search(r"https?://[^/\s]+(/invite/\S+/)", mail.outbox[0].body).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", name="Join Acme Analytics on Seam")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "invite-accept.png"), full_page=True)
    page.fill("input[name=full_name]", "Nina New")
    page.fill("input[name=password]", "a long and unusual passphrase")
    page.fill("input[name=password_confirm]", "a long and unusual passphrase")
    page.click("button:has-text('Create login and join')")
    expect(page.get_by_role("heading", name="My product areas")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Welcome to Acme Analytics.")

"""Logging in and out, password reset and change."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery"
BAD_LOGIN = "That email and password don&#x27;t match"


@pytest.fixture
def person(db):  # type: ignore[no-untyped-def]
    return UserFactory(email="casey@acme.test", full_name="Casey CSM")


def log_in(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def test_login_page_asks_for_email_and_offers_password_reset(db, client):
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in body
    assert ">Email<" in body
    assert '<button type="submit" class="primary">Log in</button>' in body
    assert reverse("password_reset") in body
    assert "Forgot your password?" in body


def test_person_logs_in_with_their_email_in_any_case_and_lands_on_root(person, client):
    response = log_in(client, "Casey@ACME.test")
    assert response.status_code == 302
    assert response.url == reverse("root")
    assert client.session["_auth_user_id"] == str(person.pk)


def test_wrong_password_and_unknown_email_get_the_same_error(person, client):
    wrong_password = log_in(client, "casey@acme.test", "not the password")
    unknown_email = log_in(client, "nobody@acme.test", PASSWORD)
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert BAD_LOGIN in response.content.decode()
        assert "_auth_user_id" not in client.session


def test_login_follows_a_safe_next_url(person, client):
    response = log_in(client, "casey@acme.test", next_url="/o/acme/members/")
    assert response.url == "/o/acme/members/"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/steal", "javascript:alert(1)"]
)
def test_login_ignores_an_offsite_next_url(person, client, next_url):
    response = log_in(client, "casey@acme.test", next_url=next_url)
    assert response.status_code == 302
    assert response.url == reverse("root")


def test_logged_in_person_visiting_login_is_sent_on(person, client):
    client.force_login(person)
    assert client.get(reverse("login")).status_code == 302


def test_logout_is_post_only(person, client):
    client.force_login(person)
    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_lands_on_login_with_a_message(person, client):
    client.force_login(person)
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You have been logged out." in response.content.decode()
    assert "_auth_user_id" not in client.session


def _reset_link(body: str) -> str:
    match = re.search(r"http://testserver(/password/reset/\S+/)", body)
    assert match, body
    return match.group(1)


def test_password_reset_emails_a_link_that_sets_a_new_password(person, client):
    response = client.post(reverse("password_reset"), {"email": "CASEY@acme.test"})
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["casey@acme.test"]
    assert message.subject == "Reset your Seam password"

    form_page = client.get(_reset_link(message.body), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_password_url,
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert done.url == reverse("password_reset_complete")

    assert log_in(Client(), "casey@acme.test", PASSWORD).status_code == 200
    assert log_in(Client(), "casey@acme.test", "a brand new passphrase").status_code == 302


def test_password_reset_link_works_only_once(person, client):
    client.post(reverse("password_reset"), {"email": "casey@acme.test"})
    link = _reset_link(mail.outbox[0].body)
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(
        set_password_url,
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    again = Client().get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(db, client):
    response = client.post(reverse("password_reset"), {"email": "nobody@acme.test"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_logged_in_person_changes_their_password(person, client):
    client.force_login(person)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another good passphrase",
            "new_password2": "another good passphrase",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert "Password changed" in response.content.decode()
    person.refresh_from_db()
    assert person.check_password("another good passphrase")


def test_password_change_with_a_wrong_old_password_shows_an_error(person, client):
    client.force_login(person)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "another good passphrase",
            "new_password2": "another good passphrase",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_password_change_requires_login(db, client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))

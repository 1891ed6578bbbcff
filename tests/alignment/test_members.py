"""Members: the list, invitations and their acceptance, roles, deactivation."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alignment import selectors
from alignment.errors import ApplicationError
from alignment.models import (
    AuditEvent,
    Invitation,
    Membership,
    Notification,
    Role,
    User,
    UserSession,
)
from alignment.services import members as member_services
from alignment.tenancy import tenant_context
from tests.factories import UserFactory

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "a long and unusual passphrase"


def members_url(org) -> str:  # type: ignore[no-untyped-def]
    return reverse("alignment:member-list", kwargs={"org_slug": org.slug})


def url(name: str, org, pk: int) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"alignment:{name}", kwargs={"org_slug": org.slug, "pk": pk})


def invite(org, admin, email: str, role: str = Role.CSM, *, capture) -> str:  # type: ignore[no-untyped-def]
    """Invite through the service; return the link path from the email that was sent."""
    sent_before = len(mail.outbox)
    with capture(execute=True), tenant_context(org):
        member_services.member_invite(org=org, actor=admin, email=email, role=role)
    assert len(mail.outbox) == sent_before + 1
    return invite_path(mail.outbox[-1].body)


def invite_path(body: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/invite/[\w-]+/[\w-]+/)", body)
    assert match, body
    return match.group(1)


def membership_of(org, email: str) -> Membership | None:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        return (
            Membership.objects.for_org(org).select_related("user").filter(user__email=email).first()
        )


# --- the list --------------------------------------------------------------------------------


def test_member_list_shows_members_and_pending_invitations_to_everyone(
    org_a, admin_a, csm_a, client_for, django_capture_on_commit_callbacks
):
    invite(org_a, admin_a, "newbie@acme.test", Role.PM, capture=django_capture_on_commit_callbacks)
    response = client_for(csm_a).get(members_url(org_a))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("Ada Admin", "admin@acme.test", "Casey CSM", "newbie@acme.test", "Active"):
        assert text in body
    # Read-only for a CSM: no invite form, no role selects, no deactivate buttons.
    assert "Send invitation" not in body
    assert 'name="role"' not in body
    assert url("member-deactivate", org_a, admin_a.pk) not in body


def test_admin_sees_member_actions(org_a, admin_a, csm_a, client_for):
    body = client_for(admin_a).get(members_url(org_a)).content.decode()
    assert "Send invitation" in body
    assert url("member-deactivate", org_a, csm_a.pk) in body
    assert url("member-role", org_a, csm_a.pk) in body
    # No self-deactivation button.
    assert url("member-deactivate", org_a, admin_a.pk) not in body


def test_member_list_sorts_and_filters(org_a, admin_a, csm_a, pm_a, client_for):
    client = client_for(admin_a)
    page = client.get(members_url(org_a), {"sort": "-name"}).content.decode()
    body = page[page.index('id="member-table"') :]
    assert body.index("Pat PM") < body.index("Casey CSM") < body.index("Ada Admin")
    body = client.get(members_url(org_a), {"q": "pat"}).content.decode()
    assert "Pat PM" in body and "Casey CSM" not in body
    partial = client.get(members_url(org_a), {"status": "deactivated"}, headers=HTMX)
    assert "No members match these filters." in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_member_list_query_count_does_not_grow_with_members(
    org_a, admin_a, make_member, client_for, django_assert_max_num_queries
):
    client = client_for(admin_a)
    for _ in range(3):
        make_member(org_a, Role.CSM)
    with django_assert_max_num_queries(20) as small:
        client.get(members_url(org_a))
    for _ in range(20):
        make_member(org_a, Role.PM)
    with tenant_context(org_a):
        for n in range(5):
            Invitation.objects.for_org(org_a).create(
                organization=org_a,
                email=f"x{n}@acme.test",
                role=Role.CSM,
                token_hash=f"{n:064d}",
                invited_by=admin_a,
                expires_at=timezone.now() + datetime.timedelta(days=1),
            )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(members_url(org_a))
    assert response.content.decode().count('class="role-form"') == 24


# --- inviting --------------------------------------------------------------------------------


def test_admin_invites_a_member_and_the_email_carries_a_working_link(
    org_a, admin_a, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_a).post(
            reverse("alignment:member-invite", kwargs={"org_slug": org_a.slug}),
            {"email": "New.Person@Acme.test", "role": Role.PM},
        )
    assert response.status_code == 302
    with tenant_context(org_a):
        invitation = Invitation.objects.for_org(org_a).get()
        event = AuditEvent.objects.for_org(org_a).get(action="member.invite")
    assert invitation.email == "new.person@acme.test"
    assert invitation.role == Role.PM
    assert invitation.invited_by_id == admin_a.pk
    assert invitation.is_pending
    assert event.changes["role"] == [None, "pm"]
    (message,) = mail.outbox
    assert message.to == ["new.person@acme.test"]
    assert "Acme Analytics" in message.subject
    link = invite_path(message.body)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash == Invitation.hash_token(token)
    assert token not in invitation.token_hash
    page = Client().get(link)
    assert page.status_code == 200
    assert "Join Acme Analytics" in page.content.decode()


def test_htmx_invite_returns_the_panel_with_the_new_invitation(
    org_a, admin_a, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_a).post(
            reverse("alignment:member-invite", kwargs={"org_slug": org_a.slug}),
            {"email": "new@acme.test", "role": Role.CSM},
            headers=HTMX,
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="invite-panel"')
    assert "Invitation sent to new@acme.test as CSM." in body
    assert "new@acme.test" in body
    assert len(mail.outbox) == 1


def test_invite_form_shows_inline_errors(org_a, admin_a, csm_a, client_for):
    client = client_for(admin_a)
    invite_url = reverse("alignment:member-invite", kwargs={"org_slug": org_a.slug})
    bad_email = client.post(invite_url, {"email": "not-an-email", "role": Role.CSM}, headers=HTMX)
    assert "Enter a valid email address." in bad_email.content.decode()
    member = client.post(invite_url, {"email": "CSM@acme.test", "role": Role.CSM}, headers=HTMX)
    assert "csm@acme.test is already a member." in member.content.decode()
    bad_role = client.post(invite_url, {"email": "x@acme.test", "role": "owner"})
    assert bad_role.status_code == 200
    assert "errorlist" in bad_role.content.decode()
    with tenant_context(org_a):
        assert not Invitation.objects.for_org(org_a).exists()
    assert mail.outbox == []


def test_non_admin_cannot_invite(org_a, admin_a, csm_a, client_for):
    invite_url = reverse("alignment:member-invite", kwargs={"org_slug": org_a.slug})
    data = {"email": "new@acme.test", "role": Role.CSM}

    assert client_for(csm_a).post(invite_url, data).status_code == 403
    with tenant_context(org_a):
        assert not Invitation.objects.for_org(org_a).exists()

    assert client_for(admin_a).post(invite_url, data).status_code == 302
    with tenant_context(org_a):
        assert Invitation.objects.for_org(org_a).count() == 1


def test_inviting_again_replaces_the_pending_invitation(
    org_a, admin_a, django_capture_on_commit_callbacks
):
    first = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    second = invite(
        org_a, admin_a, "new@acme.test", Role.PM, capture=django_capture_on_commit_callbacks
    )
    with tenant_context(org_a):
        open_invitations = list(selectors.invitation_list_open(org=org_a))
    assert [i.role for i in open_invitations] == [Role.PM]
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200


def test_resend_rotates_the_token(org_a, admin_a, client_for, django_capture_on_commit_callbacks):
    old_link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    with tenant_context(org_a):
        invitation = Invitation.objects.for_org(org_a).get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_a).post(url("invitation-resend", org_a, invitation.pk))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new_link = invite_path(mail.outbox[-1].body)
    assert new_link != old_link
    assert Client().get(old_link).status_code == 404
    assert Client().get(new_link).status_code == 200


def test_revoked_invitation_link_stops_working(
    org_a, admin_a, client_for, django_capture_on_commit_callbacks
):
    link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    with tenant_context(org_a):
        invitation = Invitation.objects.for_org(org_a).get()
    response = client_for(admin_a).post(url("invitation-revoke", org_a, invitation.pk), follow=True)
    assert "was revoked" in response.content.decode()
    page = Client().get(link)
    assert page.status_code == 404
    assert "invalid or has expired" in page.content.decode()


# --- accepting -------------------------------------------------------------------------------


def test_new_person_accepts_creates_a_login_and_lands_in_the_organization(
    org_a, admin_a, django_capture_on_commit_callbacks
):
    link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    client = Client()
    form = client.get(link)
    assert 'name="full_name"' in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            link,
            {"full_name": "Nina New", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        )
    assert response.status_code == 302
    assert response.url == reverse("alignment:home", kwargs={"org_slug": org_a.slug})
    home = client.get(response.url, follow=True)
    assert home.status_code == 200
    assert "My accounts" in home.content.decode()
    user = User.objects.get(email="new@acme.test")
    assert user.full_name == "Nina New"
    assert user.check_password(NEW_PASSWORD)
    membership = membership_of(org_a, "new@acme.test")
    assert membership.role == Role.CSM and membership.is_active
    with tenant_context(org_a):
        assert Invitation.objects.for_org(org_a).get().accepted_at is not None
        joined = Notification.objects.for_org(org_a).get(recipient=admin_a)
    assert "Nina New joined" in joined.title
    # The link is used up.
    assert Client().get(link).status_code == 404


def test_weak_password_is_refused_inline_and_creates_nothing(
    org_a, admin_a, django_capture_on_commit_callbacks
):
    link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    response = Client().post(
        link, {"full_name": "Nina New", "password": "12345678", "password_confirm": "12345678"}
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    mismatch = Client().post(
        link,
        {"full_name": "Nina", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"},
    )
    assert "The two passwords don" in mismatch.content.decode()
    assert not User.objects.filter(email="new@acme.test").exists()


def test_existing_user_logged_in_joins_with_one_click(
    org_a, admin_a, csm_b, client_for, django_capture_on_commit_callbacks
):
    link = invite(
        org_a, admin_a, "csm@borealis.test", Role.PM, capture=django_capture_on_commit_callbacks
    )
    client = client_for(csm_b)
    page = client.get(link)
    assert "Join Acme Analytics" in page.content.decode()
    assert 'name="full_name"' not in page.content.decode()
    response = client.post(link)
    assert response.url == reverse("alignment:home", kwargs={"org_slug": org_a.slug})
    assert membership_of(org_a, "csm@borealis.test").role == Role.PM
    # Their other organization is untouched.
    assert membership_of(org_b := csm_b.organization, "csm@borealis.test").role == Role.CSM
    assert org_b.slug == "borealis"


def test_existing_user_not_logged_in_is_asked_to_log_in_first(
    org_a, admin_a, csm_b, django_capture_on_commit_callbacks
):
    link = invite(org_a, admin_a, "csm@borealis.test", capture=django_capture_on_commit_callbacks)
    client = Client()
    body = client.get(link).content.decode()
    assert "Log in to accept" in body
    assert f"{reverse('login')}?next={link}" in body
    # Posting without logging in creates nothing.
    client.post(link, {"full_name": "X", "password": NEW_PASSWORD, "password_confirm": "x"})
    assert membership_of(org_a, "csm@borealis.test") is None
    response = client.post(
        reverse("login"),
        {"username": "csm@borealis.test", "password": "correct horse battery", "next": link},
    )
    assert response.url == link


def test_someone_logged_in_as_another_user_is_told_and_offered_logout(
    org_a, admin_a, csm_b, client_for, django_capture_on_commit_callbacks
):
    link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    client = client_for(csm_b)
    page = client.get(link)
    body = page.content.decode()
    assert page.status_code == 403
    assert "but this invitation is for new@acme.test" in body
    assert reverse("logout") in body
    assert client.post(link).status_code == 403
    assert membership_of(org_a, "csm@borealis.test") is None
    assert membership_of(org_a, "new@acme.test") is None


def test_expired_invitation_link_is_refused(org_a, admin_a, django_capture_on_commit_callbacks):
    link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        response = Client().post(
            link,
            {"full_name": "Nina", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        )
    assert response.status_code == 404
    assert "invalid or has expired" in response.content.decode()
    assert not User.objects.filter(email="new@acme.test").exists()


@pytest.mark.parametrize("path", ["/invite/no-such-org/abc/", "/invite/acme/not-a-real-token/"])
def test_unknown_invitation_links_get_a_friendly_404(org_a, client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Ask the admin who invited you" in response.content.decode()


def test_accepting_reactivates_a_deactivated_membership_with_the_invited_role(
    org_a, admin_a, csm_a, client_for, django_capture_on_commit_callbacks
):
    with tenant_context(org_a):
        member_services.member_deactivate(org=org_a, actor=admin_a, membership=csm_a)
    link = invite(
        org_a, admin_a, "csm@acme.test", Role.SUPPORT, capture=django_capture_on_commit_callbacks
    )
    response = client_for(csm_a).post(link)
    assert response.status_code == 302
    membership = membership_of(org_a, "csm@acme.test")
    assert membership.pk == csm_a.pk
    assert membership.is_active and membership.deactivated_at is None
    assert membership.role == Role.SUPPORT


# --- roles -----------------------------------------------------------------------------------


def test_role_change_updates_the_row_audits_and_notifies_the_member_once(
    org_a, admin_a, csm_a, client_for
):
    client = client_for(admin_a)
    response = client.post(url("member-role", org_a, csm_a.pk), {"role": Role.PM}, headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="member-{csm_a.pk}"')
    assert "Role changed to PM." in body
    client.post(url("member-role", org_a, csm_a.pk), {"role": Role.PM}, headers=HTMX)
    with tenant_context(org_a):
        csm_a.refresh_from_db()
        notes = list(Notification.objects.for_org(org_a).filter(recipient=csm_a))
        events = list(AuditEvent.objects.for_org(org_a).filter(action="member.role_change"))
    assert csm_a.role == Role.PM
    assert len(notes) == 1
    assert notes[0].title == "Your role in Acme Analytics is now PM"
    assert [e.changes for e in events] == [{"role": ["csm", "pm"]}]


def test_role_change_without_htmx_redirects_with_a_message(org_a, admin_a, csm_a, client_for):
    response = client_for(admin_a).post(
        url("member-role", org_a, csm_a.pk), {"role": Role.VP_CS}, follow=True
    )
    assert "Casey CSM: Role changed to VP CS." in response.content.decode()


def test_non_admin_cannot_change_roles(org_a, admin_a, csm_a, pm_a, client_for):
    assert (
        client_for(csm_a).post(url("member-role", org_a, pm_a.pk), {"role": "admin"}).status_code
        == 403
    )
    assert membership_of(org_a, "pm@acme.test").role == Role.PM
    assert (
        client_for(admin_a).post(url("member-role", org_a, pm_a.pk), {"role": "csm"}).status_code
        == 302
    )
    assert membership_of(org_a, "pm@acme.test").role == Role.CSM


def test_last_admin_cannot_be_demoted(org_a, admin_a, make_member, client_for):
    client = client_for(admin_a)
    response = client.post(url("member-role", org_a, admin_a.pk), {"role": Role.CSM}, headers=HTMX)
    assert "An organization needs at least one active admin." in response.content.decode()
    assert membership_of(org_a, "admin@acme.test").role == Role.ADMIN

    make_member(org_a, Role.ADMIN)
    client.post(url("member-role", org_a, admin_a.pk), {"role": Role.CSM}, headers=HTMX)
    assert membership_of(org_a, "admin@acme.test").role == Role.CSM


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(org_a, admin_a, make_member):
    other = make_member(org_a, Role.ADMIN)
    with tenant_context(org_a):
        member_services.member_deactivate(org=org_a, actor=admin_a, membership=other)
        with pytest.raises(ApplicationError, match="at least one active admin"):
            member_services.member_change_role(
                org=org_a, actor=admin_a, membership=admin_a, role=Role.PM
            )


# --- deactivation ----------------------------------------------------------------------------


def test_deactivation_ends_the_members_sessions_and_locks_them_out(
    org_a, admin_a, csm_a, client_for
):
    csm_client = client_for(csm_a)
    home = reverse("alignment:home", kwargs={"org_slug": org_a.slug})
    assert csm_client.get(home).status_code == 200
    assert UserSession.objects.filter(user_id=csm_a.user_id).exists()

    response = client_for(admin_a).post(url("member-deactivate", org_a, csm_a.pk), follow=True)
    assert "Casey CSM was deactivated" in response.content.decode()

    assert not UserSession.objects.filter(user_id=csm_a.user_id).exists()
    after = csm_client.get(home)
    assert after.status_code == 302
    assert after.url.startswith(reverse("login"))
    # Logging in again does not bring the organization back.
    assert client_for(csm_a).get(home).status_code == 404
    membership = membership_of(org_a, "csm@acme.test")
    assert not membership.is_active and membership.deactivated_at is not None
    with tenant_context(org_a):
        assert AuditEvent.objects.for_org(org_a).filter(action="member.deactivate").count() == 1
    # The deactivated member still shows in the list, marked as such.
    listing = client_for(admin_a).get(members_url(org_a)).content.decode()
    assert "Deactivated" in listing


def test_nobody_can_deactivate_themselves(org_a, admin_a, make_member, client_for):
    make_member(org_a, Role.ADMIN)
    response = client_for(admin_a).post(url("member-deactivate", org_a, admin_a.pk), follow=True)
    assert "You cannot deactivate yourself." in response.content.decode()
    assert membership_of(org_a, "admin@acme.test").is_active


def test_non_admin_cannot_deactivate(org_a, admin_a, csm_a, pm_a, client_for):
    assert client_for(csm_a).post(url("member-deactivate", org_a, pm_a.pk)).status_code == 403
    assert membership_of(org_a, "pm@acme.test").is_active
    assert client_for(admin_a).post(url("member-deactivate", org_a, pm_a.pk)).status_code == 302
    assert not membership_of(org_a, "pm@acme.test").is_active


def test_reactivated_member_gets_access_back(org_a, admin_a, csm_a, client_for):
    client = client_for(admin_a)
    client.post(url("member-deactivate", org_a, csm_a.pk))
    response = client.post(url("member-reactivate", org_a, csm_a.pk), follow=True)
    assert "Casey CSM was reactivated" in response.content.decode()
    home = reverse("alignment:home", kwargs={"org_slug": org_a.slug})
    assert client_for(csm_a).get(home).status_code == 200


def test_other_organizations_members_are_missing_and_unchanged(
    org_a, admin_a, org_b, admin_b, csm_b, client_for
):
    client = client_for(admin_a)
    assert client.post(url("member-deactivate", org_a, csm_b.pk)).status_code == 404
    assert client.post(url("member-role", org_a, csm_b.pk), {"role": "admin"}).status_code == 404
    with tenant_context(org_b):
        csm_b.refresh_from_db()
        invitation = Invitation.objects.for_org(org_b).create(
            organization=org_b,
            email="x@borealis.test",
            role=Role.CSM,
            token_hash="f" * 64,
            invited_by=admin_b,
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert csm_b.is_active and csm_b.role == Role.CSM
    assert client.post(url("invitation-revoke", org_a, invitation.pk)).status_code == 404
    with tenant_context(org_b):
        invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_services_refuse_an_actor_without_member_manage(org_a, csm_a, pm_a):
    with tenant_context(org_a), pytest.raises(ApplicationError, match="Only admins"):
        member_services.member_deactivate(org=org_a, actor=csm_a, membership=pm_a)


def test_existing_user_with_password_cannot_be_taken_over_through_signup(
    org_a, admin_a, django_capture_on_commit_callbacks
):
    UserFactory(email="new@acme.test")
    link = invite(org_a, admin_a, "new@acme.test", capture=django_capture_on_commit_callbacks)
    response = Client().post(
        link, {"full_name": "Mallory", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert "Log in to accept" in response.content.decode()
    assert User.objects.get(email="new@acme.test").check_password("correct horse battery")
    assert membership_of(org_a, "new@acme.test") is None


def test_invite_page_works_without_javascript(org_a, admin_a, client_for):
    client = client_for(admin_a)
    invite_url = reverse("alignment:member-invite", kwargs={"org_slug": org_a.slug})
    page = client.get(invite_url)
    assert page.status_code == 200
    assert "Invite a member" in page.content.decode()
    error = client.post(invite_url, {"email": "admin@acme.test", "role": Role.PM})
    assert error.status_code == 200
    assert "admin@acme.test is already a member." in error.content.decode()
    assert "<html" in error.content.decode()

"""People in an organization: invitations, roles, deactivation.

Rules enforced here (views, the API and commands all come through these functions):

- Only a member whose role carries ``Perm.MEMBER_MANAGE`` (admins) may invite, change roles,
  deactivate, reactivate or revoke; the view checks it too, the service is the last word.
- An organization always keeps at least one active admin: the last one can be neither
  demoted nor deactivated, otherwise nobody could manage members again.
- Nobody deactivates themselves (the same lock-out, one person at a time).
- An invitation's token is shown once (in the email) and stored only as its SHA-256 hash,
  so a database leak does not hand out working links. Inviting the same email again
  replaces the pending invitation; resending rotates the token, so old links stop working.
- Deactivating a member ends their sessions at once.

The few reads the members page needs sit at the bottom of this module.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import (
    Invitation,
    Membership,
    Organization,
    Role,
    User,
    UserSession,
)
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_record, diff, snapshot
from alignment.services.notifications import notification_create

INVITATION_TTL = datetime.timedelta(days=7)
LAST_ADMIN_MESSAGE = "An organization needs at least one active admin."


@dataclass(frozen=True)
class NewUserData:
    """What a person who has no Seam login yet gives when accepting an invitation."""

    full_name: str
    password: str


# --- helpers ---------------------------------------------------------------------------------


def invitation_url(*, org: Organization, token: str) -> str:
    path = reverse("invite-accept", kwargs={"org_slug": org.slug, "token": token})
    return f"{settings.SEAM_BASE_URL.rstrip('/')}{path}"


def _require_manager(*, org: Organization, actor: Membership) -> None:
    if actor.organization_id != org.pk or not actor.is_active:
        raise ApplicationError("You are not a member of this organization.", code="forbidden")
    if not role_has_perm(actor.role, Perm.MEMBER_MANAGE):
        raise ApplicationError("Only admins can manage members.", code="forbidden")


def _require_same_org(*, org: Organization, obj: Membership | Invitation) -> None:
    # A row of another organization is treated as missing, never acted upon.
    if obj.organization_id != org.pk:
        raise ApplicationError("No such member or invitation.", code="not_found")


def _validate_role(role: str) -> str:
    if role not in Role.values:
        raise ApplicationError(
            "Choose one of the roles in the list.", field_errors={"role": ["Choose a valid role."]}
        )
    return role


def _role_label(role: str) -> str:
    return Role(role).label


def _lock_active_admins(org: Organization) -> list[int]:
    """Lock the active admins' rows so two concurrent demotions cannot both pass the check."""
    return list(
        Membership.objects.for_org(org)
        .select_for_update()
        .filter(role=Role.ADMIN, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _ensure_not_last_admin(*, org: Organization, membership: Membership) -> None:
    if membership.role != Role.ADMIN or not membership.is_active:
        return
    admins = _lock_active_admins(org)
    if admins == [membership.pk] or not admins:
        raise ApplicationError(LAST_ADMIN_MESSAGE, code="last_admin")


def _lock_membership(*, org: Organization, membership: Membership) -> Membership:
    """Re-read the row under a lock: the caller's copy may be stale."""
    _require_same_org(org=org, obj=membership)
    return (
        Membership.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("user")
        .get(pk=membership.pk)
    )


def _send_invitation_email(*, org: Organization, invitation: Invitation, token: str) -> None:
    """Render now (inside the transaction), send after commit: a rollback sends nothing."""
    inviter = invitation.invited_by.user.display_name if invitation.invited_by else "An admin"
    context = {
        "org": org,
        "inviter": inviter,
        "role": _role_label(invitation.role),
        "url": invitation_url(org=org, token=token),
        "expires_at": invitation.expires_at,
    }
    subject = f"{inviter} invited you to {org.name} on Seam"
    body = render_to_string("email/invitation.txt", context)
    recipient = invitation.email

    transaction.on_commit(
        lambda: send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient],
        )
    )


# --- invitations -----------------------------------------------------------------------------


@transaction.atomic
def member_invite(*, org: Organization, actor: Membership, email: str, role: str) -> Invitation:
    """Invite an email address to join with a role, and email them a one-time link.

    An address that is already an active member is refused. A still-pending invitation to
    the same address is revoked and replaced (the newest link is the only one that works).
    A deactivated member may be invited back: accepting reactivates them with this role.
    """
    _require_manager(org=org, actor=actor)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            "Enter a valid email address.",
            field_errors={"email": ["Enter a valid email address."]},
        ) from None
    _validate_role(role)
    if Membership.objects.for_org(org).filter(user__email__iexact=email, is_active=True).exists():
        raise ApplicationError(
            f"{email} is already a member.",
            field_errors={"email": [f"{email} is already a member."]},
            code="already_member",
        )
    now = timezone.now()
    replaced = list(
        Invitation.objects.for_org(org)
        .select_for_update()
        .filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if replaced:
        Invitation.objects.for_org(org).filter(pk__in=replaced).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.for_org(org).create(
        organization=org,
        email=email,
        role=role,
        token_hash=Invitation.hash_token(token),
        invited_by=actor,
        expires_at=now + INVITATION_TTL,
    )
    changes: dict[str, object] = {"email": [None, email], "role": [None, role]}
    if replaced:
        changes["replaces_invitations"] = replaced
    audit_record(
        org=org, actor=actor.user, action="member.invite", target=invitation, changes=changes
    )
    _send_invitation_email(org=org, invitation=invitation, token=token)
    return invitation


@transaction.atomic
def invitation_resend(
    *, org: Organization, actor: Membership, invitation: Invitation
) -> Invitation:
    """Email a fresh link: the token rotates (old links stop working) and the clock restarts."""
    _require_manager(org=org, actor=actor)
    _require_same_org(org=org, obj=invitation)
    invitation = (
        Invitation.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("invited_by__user")
        .get(pk=invitation.pk)
    )
    if invitation.accepted_at is not None:
        raise ApplicationError("This invitation was already accepted.", code="accepted")
    if invitation.revoked_at is not None:
        raise ApplicationError(
            "This invitation was revoked. Invite the person again instead.", code="revoked"
        )
    if (
        Membership.objects.for_org(org)
        .filter(user__email__iexact=invitation.email, is_active=True)
        .exists()
    ):
        raise ApplicationError(f"{invitation.email} is already a member.", code="already_member")
    before = snapshot(invitation, ["expires_at"])
    token = secrets.token_urlsafe(32)
    invitation.token_hash = Invitation.hash_token(token)
    invitation.expires_at = timezone.now() + INVITATION_TTL
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="member.invite_resend",
        target=invitation,
        changes=diff(before, snapshot(invitation, ["expires_at"])),
    )
    _send_invitation_email(org=org, invitation=invitation, token=token)
    return invitation


@transaction.atomic
def invitation_revoke(
    *, org: Organization, actor: Membership, invitation: Invitation
) -> Invitation:
    """Withdraw an invitation that has not been accepted: its link stops working."""
    _require_manager(org=org, actor=actor)
    _require_same_org(org=org, obj=invitation)
    invitation = Invitation.objects.for_org(org).select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ApplicationError(
            "This invitation was already accepted; deactivate the member instead.",
            code="accepted",
        )
    if invitation.revoked_at is not None:
        raise ApplicationError("This invitation was already revoked.", code="revoked")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="member.invite_revoke",
        target=invitation,
        changes={"revoked_at": [None, invitation.revoked_at]},
    )
    return invitation


@transaction.atomic
def invitation_accept(
    *, org: Organization, token: str, user_or_new_user_data: User | NewUserData
) -> Membership:
    """Turn a pending invitation into a membership.

    An existing user must be the invited address (the view makes them log in first); a new
    person gets a user created with a password that passes the configured validators. A
    deactivated membership is reactivated with the invited role. The inviter is notified.
    Call inside ``tenant_context(org)``.
    """
    invitation = (
        Invitation.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("invited_by__user")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise ApplicationError(
            "This invitation link is invalid or has expired. Ask an admin for a new one.",
            code="invalid_invitation",
        )
    if isinstance(user_or_new_user_data, User):
        user = user_or_new_user_data
        if user.email.lower() != invitation.email.lower():
            raise ApplicationError(
                f"This invitation is for {invitation.email}, not {user.email}.",
                code="wrong_user",
            )
    else:
        user = _user_create_for_invitation(invitation=invitation, data=user_or_new_user_data)

    now = timezone.now()
    membership = Membership.objects.for_org(org).select_for_update().filter(user=user).first()
    if membership is None:
        membership = Membership.objects.for_org(org).create(
            organization=org, user=user, role=invitation.role
        )
        action, changes = "member.join", {"role": [None, invitation.role]}
    elif not membership.is_active:
        before = snapshot(membership, ["role", "is_active"])
        membership.role = invitation.role
        membership.is_active = True
        membership.deactivated_at = None
        membership.save(update_fields=["role", "is_active", "deactivated_at"])
        action = "member.rejoin"
        changes = diff(before, snapshot(membership, ["role", "is_active"]))
    else:
        # Already active (e.g. added through another invitation meanwhile): the link is used
        # up, the existing role stands.
        action, changes = "member.join", {}
    membership.user = user
    invitation.accepted_at = now
    invitation.save(update_fields=["accepted_at"])
    audit_record(org=org, actor=user, action=action, target=membership, changes=changes)

    inviter = invitation.invited_by
    if inviter is not None and inviter.is_active and inviter.pk != membership.pk:
        notification_create(
            org=org,
            recipient=inviter,
            kind="member.joined",
            title=f"{user.display_name} joined {org.name}",
            body=f"{user.display_name} ({user.email}) accepted your invitation and joined "
            f"as {_role_label(membership.role)}.",
            url=reverse("alignment:member-list", kwargs={"org_slug": org.slug}),
            dedupe_key=f"invite-accepted:{invitation.pk}",
        )
    return membership


def _user_create_for_invitation(*, invitation: Invitation, data: NewUserData) -> User:
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ApplicationError(
            f"{invitation.email} already has a Seam login. Log in to accept.",
            code="user_exists",
        )
    full_name = data.full_name.strip()
    if not full_name:
        raise ApplicationError("Enter your name.", field_errors={"full_name": ["Enter your name."]})
    candidate = User(email=invitation.email.lower(), full_name=full_name)
    try:
        password_validation.validate_password(data.password, user=candidate)
    except ValidationError as exc:
        raise ApplicationError(
            "Choose a stronger password.", field_errors={"password": list(exc.messages)}
        ) from None
    return User.objects.create_user(
        email=invitation.email, password=data.password, full_name=full_name
    )


# --- members ---------------------------------------------------------------------------------


@transaction.atomic
def member_change_role(
    *, org: Organization, actor: Membership, membership: Membership, role: str
) -> Membership:
    """Give a member another role and tell them. The last active admin keeps theirs."""
    _require_manager(org=org, actor=actor)
    _validate_role(role)
    membership = _lock_membership(org=org, membership=membership)
    if membership.role == role:
        return membership
    if role != Role.ADMIN:
        _ensure_not_last_admin(org=org, membership=membership)
    before = snapshot(membership, ["role"])
    membership.role = role
    membership.save(update_fields=["role"])
    event = audit_record(
        org=org,
        actor=actor.user,
        action="member.role_change",
        target=membership,
        changes=diff(before, snapshot(membership, ["role"])),
    )
    old_label, new_label = _role_label(before["role"]), _role_label(role)
    notification_create(
        org=org,
        recipient=membership,
        kind="member.role_change",
        title=f"Your role in {org.name} is now {new_label}",
        body=f"{actor.user.display_name} changed your role from {old_label} to {new_label}.",
        url=reverse("alignment:home", kwargs={"org_slug": org.slug}),
        dedupe_key=f"role-change:{membership.pk}:{event.pk}",
    )
    return membership


@transaction.atomic
def member_deactivate(
    *, org: Organization, actor: Membership, membership: Membership
) -> Membership:
    """Take a member out of the organization (kept for history) and end their sessions."""
    _require_manager(org=org, actor=actor)
    membership = _lock_membership(org=org, membership=membership)
    if membership.pk == actor.pk:
        raise ApplicationError("You cannot deactivate yourself.", code="self")
    if not membership.is_active:
        raise ApplicationError(
            f"{membership.display_name} is already deactivated.", code="inactive"
        )
    _ensure_not_last_admin(org=org, membership=membership)
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        action="member.deactivate",
        target=membership,
        changes={"is_active": [True, False]},
    )
    # Ending the sessions inside the transaction rather than on commit: the sessions live
    # in the same database, so the deactivation and the logout commit or roll back together,
    # and there is no window (or a crash between commit and an on_commit hook) in which the
    # membership is off but the sessions survive. A request of that user already in flight
    # cannot resurrect its session: saving a deleted session fails (SessionInterrupted).
    # Sessions are per user, not per organization, so this logs them out everywhere; other
    # organizations they belong to simply need a new login.
    UserSession.objects.filter(user_id=membership.user_id).delete()
    return membership


@transaction.atomic
def member_reactivate(
    *, org: Organization, actor: Membership, membership: Membership
) -> Membership:
    """Bring a deactivated member back with the role they had."""
    _require_manager(org=org, actor=actor)
    membership = _lock_membership(org=org, membership=membership)
    if membership.is_active:
        raise ApplicationError(f"{membership.display_name} is already active.", code="active")
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    event = audit_record(
        org=org,
        actor=actor.user,
        action="member.reactivate",
        target=membership,
        changes={"is_active": [False, True]},
    )
    notification_create(
        org=org,
        recipient=membership,
        kind="member.reactivate",
        title=f"Your access to {org.name} is back",
        body=f"{actor.user.display_name} reactivated your membership as "
        f"{membership.get_role_display()}.",
        url=reverse("alignment:home", kwargs={"org_slug": org.slug}),
        dedupe_key=f"reactivate:{membership.pk}:{event.pk}",
    )
    return membership

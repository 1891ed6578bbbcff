"""Notifications: written with their cause, delivered once by a worker.

A notification row is created in the same transaction as the change that causes it, so a
rolled-back change notifies nobody and a committed one is never lost. Its ``dedupe_key``
is unique per organization: calling ``notification_create`` twice for the same cause
creates one row. Email delivery claims the row with a conditional UPDATE, so two workers
(or a retry racing the reconciler) cannot both send it.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import socket

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alignment.models import DeliveryStatus, Membership, Notification, Organization
from alignment.tenancy import cross_tenant_system_context, tenant_context

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 6
# A row left "sending" this long is presumed abandoned by a dead worker and re-sent.
STALE_CLAIM = datetime.timedelta(minutes=15)

TRANSIENT_EMAIL_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPDataError,
    smtplib.SMTPHeloError,
    socket.timeout,
    ConnectionError,
    OSError,
)


def notification_create(
    *,
    org: Organization,
    recipient: Membership,
    kind: str,
    title: str,
    dedupe_key: str,
    body: str = "",
    url: str = "",
) -> Notification | None:
    """Create one notification unless the same cause (dedupe key) already produced it.

    Returns the new row, or None when it already existed. Email delivery is enqueued after
    commit; an inactive member gets the in-app row but no email.
    """
    if recipient.organization_id != org.pk:
        raise ValueError("A notification's recipient must belong to its organization.")
    status = DeliveryStatus.PENDING if recipient.is_active else DeliveryStatus.SKIPPED
    try:
        with transaction.atomic():
            notification = Notification.objects.for_org(org).create(
                organization=org,
                recipient=recipient,
                kind=kind,
                title=title[:200],
                body=body,
                url=url,
                dedupe_key=dedupe_key[:200],
                email_status=status,
            )
    except IntegrityError:
        if Notification.objects.for_org(org).filter(dedupe_key=dedupe_key[:200]).exists():
            return None
        raise
    if status == DeliveryStatus.PENDING:
        from alignment.tasks import deliver_notification_task

        org_id, notification_id = org.pk, notification.pk
        transaction.on_commit(
            lambda: deliver_notification_task.delay(org_id=org_id, notification_id=notification_id)
        )
    return notification


def notification_mark_read(
    *, org: Organization, membership: Membership, notification_id: int
) -> int:
    return (
        Notification.objects.for_org(org)
        .filter(pk=notification_id, recipient=membership, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


def notification_mark_all_read(*, org: Organization, membership: Membership) -> int:
    return (
        Notification.objects.for_org(org)
        .filter(recipient=membership, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


class TransientDeliveryError(Exception):
    """The email could not be sent this time; the task retries with backoff."""


def notification_deliver_email(*, org_id: int, notification_id: int) -> str:
    """Send one notification's email at most once. Returns what happened.

    The claim is a conditional UPDATE from pending (or a stale "sending") to "sending":
    only the worker whose UPDATE touched the row sends. Success marks it sent; a transient
    failure returns it to pending with the error recorded (the caller retries); after the
    last attempt it is marked failed, never dropped.
    """
    now = timezone.now()
    with tenant_context(org_id):
        claimed = (
            Notification.objects.for_org(org_id)
            .filter(pk=notification_id)
            .filter(_claimable(now))
            .update(
                email_status=DeliveryStatus.SENDING,
                email_claimed_at=now,
            )
        )
        if not claimed:
            return "not-claimed"
        notification = (
            Notification.objects.for_org(org_id)
            .select_related("recipient__user")
            .get(pk=notification_id)
        )
    recipient = notification.recipient.user
    link = f"{settings.SEAM_BASE_URL.rstrip('/')}{notification.url}" if notification.url else ""
    body = notification.body + (f"\n\nOpen in Seam: {link}" if link else "")
    try:
        send_mail(
            subject=f"[Seam] {notification.title}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient.email],
        )
    except TRANSIENT_EMAIL_ERRORS as exc:
        attempts = notification.email_attempts + 1
        final = attempts >= MAX_EMAIL_ATTEMPTS
        with tenant_context(org_id):
            Notification.objects.for_org(org_id).filter(pk=notification_id).update(
                email_status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                email_attempts=attempts,
                email_last_error=f"{type(exc).__name__}: {exc}"[:2000],
                email_claimed_at=None,
            )
        if final:
            logger.error("notification %s email failed for good: %s", notification_id, exc)
            return "failed"
        raise TransientDeliveryError(str(exc)) from exc
    with tenant_context(org_id):
        Notification.objects.for_org(org_id).filter(pk=notification_id).update(
            email_status=DeliveryStatus.SENT,
            email_attempts=notification.email_attempts + 1,
            email_sent_at=timezone.now(),
            email_last_error="",
        )
    return "sent"


def _claimable(now: datetime.datetime) -> Q:
    return Q(email_status=DeliveryStatus.PENDING) | Q(
        email_status=DeliveryStatus.SENDING, email_claimed_at__lt=now - STALE_CLAIM
    )


def notifications_resend_pending(
    *, older_than: datetime.timedelta = datetime.timedelta(minutes=2)
) -> int:
    """Reconciler: re-enqueue email deliveries left pending (lost message) or stale-claimed.

    A system job across organizations, hence the named escape hatch. Re-enqueueing is safe:
    delivery claims the row, so a row already being sent is not sent twice.
    """
    from alignment.tasks import deliver_notification_task

    now = timezone.now()
    with cross_tenant_system_context():
        rows = list(
            Notification.objects.filter(_claimable(now), created_at__lt=now - older_than)
            .order_by("created_at")
            .values_list("organization_id", "pk")[:1000]
        )
    for org_id, notification_id in rows:
        deliver_notification_task.delay(org_id=org_id, notification_id=notification_id)
    return len(rows)

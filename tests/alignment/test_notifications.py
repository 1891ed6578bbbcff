import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from alignment.models import DeliveryStatus, Notification
from alignment.services import notifications as svc
from alignment.tenancy import tenant_context


def _notify(org, member, key="k1", **kw):
    with tenant_context(org):
        return svc.notification_create(
            org=org,
            recipient=member,
            kind="test",
            title="Theme shipped",
            dedupe_key=key,
            body="It shipped.",
            url=f"/o/{org.slug}/",
            **kw,
        )


def test_a_notification_is_emailed_once_after_commit(
    org_a, csm_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(org_a, csm_a)
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [csm_a.user.email]
    assert "Theme shipped" in mail.outbox[0].subject
    with tenant_context(org_a):
        assert Notification.objects.get().email_status == DeliveryStatus.SENT


def test_the_same_cause_never_notifies_twice(org_a, csm_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(org_a, csm_a, key="theme:1:shipped")
        second = _notify(org_a, csm_a, key="theme:1:shipped")
    assert first is not None and second is None
    assert len(mail.outbox) == 1


def test_a_rolled_back_cause_leaves_no_notification(
    org_a, csm_a, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify(org_a, csm_a)
        raise RuntimeError("the change failed")
    assert mail.outbox == []
    with tenant_context(org_a):
        assert not Notification.objects.exists()


def test_a_retried_delivery_sends_nothing_twice(org_a, csm_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(org_a, csm_a)
    assert (
        svc.notification_deliver_email(org_id=org_a.pk, notification_id=notification.pk)
        == "not-claimed"
    )
    assert len(mail.outbox) == 1


def test_a_transient_failure_is_recorded_and_retried_then_marked_failed(org_a, csm_a):
    notification = _notify(org_a, csm_a)  # on_commit never runs: we drive delivery by hand
    with mock.patch(
        "alignment.services.notifications.send_mail",
        side_effect=smtplib.SMTPServerDisconnected("down"),
    ):
        for _ in range(svc.MAX_EMAIL_ATTEMPTS - 1):
            with pytest.raises(svc.TransientDeliveryError):
                svc.notification_deliver_email(org_id=org_a.pk, notification_id=notification.pk)
        assert (
            svc.notification_deliver_email(org_id=org_a.pk, notification_id=notification.pk)
            == "failed"
        )
    with tenant_context(org_a):
        notification.refresh_from_db()
    assert notification.email_status == DeliveryStatus.FAILED
    assert notification.email_attempts == svc.MAX_EMAIL_ATTEMPTS
    assert "down" in notification.email_last_error


def test_an_inactive_member_gets_the_in_app_notice_but_no_email(
    org_a, csm_a, django_capture_on_commit_callbacks
):
    with tenant_context(org_a):
        csm_a.is_active = False
        csm_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(org_a, csm_a)
    assert notification.email_status == DeliveryStatus.SKIPPED
    assert mail.outbox == []


def test_the_reconciler_resends_rows_left_pending(org_a, csm_a, org_b, csm_b):
    a = _notify(org_a, csm_a)
    b = _notify(org_b, csm_b)
    with tenant_context(org_a):
        Notification.objects.filter(pk=a.pk).update(created_at=a.created_at.replace(year=2020))
    assert svc.notifications_resend_pending() == 1  # b is too fresh to be presumed lost
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [csm_a.user.email]
    with tenant_context(org_b):
        b.refresh_from_db()
    assert b.email_status == DeliveryStatus.PENDING


def test_header_shows_unread_count_and_the_centre_marks_read(org_a, csm_a, client_for):
    _notify(org_a, csm_a, key="a")
    _notify(org_a, csm_a, key="b")
    client = client_for(csm_a)
    list_url = reverse("alignment:notification-list", kwargs={"org_slug": org_a.slug})
    body = client.get(list_url).content.decode()
    assert 'id="unread-count">2<' in body
    with tenant_context(org_a):
        first = Notification.objects.order_by("pk").first()
    response = client.post(
        reverse("alignment:notification-read", kwargs={"org_slug": org_a.slug, "pk": first.pk}),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'hx-swap-oob="true">1<' in response.content.decode()
    client.post(reverse("alignment:notification-read-all", kwargs={"org_slug": org_a.slug}))
    with tenant_context(org_a):
        assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_nobody_can_read_someone_elses_notification(org_a, csm_a, pm_a, client_for):
    notification = _notify(org_a, csm_a)
    response = client_for(pm_a).post(
        reverse(
            "alignment:notification-read", kwargs={"org_slug": org_a.slug, "pk": notification.pk}
        )
    )
    assert response.status_code == 404
    with tenant_context(org_a):
        notification.refresh_from_db()
    assert notification.read_at is None

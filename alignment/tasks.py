"""Celery tasks of the tenancy core: ids in, one service call out."""

from celery import shared_task

from alignment.services import notifications


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=notifications.MAX_EMAIL_ATTEMPTS,
    ignore_result=True,
)
def deliver_notification_task(self, *, org_id: int, notification_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return notifications.notification_deliver_email(
            org_id=org_id, notification_id=notification_id
        )
    except notifications.TransientDeliveryError as exc:
        # Exponential backoff: 30 s, 1 min, 2 min, ... capped at one hour.
        countdown = min(30 * 2**self.request.retries, 3600)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(ignore_result=True, expires=240)
def resend_pending_notifications_task() -> int:
    return notifications.notifications_resend_pending()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_import_task(self, *, org_id: int, import_id: int) -> None:  # type: ignore[no-untyped-def]
    from alignment.services.imports import import_run

    import_run(org_id=org_id, import_id=import_id)

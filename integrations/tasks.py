"""Webhook delivery tasks: ids in, one call out. Idempotent: the attempt claims its row."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_webhook_task(*, delivery_id: int, org_id: int) -> str:
    from integrations.delivery import webhook_delivery_attempt

    return webhook_delivery_attempt(delivery_id=delivery_id, org_id=org_id)


@shared_task(ignore_result=True, expires=50, acks_late=True, reject_on_worker_lost=True)
def redeliver_due_webhooks_task() -> int:
    from integrations.delivery import webhook_deliveries_sweep

    return webhook_deliveries_sweep()


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def purge_idempotency_records_task() -> int:
    """Hourly: forget ``Idempotency-Key`` records past their 24-hour replay window."""
    from integrations.api.idempotency import idempotency_records_purge

    return idempotency_records_purge()

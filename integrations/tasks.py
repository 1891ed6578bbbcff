"""Webhook delivery tasks. The delivery worker is built in this session's webhook work."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_webhook_task(*, delivery_id: int, org_id: int) -> None:
    from integrations.delivery import webhook_delivery_attempt

    webhook_delivery_attempt(delivery_id=delivery_id, org_id=org_id)

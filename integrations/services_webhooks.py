"""Outgoing webhooks: events are written as delivery rows in the same transaction as the
change that causes them, and delivered by a worker after commit (see integrations/tasks.py).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from alignment.models import Organization
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


def webhook_event_emit(
    *, org: Organization, event: WebhookEvent | str, data: dict[str, Any]
) -> int:
    """Queue one event for every active endpoint of ``org`` subscribed to it.

    Call it inside the service's transaction, beside the change: the rows commit or roll back
    with it, so an event is never sent for a change that did not happen and never lost for
    one that did. Returns the number of deliveries queued.
    """
    event = WebhookEvent(event)
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.for_org(org).filter(is_active=True)
        if event.value in (endpoint.events or [])
    ]
    if not endpoints:
        return 0
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = DjangoJSONEncoder().encode(
        {
            "id": str(event_id),
            "type": event.value,
            "created_at": now,
            "organization": org.slug,
            "data": data,
        }
    )
    body = json.loads(payload)
    deliveries = WebhookDelivery.objects.for_org(org).bulk_create(
        [
            WebhookDelivery(
                organization=org,
                endpoint=endpoint,
                event_id=event_id,
                event_type=event.value,
                payload=body,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
    )
    ids = [d.pk for d in deliveries if d.pk]
    if ids:
        transaction.on_commit(lambda: _enqueue(org.pk, ids))
    return len(endpoints)


def _enqueue(org_id: int, delivery_ids: list[int]) -> None:
    from integrations.tasks import deliver_webhook_task

    for delivery_id in delivery_ids:
        deliver_webhook_task.delay(delivery_id=delivery_id, org_id=org_id)

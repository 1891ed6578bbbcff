"""Reads of webhook settings and the delivery log. Every read takes the organization; another
organization's endpoint or delivery is treated exactly like a missing one."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from alignment.models import Organization
from integrations.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)

# Consecutive failed attempts from which an endpoint shows as failing. One failure can be a
# blip; three in a row (about four minutes of retries) means the receiver is down.
FAILING_AFTER = 3


def webhook_endpoint_list(*, org: Organization) -> list[WebhookEndpoint]:
    """Endpoints with their health and how many deliveries are waiting or gave up: one query.
    The counts read the partial index of pending rows plus the failed ones of the endpoint."""
    endpoints = list(
        WebhookEndpoint.objects.for_org(org)
        .annotate(
            pending_total=Count(
                "deliveries",
                filter=Q(
                    deliveries__status__in=[
                        WebhookDeliveryStatus.PENDING,
                        WebhookDeliveryStatus.DELIVERING,
                    ]
                ),
            ),
            failed_total=Count(
                "deliveries", filter=Q(deliveries__status=WebhookDeliveryStatus.FAILED)
            ),
        )
        .order_by("-is_active", "url")
    )
    labels = dict(WebhookEvent.choices)
    for endpoint in endpoints:
        endpoint.is_failing = endpoint.consecutive_failures >= FAILING_AFTER  # type: ignore[attr-defined]
        endpoint.event_labels = [labels.get(e, e) for e in endpoint.events or []]  # type: ignore[attr-defined]
    return endpoints


def webhook_endpoint_get(*, org: Organization, pk: int) -> WebhookEndpoint:
    endpoint = get_object_or_404(WebhookEndpoint.objects.for_org(org), pk=pk)
    endpoint.is_failing = endpoint.consecutive_failures >= FAILING_AFTER  # type: ignore[attr-defined]
    return endpoint


def webhook_delivery_list_for_endpoint(
    *, org: Organization, endpoint: WebhookEndpoint, status: str = ""
) -> QuerySet[WebhookDelivery]:
    """The delivery log of one endpoint, newest first (the log index), with the number of
    attempts each delivery has had in total."""
    rows = (
        WebhookDelivery.objects.for_org(org)
        .filter(endpoint=endpoint)
        .annotate(attempt_total=Count("attempt_log"))
        .order_by("-created_at", "-pk")
    )
    if status in WebhookDeliveryStatus.values:
        rows = rows.filter(status=status)
    return rows


def webhook_delivery_get(*, org: Organization, pk: int) -> WebhookDelivery:
    return get_object_or_404(
        WebhookDelivery.objects.for_org(org)
        .select_related("endpoint")
        .annotate(attempt_total=Count("attempt_log")),
        pk=pk,
    )


def webhook_attempt_list(*, org: Organization, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return list(
        WebhookAttempt.objects.for_org(org).filter(delivery=delivery).order_by("-attempted_at")[:50]
    )

"""Webhook endpoints and deliveries for the cross-organization sweep."""

from __future__ import annotations

from typing import Any

from integrations import services_webhook_endpoints as services
from integrations.models import WebhookDelivery, WebhookEvent
from integrations.services_webhooks import webhook_event_emit

_ENDPOINT = {"pk": lambda o: o.extra["webhook_endpoint"].pk}
_DELIVERY = {"pk": lambda o: o.extra["webhook_delivery"].pk}


def _kwargs(spec: dict[str, Any]) -> Any:
    return lambda o: {name: get(o) for name, get in spec.items()}


KWARGS_FROM = {
    "integrations:webhook-edit": _kwargs(_ENDPOINT),
    "integrations:webhook-rotate": _kwargs(_ENDPOINT),
    "integrations:webhook-toggle": _kwargs(_ENDPOINT),
    "integrations:webhook-test": _kwargs(_ENDPOINT),
    "integrations:webhook-delete": _kwargs(_ENDPOINT),
    "integrations:webhook-deliveries": _kwargs(_ENDPOINT),
    "integrations:webhook-delivery": _kwargs(_DELIVERY),
    "integrations:webhook-redeliver": _kwargs(_DELIVERY),
    "integrations:webhook-delivery-row": _kwargs(_DELIVERY),
}


def populate(o: Any) -> dict[str, Any]:
    # A public IP literal: passes the SSRF rules without a DNS lookup. Nothing is sent in the
    # sweep (the test transaction never commits, so no delivery task runs).
    endpoint = services.webhook_endpoint_create(
        org=o.org,
        actor=o.admin,
        url=f"https://93.184.215.14/hooks/{o.org.slug}",
        events=[WebhookEvent.THEME_STATUS_CHANGED.value],
    )
    webhook_event_emit(org=o.org, event=WebhookEvent.THEME_STATUS_CHANGED, data={"theme": {}})
    delivery = WebhookDelivery.objects.for_org(o.org).get(endpoint=endpoint)
    return {"webhook_endpoint": endpoint, "webhook_delivery": delivery}

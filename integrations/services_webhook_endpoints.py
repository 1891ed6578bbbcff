"""Writes of webhook settings: endpoints (URL, events, secret), test events and redelivery.

Admins manage endpoints in the browser. Every change is audited (the secret never appears in
the audit log). The URL is checked against the SSRF rules when it is saved, for a clear error
on the form; delivery checks it again at every send (see integrations/delivery.py).
"""

from __future__ import annotations

import secrets
import uuid

from django.db import transaction
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Membership, Organization
from alignment.services.audit import audit_record, diff
from integrations.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.ssrf import UnsafeURLError, check_url

MAX_ENDPOINTS = 20
SECRET_PREFIX = "whsec_"  # noqa: S105 - a public prefix, not a secret
PING_EVENT = "ping"  # the test event: sent to one endpoint whatever it subscribes to


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _same_org(org: Organization, obj: WebhookEndpoint | WebhookDelivery) -> None:
    if obj.organization_id != org.pk:
        raise ApplicationError("No such webhook.", code="not_found")


def _clean(
    org: Organization, url: str, events: list[str], description: str, *, exclude_pk: int | None
) -> tuple[str, list[str], str]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = ["Enter the URL that should receive the events."]
    elif len(url) > 500:
        errors["url"] = ["Keep the URL under 500 characters."]
    else:
        try:
            check_url(url)
        except UnsafeURLError as exc:
            errors["url"] = [str(exc)]
    chosen = [event for event in WebhookEvent.values if event in set(events or [])]
    unknown = set(events or []) - set(WebhookEvent.values)
    if unknown:
        errors["events"] = [f"Unknown event: {', '.join(sorted(unknown))}."]
    elif not chosen:
        errors["events"] = ["Choose at least one event to send."]
    description = " ".join((description or "").split())
    if len(description) > 200:
        errors["description"] = ["Keep the description under 200 characters."]
    if not errors.get("url"):
        clash = WebhookEndpoint.objects.for_org(org).filter(url=url)
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            errors["url"] = ["An endpoint with this URL already exists; edit that one."]
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    return url, chosen, description


@transaction.atomic
def webhook_endpoint_create(
    *,
    org: Organization,
    actor: Membership,
    url: str,
    events: list[str],
    description: str = "",
) -> WebhookEndpoint:
    """Register an endpoint with a freshly generated signing secret. The URL must pass the
    SSRF rules now, so an admin learns at once that an internal address will never work."""
    url, events, description = _clean(org, url, events, description, exclude_pk=None)
    if WebhookEndpoint.objects.for_org(org).count() >= MAX_ENDPOINTS:
        raise ApplicationError(
            f"An organization can have at most {MAX_ENDPOINTS} webhook endpoints; "
            "delete one you no longer use."
        )
    endpoint = WebhookEndpoint.objects.for_org(org).create(
        organization=org,
        url=url,
        description=description,
        events=events,
        secret=_new_secret(),
        created_by=actor,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="webhook.create",
        target=endpoint,
        changes={"url": url, "events": events, "description": description},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    org: Organization,
    actor: Membership,
    endpoint: WebhookEndpoint,
    url: str,
    events: list[str],
    description: str = "",
) -> WebhookEndpoint:
    _same_org(org, endpoint)
    url, events, description = _clean(org, url, events, description, exclude_pk=endpoint.pk)
    endpoint = WebhookEndpoint.objects.for_org(org).select_for_update().get(pk=endpoint.pk)
    before = {"url": endpoint.url, "events": endpoint.events, "description": endpoint.description}
    after = {"url": url, "events": events, "description": description}
    changes = diff(before, after)
    if not changes:
        return endpoint
    endpoint.url, endpoint.events, endpoint.description = url, events, description
    endpoint.save(update_fields=["url", "events", "description"])
    audit_record(
        org=org, actor=actor.user, action="webhook.update", target=endpoint, changes=changes
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_set_active(
    *, org: Organization, actor: Membership, endpoint: WebhookEndpoint, active: bool
) -> WebhookEndpoint:
    """Disable (nothing is queued or sent; pending deliveries are marked failed when their
    turn comes, so they can be redelivered later) or enable again."""
    _same_org(org, endpoint)
    endpoint = WebhookEndpoint.objects.for_org(org).select_for_update().get(pk=endpoint.pk)
    if endpoint.is_active == active:
        return endpoint
    if active:
        # The URL may have been fine when saved and unsafe now (its DNS changed).
        try:
            check_url(endpoint.url)
        except UnsafeURLError as exc:
            raise ApplicationError(f"Cannot enable this endpoint: {exc}") from exc
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])
    audit_record(
        org=org,
        actor=actor.user,
        action="webhook.enable" if active else "webhook.disable",
        target=endpoint,
        changes={"is_active": [not active, active]},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, org: Organization, actor: Membership, endpoint: WebhookEndpoint
) -> WebhookEndpoint:
    """Replace the signing secret. Takes effect for the next attempt: deliveries still queued
    are signed with the new secret when they are sent."""
    _same_org(org, endpoint)
    endpoint = WebhookEndpoint.objects.for_org(org).select_for_update().get(pk=endpoint.pk)
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret"])
    audit_record(
        org=org,
        actor=actor.user,
        action="webhook.rotate_secret",
        target=endpoint,
        changes={"secret": "rotated"},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(
    *, org: Organization, actor: Membership, endpoint: WebhookEndpoint
) -> None:
    """Delete the endpoint and its delivery log (the audit log keeps that it existed)."""
    _same_org(org, endpoint)
    endpoint = WebhookEndpoint.objects.for_org(org).select_for_update().get(pk=endpoint.pk)
    audit_record(
        org=org,
        actor=actor.user,
        action="webhook.delete",
        target=endpoint,
        changes={"url": endpoint.url, "events": endpoint.events},
    )
    endpoint.delete()


def _enqueue_after_commit(org_id: int, delivery_id: int) -> None:
    def enqueue() -> None:
        from integrations.tasks import deliver_webhook_task

        deliver_webhook_task.delay(delivery_id=delivery_id, org_id=org_id)

    transaction.on_commit(enqueue)


@transaction.atomic
def webhook_endpoint_send_test(
    *, org: Organization, actor: Membership, endpoint: WebhookEndpoint
) -> WebhookDelivery:
    """Queue a ``ping`` event to this endpoint only, so an admin can check the receiver and
    its signature check before real events flow. It appears in the delivery log like any
    other delivery."""
    _same_org(org, endpoint)
    if not endpoint.is_active:
        raise ApplicationError("Enable the endpoint before sending it a test event.")
    event_id = uuid.uuid4()
    now = timezone.now()
    delivery = WebhookDelivery.objects.for_org(org).create(
        organization=org,
        endpoint=endpoint,
        event_id=event_id,
        event_type=PING_EVENT,
        payload={
            "id": str(event_id),
            "type": PING_EVENT,
            "created_at": now.isoformat(),
            "organization": org.slug,
            "data": {"message": "A test event from Seam.", "sent_by": actor.user.email},
        },
        next_attempt_at=now,
    )
    audit_record(
        org=org,
        actor=actor.user,
        action="webhook.test",
        target=endpoint,
        changes={"event_id": str(event_id)},
    )
    _enqueue_after_commit(org.pk, delivery.pk)
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(
    *, org: Organization, actor: Membership, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Send a delivery again, whatever its status: a succeeded one too (the receiver lost it).

    The same event id goes out again, so a receiver that deduplicates by ``Seam-Delivery``
    can tell it is a repeat. The delivery gets a fresh retry window (its attempt counter
    starts again; the attempt log keeps every earlier attempt). A delivery being sent right
    now is left alone: the conditional UPDATE below only matches one that is not claimed.
    """
    _same_org(org, delivery)
    endpoint = WebhookEndpoint.objects.for_org(org).get(pk=delivery.endpoint_id)
    if not endpoint.is_active:
        raise ApplicationError("Enable the endpoint before redelivering to it.")
    now = timezone.now()
    updated = (
        WebhookDelivery.objects.for_org(org)
        .filter(pk=delivery.pk)
        .exclude(status=WebhookDeliveryStatus.DELIVERING)
        .update(
            status=WebhookDeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_at=None,
        )
    )
    if not updated:
        raise ApplicationError("This delivery is being sent right now; wait a moment.")
    audit_record(
        org=org,
        actor=actor.user,
        action="webhook.redeliver",
        target=endpoint,
        changes={"delivery": delivery.pk, "event_id": str(delivery.event_id)},
    )
    _enqueue_after_commit(org.pk, delivery.pk)
    return WebhookDelivery.objects.for_org(org).select_related("endpoint").get(pk=delivery.pk)

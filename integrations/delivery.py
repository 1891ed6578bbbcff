"""Sending webhook deliveries: one claimed attempt at a time, retries kept in the database.

A delivery row is written in the same transaction as the change (``webhook_event_emit``) and
sent after commit by ``deliver_webhook_task``. Each attempt:

1. claims the row with a conditional UPDATE (pending and due, or a "delivering" claim left
   stale by a crashed worker): only the worker whose UPDATE changed the row sends, so two
   workers, or a task and the sweep, never deliver the same row at once;
2. re-checks the endpoint's URL against the SSRF rules on the addresses it is about to
   connect to, and connects to exactly those (no second DNS lookup to rebind);
3. POSTs the signed body with short timeouts and without following redirects, outside any
   database transaction (a slow receiver must not hold a connection or locks);
4. records a ``WebhookAttempt`` and either marks the delivery succeeded (2xx) or schedules
   the next attempt with exponential backoff. After ``MAX_ATTEMPTS`` (more than 24 hours of
   retrying) the delivery is marked failed, the endpoint's health shows it and the admins
   are notified: a failing endpoint is visible, never silent.

Retries are not Celery retries: ``next_attempt_at`` lives on the row and the beat sweep
(``webhook_deliveries_sweep``) enqueues what is due, so a lost message or a restarted worker
only delays a delivery, it never drops one.
"""

from __future__ import annotations

import datetime
import http.client
import json
import secrets
import socket
import ssl
import time
from dataclasses import dataclass

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from alignment.models import Membership, Organization, Role
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_source
from alignment.services.notifications import notification_create
from alignment.tenancy import cross_tenant_system_context, tenant_context
from integrations import signing
from integrations.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from integrations.ssrf import Target, UnsafeURLError, check_url

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# A claim older than this belongs to a worker that died mid-send; the row may be taken again.
# It is well above the longest possible send (connect + read timeouts).
STALE_CLAIM = datetime.timedelta(minutes=5)
BACKOFF_BASE = 30  # seconds before the second attempt
BACKOFF_CAP = 3600  # never wait more than an hour between attempts
RETRY_WINDOW = datetime.timedelta(hours=24)
RESPONSE_EXCERPT = 500
SWEEP_BATCH = 500
USER_AGENT = "Seam-Webhooks/1.0"


def backoff_delay(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, ... 1 h."""
    return int(min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def _attempts_for_window() -> int:
    # The smallest number of attempts whose waits add up to the retry window. Jitter only
    # ever lengthens a wait, so a delivery is retried for at least RETRY_WINDOW.
    waited, attempts = 0, 1
    while waited < RETRY_WINDOW.total_seconds():
        waited += backoff_delay(attempts)
        attempts += 1
    return attempts


MAX_ATTEMPTS = _attempts_for_window()


def _jittered(seconds: int) -> datetime.timedelta:
    # Up to +10 %: spreads a burst of failures (a receiver back up after an outage) so the
    # retries do not all arrive in the same second.
    return datetime.timedelta(seconds=seconds * (1 + secrets.randbelow(1000) / 10_000))


def _claimable(now: datetime.datetime) -> Q:
    return Q(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=WebhookDeliveryStatus.DELIVERING, claimed_at__lt=now - STALE_CLAIM
    )


def encode_body(payload: dict) -> bytes:
    """The exact bytes sent (and signed): compact JSON of the stored event."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- the HTTP send --------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address that was checked, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS; the certificate is still verified against the host name (SNI)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        sock.settimeout(self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass
class SendResult:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post_once(target: Target, address: str, body: bytes, headers: dict[str, str]) -> SendResult:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, address=address, timeout=READ_TIMEOUT)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT * 4).decode("utf-8", "replace")
        result = SendResult(status_code=response.status, excerpt=excerpt[:RESPONSE_EXCERPT])
        if 300 <= response.status < 400:
            result.error = f"HTTP {response.status}: redirects are not followed"
        elif not result.ok:
            result.error = f"HTTP {response.status}"
        return result
    finally:
        connection.close()


def send(url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST once, never raising: every outcome becomes a ``SendResult`` to record."""
    started = time.monotonic()
    try:
        target = check_url(url)
        result: SendResult | None = None
        for address in target.addresses:
            try:
                result = _post_once(target, address, body, headers)
                break
            except (ConnectionRefusedError, ConnectionResetError) as exc:
                # Try the host's next address (IPv6 then IPv4, ...), like a browser would.
                result = SendResult(error=_describe(exc))
        assert result is not None
    except UnsafeURLError as exc:
        result = SendResult(error=f"Blocked: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        result = SendResult(error=_describe(exc))
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"Timed out (connect {CONNECT_TIMEOUT:g} s, read {READ_TIMEOUT:g} s)"
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused"
    if isinstance(exc, ConnectionResetError):
        return "Connection reset by the receiver"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"TLS error: {exc}"[:300]
    if isinstance(exc, socket.gaierror):
        return "The host name could not be resolved"
    return f"{type(exc).__name__}: {exc}"[:300]


# --- one attempt ----------------------------------------------------------------------------


def webhook_delivery_claim(
    *, org_id: int, delivery_id: int, now: datetime.datetime
) -> WebhookDelivery | None:
    """Take the delivery for this worker, or None when it is not due or another worker has it.

    Must run inside ``tenant_context(org_id)``.
    """
    claimed = (
        WebhookDelivery.objects.for_org(org_id)
        .filter(_claimable(now), pk=delivery_id)
        .update(status=WebhookDeliveryStatus.DELIVERING, claimed_at=now)
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.for_org(org_id).select_related("endpoint").get(pk=delivery_id)


def webhook_delivery_attempt(
    *, delivery_id: int, org_id: int, now: datetime.datetime | None = None
) -> str:
    """Make one attempt at one delivery. Returns what happened, for logs and tests:
    ``not-claimed``, ``succeeded``, ``retrying``, ``failed`` or ``endpoint-disabled``."""
    now = now or timezone.now()
    with tenant_context(org_id):
        delivery = webhook_delivery_claim(org_id=org_id, delivery_id=delivery_id, now=now)
        if delivery is None:
            return "not-claimed"
        endpoint = delivery.endpoint
        if not endpoint.is_active:
            # A disabled endpoint receives nothing; the row stays in the log, marked failed,
            # so it can be redelivered once the endpoint is enabled again.
            _release(
                org_id,
                delivery,
                now,
                status=WebhookDeliveryStatus.FAILED,
                last_error="Not sent: the endpoint is disabled.",
            )
            return "endpoint-disabled"
        url, secret = endpoint.url, endpoint.secret
        body = encode_body(delivery.payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Seam-Event": delivery.event_type,
            "Seam-Delivery": str(delivery.event_id),
            signing.HEADER: signing.sign(secret, body),
        }
    result = send(url, body, headers)
    with tenant_context(org_id), audit_source("task", label="webhook delivery"):
        return _record(org_id, delivery, endpoint, result, claimed_at=now)


def _release(
    org_id: int,
    delivery: WebhookDelivery,
    claimed_at: datetime.datetime,
    **fields: object,
) -> int:
    # Only the holder of this exact claim may finish it: if the claim went stale and another
    # worker took the row meanwhile, this UPDATE changes nothing and the newer claim wins.
    return (
        WebhookDelivery.objects.for_org(org_id)
        .filter(pk=delivery.pk, status=WebhookDeliveryStatus.DELIVERING, claimed_at=claimed_at)
        .update(claimed_at=None, **fields)
    )


def _record(
    org_id: int,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: SendResult,
    *,
    claimed_at: datetime.datetime,
) -> str:
    finished = timezone.now()
    WebhookAttempt.objects.for_org(org_id).create(
        organization_id=org_id,
        delivery=delivery,
        attempted_at=finished,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        response_excerpt=result.excerpt[:RESPONSE_EXCERPT],
    )
    attempts = delivery.attempts + 1
    endpoints = WebhookEndpoint.objects.for_org(org_id).filter(pk=endpoint.pk)
    if result.ok:
        _release(
            org_id,
            delivery,
            claimed_at,
            status=WebhookDeliveryStatus.SUCCEEDED,
            attempts=attempts,
            last_status_code=result.status_code,
            last_error="",
            delivered_at=finished,
        )
        endpoints.update(last_success_at=finished, consecutive_failures=0)
        return "succeeded"
    endpoints.update(last_failure_at=finished, consecutive_failures=F("consecutive_failures") + 1)
    if attempts >= MAX_ATTEMPTS:
        released = _release(
            org_id,
            delivery,
            claimed_at,
            status=WebhookDeliveryStatus.FAILED,
            attempts=attempts,
            last_status_code=result.status_code,
            last_error=result.error,
        )
        if released:
            _notify_failed(org_id, endpoint, delivery, attempts, result.error)
        return "failed"
    _release(
        org_id,
        delivery,
        claimed_at,
        status=WebhookDeliveryStatus.PENDING,
        attempts=attempts,
        last_status_code=result.status_code,
        last_error=result.error,
        next_attempt_at=finished + _jittered(backoff_delay(attempts)),
    )
    return "retrying"


def _notify_failed(
    org_id: int, endpoint: WebhookEndpoint, delivery: WebhookDelivery, attempts: int, error: str
) -> None:
    """Tell the people who manage webhooks, once per endpoint per day (an endpoint down for a
    day fails many deliveries; one notice a day says it without flooding the bell)."""
    org = Organization.objects.get(pk=org_id)
    roles = [role for role in Role.values if role_has_perm(role, Perm.WEBHOOKS_MANAGE)]
    url = reverse(
        "integrations:webhook-deliveries", kwargs={"org_slug": org.slug, "pk": endpoint.pk}
    )
    day = timezone.localdate(timezone=org.tzinfo).isoformat()
    for member in Membership.objects.for_org(org).filter(role__in=roles, is_active=True):
        notification_create(
            org=org,
            recipient=member,
            kind="webhook.failed",
            title=f"Webhook endpoint failing: {endpoint.url}"[:200],
            body=(
                f"A {delivery.event_type} event could not be delivered after {attempts} "
                f"attempts over more than {int(RETRY_WINDOW.total_seconds() // 3600)} hours. "
                f"Last error: {error or 'see the delivery log'}.\n"
                "Fix the receiver, then redeliver from the delivery log."
            ),
            url=url,
            dedupe_key=f"webhook-failed:{endpoint.pk}:{day}:{member.pk}",
        )


# --- the sweep ------------------------------------------------------------------------------


def webhook_deliveries_due(*, now: datetime.datetime) -> list[tuple[int, int]]:
    """(organization id, delivery id) of deliveries due now, oldest first, across every
    organization: the only cross-tenant read here, and it reads ids only."""
    with cross_tenant_system_context():
        return list(
            WebhookDelivery.objects.filter(_claimable(now))
            .order_by("next_attempt_at")
            .values_list("organization_id", "pk")[:SWEEP_BATCH]
        )


def webhook_deliveries_sweep(*, now: datetime.datetime | None = None) -> int:
    """Enqueue every due delivery (retries whose time has come, rows whose message was lost,
    claims left stale). Safe at any frequency and concurrently: the attempt claims its row,
    so a row enqueued twice is still sent once."""
    from integrations.tasks import deliver_webhook_task

    due = webhook_deliveries_due(now=now or timezone.now())
    for org_id, delivery_id in due:
        deliver_webhook_task.delay(delivery_id=delivery_id, org_id=org_id)
    return len(due)

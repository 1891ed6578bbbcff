"""Webhook delivery end to end: events are queued with the change, signed, sent to a real
HTTP receiver on 127.0.0.1, retried with backoff while it is down, and delivered exactly once
when it comes back."""

from __future__ import annotations

import datetime
import json
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from alignment.models import Notification
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from integrations import services_webhook_endpoints as endpoint_services
from integrations import signing, ssrf
from integrations.delivery import (
    MAX_ATTEMPTS,
    backoff_delay,
    webhook_deliveries_sweep,
    webhook_delivery_attempt,
    webhook_delivery_claim,
)
from integrations.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.services_webhooks import webhook_event_emit
from tests.factories import AccountFactory


class Receiver:
    """A webhook receiver on a real socket. ``mode``: "up" answers 200, "error" answers 500,
    "down" is not listening at all (connection refused). It verifies each signature and
    counts deliveries by event id, as an integrator's deduplicating receiver would."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.secret = ""
        self.received: list[dict] = []
        self.bad_signatures = 0
        self.status = 200
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def counts(self) -> Counter:
        return Counter(item["delivery"] for item in self.received)

    def up(self, status: int = 200) -> None:
        self.status = status
        if self.server is not None:
            return
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    signing.verify(receiver.secret, self.headers.get("Seam-Signature"), body)
                except signing.SignatureError:
                    receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                if receiver.status == 200:
                    receiver.received.append(
                        {
                            "delivery": self.headers["Seam-Delivery"],
                            "event": self.headers["Seam-Event"],
                            "body": json.loads(body),
                        }
                    )
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status == 200 else b"receiver broken")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def refreshed(org, obj):
    """Reload a row inside its organization (row-level security hides it outside)."""
    with tenant_context(org):
        obj.refresh_from_db()
    return obj


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    receiver = Receiver()
    yield receiver
    receiver.down()


@pytest.fixture
def endpoint(org_a, admin_a, receiver) -> WebhookEndpoint:
    with tenant_context(org_a):
        endpoint = endpoint_services.webhook_endpoint_create(
            org=org_a,
            actor=admin_a,
            url=receiver.url,
            events=[WebhookEvent.THEME_STATUS_CHANGED, WebhookEvent.FEEDBACK_STATUS_CHANGED],
        )
    receiver.secret = endpoint.secret
    return endpoint


def emit(org, captured, n: int = 1) -> list[str]:
    """Emit ``n`` theme events in one committed transaction; the delivery tasks run (eagerly)
    after commit, as in production."""
    with captured(execute=True), transaction.atomic(), tenant_context(org):
        for i in range(n):
            webhook_event_emit(
                org=org,
                event=WebhookEvent.THEME_STATUS_CHANGED,
                data={"theme": {"id": i, "status": "on_roadmap"}},
            )
    with tenant_context(org):
        return [
            str(e)
            for e in WebhookDelivery.objects.for_org(org)
            .order_by("pk")
            .values_list("event_id", flat=True)
        ]


def deliveries(org) -> list[WebhookDelivery]:
    with tenant_context(org):
        return list(WebhookDelivery.objects.for_org(org).order_by("pk"))


def test_a_live_receiver_gets_each_event_signed_once(
    org_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.up()

    event_ids = emit(org_a, django_capture_on_commit_callbacks, n=2)

    assert receiver.counts() == Counter(event_ids)
    assert receiver.bad_signatures == 0
    assert {r["event"] for r in receiver.received} == {"theme.status_changed"}
    assert receiver.received[0]["body"]["organization"] == "acme"
    assert [d.status for d in deliveries(org_a)] == ["succeeded", "succeeded"]
    refreshed(org_a, endpoint)
    assert endpoint.last_success_at is not None
    assert endpoint.consecutive_failures == 0


def test_a_receiver_that_is_down_then_up_receives_every_event_exactly_once(
    org_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    event_ids = emit(org_a, django_capture_on_commit_callbacks, n=3)  # connection refused
    assert receiver.received == []
    first = deliveries(org_a)
    assert {d.status for d in first} == {"pending"}
    assert all(d.attempts == 1 and d.last_error == "Connection refused" for d in first)

    receiver.up(status=500)  # up but broken: still a failure, retried later
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=40), tick=True):
        assert webhook_deliveries_sweep() == 3
    assert receiver.received == []
    assert {d.attempts for d in deliveries(org_a)} == {2}

    receiver.up(status=200)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=True):
        assert webhook_deliveries_sweep() == 3
        # Sweeping again (or a lost, re-sent task message) sends nothing twice.
        assert webhook_deliveries_sweep() == 0
        for d in deliveries(org_a):
            assert webhook_delivery_attempt(delivery_id=d.pk, org_id=org_a.pk) == "not-claimed"

    assert receiver.counts() == Counter(event_ids)
    assert all(count == 1 for count in receiver.counts().values())
    assert {d.status for d in deliveries(org_a)} == {"succeeded"}
    with tenant_context(org_a):
        log = list(WebhookAttempt.objects.for_org(org_a).values_list("status_code", "error"))
    assert sorted(log, key=str).count((500, "HTTP 500")) == 3
    assert sum(1 for code, _ in log if code == 200) == 3
    refreshed(org_a, endpoint)
    assert endpoint.consecutive_failures == 0


def test_a_delivery_claimed_by_one_worker_is_not_sent_by_another(org_a, endpoint, receiver):
    with transaction.atomic(), tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
    (delivery,) = deliveries(org_a)
    now = timezone.now()

    with tenant_context(org_a):
        first = webhook_delivery_claim(org_id=org_a.pk, delivery_id=delivery.pk, now=now)
        second = webhook_delivery_claim(org_id=org_a.pk, delivery_id=delivery.pk, now=now)

    assert first is not None
    assert second is None
    assert webhook_delivery_attempt(delivery_id=delivery.pk, org_id=org_a.pk) == "not-claimed"


def test_a_claim_left_by_a_crashed_worker_is_taken_over_after_the_timeout(
    org_a, endpoint, receiver
):
    receiver.up()
    with transaction.atomic(), tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
    (delivery,) = deliveries(org_a)
    with tenant_context(org_a):
        assert webhook_delivery_claim(org_id=org_a.pk, delivery_id=delivery.pk, now=timezone.now())

    assert webhook_deliveries_sweep() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=True):
        assert webhook_deliveries_sweep() == 1

    assert len(receiver.received) == 1
    assert deliveries(org_a)[0].status == "succeeded"


def test_the_backoff_grows_from_thirty_seconds_to_an_hour():
    assert [backoff_delay(n) for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    retried_for = sum(backoff_delay(n) for n in range(1, MAX_ATTEMPTS))
    assert retried_for >= 24 * 3600
    assert retried_for - backoff_delay(MAX_ATTEMPTS - 1) < 24 * 3600


def test_a_receiver_down_for_a_day_gets_the_delivery_failed_and_the_endpoint_shown_failing(
    org_a, admin_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    started = timezone.now()
    emit(org_a, django_capture_on_commit_callbacks)
    (delivery,) = deliveries(org_a)
    outcomes = []
    with time_machine.travel(started, tick=False) as clock:
        while delivery.status == WebhookDeliveryStatus.PENDING:
            clock.move_to(delivery.next_attempt_at + datetime.timedelta(seconds=1))
            outcomes.append(webhook_delivery_attempt(delivery_id=delivery.pk, org_id=org_a.pk))
            delivery = deliveries(org_a)[0]

    assert delivery.status == "failed"
    assert delivery.attempts == MAX_ATTEMPTS
    assert outcomes[-1] == "failed"
    assert delivery.next_attempt_at - delivery.created_at >= datetime.timedelta(hours=23)
    with tenant_context(org_a):
        last = WebhookAttempt.objects.for_org(org_a).order_by("-attempted_at").first()
    assert last.attempted_at - delivery.created_at >= datetime.timedelta(hours=24)
    refreshed(org_a, endpoint)
    assert endpoint.consecutive_failures == MAX_ATTEMPTS
    assert endpoint.last_success_at is None
    with tenant_context(org_a):
        notices = list(Notification.objects.for_org(org_a).filter(kind="webhook.failed"))
    assert [n.recipient_id for n in notices] == [admin_a.pk]
    assert "Connection refused" in notices[0].body
    # The sweep leaves a failed delivery alone: only a redelivery sends it again.
    assert webhook_deliveries_sweep() == 0


def test_redeliver_sends_a_succeeded_delivery_again_with_the_same_event_id(
    org_a, admin_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.up()
    (event_id,) = emit(org_a, django_capture_on_commit_callbacks)
    (delivery,) = deliveries(org_a)

    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a):
        endpoint_services.webhook_delivery_redeliver(org=org_a, actor=admin_a, delivery=delivery)

    assert receiver.counts() == Counter({event_id: 2})
    with tenant_context(org_a):
        assert WebhookAttempt.objects.for_org(org_a).filter(delivery=delivery).count() == 2
    assert deliveries(org_a)[0].status == "succeeded"


def test_redeliver_gives_a_failed_delivery_a_fresh_retry_window(
    org_a, admin_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    emit(org_a, django_capture_on_commit_callbacks)
    with tenant_context(org_a):
        WebhookDelivery.objects.for_org(org_a).update(
            status=WebhookDeliveryStatus.FAILED, attempts=MAX_ATTEMPTS
        )
    (delivery,) = deliveries(org_a)
    receiver.up()

    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a):
        endpoint_services.webhook_delivery_redeliver(org=org_a, actor=admin_a, delivery=delivery)

    delivery = deliveries(org_a)[0]
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1
    assert len(receiver.received) == 1


def test_a_disabled_endpoint_is_sent_nothing(
    org_a, admin_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.up()
    with transaction.atomic(), tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
        endpoint_services.webhook_endpoint_set_active(
            org=org_a, actor=admin_a, endpoint=endpoint, active=False
        )
    (delivery,) = deliveries(org_a)

    assert webhook_delivery_attempt(delivery_id=delivery.pk, org_id=org_a.pk) == (
        "endpoint-disabled"
    )
    assert receiver.received == []
    assert deliveries(org_a)[0].status == "failed"


def test_a_host_that_rebinds_to_loopback_after_it_was_saved_is_blocked_at_send_time(
    org_a, admin_a, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    receiver.up()
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: ["93.184.215.14"])
    with tenant_context(org_a):
        endpoint_services.webhook_endpoint_create(
            org=org_a,
            actor=admin_a,
            url=f"http://hooks.example.com:{receiver.port}/hooks",
            events=[WebhookEvent.THEME_STATUS_CHANGED],
        )
    # The attacker's DNS now answers with our own loopback address.
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: ["127.0.0.1"])

    emit(org_a, django_capture_on_commit_callbacks)

    (delivery,) = deliveries(org_a)
    assert receiver.received == []
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("Blocked:")
    assert "loopback" in delivery.last_error


def test_redirects_are_not_followed(org_a, admin_a, receiver, django_capture_on_commit_callbacks):
    receiver.up(status=302)
    with tenant_context(org_a):
        endpoint = endpoint_services.webhook_endpoint_create(
            org=org_a, actor=admin_a, url=receiver.url, events=[WebhookEvent.THEME_STATUS_CHANGED]
        )
    receiver.secret = endpoint.secret

    emit(org_a, django_capture_on_commit_callbacks)

    (delivery,) = deliveries(org_a)
    assert delivery.status == "pending"
    assert delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error


def test_a_theme_status_change_is_delivered_with_its_feedback_events(
    org_a, admin_a, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.up()
    with tenant_context(org_a):
        account = AccountFactory(organization=org_a, name="Globex", external_id="crm-9")
        feedback = feedback_services.feedback_log(
            org=org_a, actor=admin_a, account=account, verbatim="Export to the warehouse."
        )
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a):
        feedback_services.feedback_triage(
            org=org_a,
            actor=admin_a,
            feedback=feedback,
            new_theme=feedback_services.NewTheme(title="Warehouse export"),
        )
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a):
        theme = feedback_services.Theme.objects.for_org(org_a).get()
        feedback_services.theme_set_status(
            org=org_a, actor=admin_a, theme=theme, status="not_planned", reason="Out of scope"
        )

    kinds = [(r["event"], r["body"]["data"]) for r in receiver.received]
    assert kinds[0][0] == "feedback.status_changed"
    assert kinds[0][1]["feedback"]["status"] == "under_review"
    assert kinds[0][1]["feedback"]["previous_status"] == "new"
    assert kinds[0][1]["feedback"]["account"]["external_id"] == "crm-9"
    assert kinds[1][0] == "theme.status_changed"
    assert kinds[1][1]["theme"]["status"] == "not_planned"
    assert kinds[1][1]["theme"]["previous_status"] == "under_review"
    assert kinds[1][1]["theme"]["not_planned_reason"] == "Out of scope"
    assert len(receiver.received) == 2

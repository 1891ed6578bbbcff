"""Notifications through the real broker: Redis, a Celery worker, one email per notification.

The rest of the suite runs tasks in-process (``CELERY_TASK_ALWAYS_EAGER``). Here, when
``REDIS_URL`` is set (CI sets it), a worker thread consumes from Redis while the test
creates a notification in a committed transaction: the service enqueues the delivery after
commit, the worker sends the email and marks the row sent, and a second delivery of the
same notification is refused by the claim. A last test races two threads on the claim
directly, with no broker at all.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connection, connections

from alignment.celery import app as celery_app
from alignment.models import DeliveryStatus, Membership, Notification, Organization, Role
from alignment.services.notifications import notification_create, notification_deliver_email
from alignment.tasks import deliver_notification_task
from alignment.tenancy import tenant_context
from tests.factories import MembershipFactory, OrganizationFactory

REDIS_URL = os.environ.get("REDIS_URL", "")


def _xdist_group(name: str) -> Callable[[Any], Any]:
    """Keep these tests on one xdist worker. Without xdist (``-p no:xdist``) the marker is not
    registered and ``--strict-markers`` refuses it, so it becomes a no-op there."""
    try:
        return pytest.mark.xdist_group(name)
    except pytest.fail.Exception:
        return lambda test: test


needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set: the real broker path needs Redis (.ci/run sets it)"
)


def _close_db_connections(**_: Any) -> None:
    # Runs in the worker thread after each task: that thread's connection must not outlive
    # the test (the test database is flushed and finally dropped).
    connections.close_all()


@pytest.fixture
def redis_worker(transactional_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A solo-pool worker thread on Redis, consuming a queue of its own."""
    queue = f"seam-test-{uuid.uuid4().hex}"
    overrides = {
        "broker_url": REDIS_URL,
        "task_always_eager": False,
        "task_default_queue": queue,
        "worker_hijack_root_logger": False,
    }
    saved = {key: celery_app.conf[key] for key in overrides}
    celery_app.conf.update(overrides)
    _drop_broker_pools()
    task_postrun.connect(_close_db_connections, weak=False)
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
        ):
            yield queue
    finally:
        task_postrun.disconnect(_close_db_connections)
        with celery_app.connection_for_write() as connection:
            connection.default_channel.client.delete(queue)
        celery_app.conf.update(saved)
        _drop_broker_pools()


def _drop_broker_pools() -> None:
    """Forget connections made for the previous broker URL."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()  # the producer pools are global, keyed by broker URL


def _wait_until(condition: Callable[[], bool], *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up after {timeout} s waiting for the worker")


def _email_status(org: Organization, notification_id: int) -> str:
    with tenant_context(org):
        return Notification.objects.for_org(org).get(pk=notification_id).email_status


def _notify(org: Organization, recipient: Membership, key: str) -> Notification:
    """Create a notification the way services do; leaving the block commits it, and the
    delivery task is enqueued on commit."""
    with tenant_context(org):
        notification = notification_create(
            org=org, recipient=recipient, kind="test", title=f"Heads up {key}", dedupe_key=key
        )
    assert notification is not None
    return notification


@pytest.fixture
def recipient(transactional_db) -> Membership:  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Acme", slug="acme")
    return MembershipFactory(organization=org, role=Role.PM, user__email="pat@acme.test")


@needs_redis
@_xdist_group("redis")
def test_a_committed_notification_is_emailed_once_through_redis_and_a_worker(
    redis_worker, recipient
):
    org = recipient.organization

    first = _notify(org, recipient, "first")
    _wait_until(lambda: _email_status(org, first.pk) == DeliveryStatus.SENT)

    assert [m.subject for m in mail.outbox] == ["[Seam] Heads up first"]
    assert mail.outbox[0].to == ["pat@acme.test"]
    with tenant_context(org):
        sent = Notification.objects.for_org(org).get(pk=first.pk)
    assert sent.email_attempts == 1
    assert sent.email_sent_at is not None

    # The same delivery again (a retry, the reconciler): the claim refuses it. A second
    # notification behind it in the queue tells us when the worker has got that far.
    deliver_notification_task.delay(org_id=org.pk, notification_id=first.pk)
    second = _notify(org, recipient, "second")
    _wait_until(lambda: _email_status(org, second.pk) == DeliveryStatus.SENT)

    assert [m.subject for m in mail.outbox] == [
        "[Seam] Heads up first",
        "[Seam] Heads up second",
    ]


@needs_redis
@_xdist_group("redis")
def test_a_rolled_back_change_enqueues_nothing(redis_worker, recipient):
    org = recipient.organization

    class Abort(Exception):
        pass

    with pytest.raises(Abort), tenant_context(org):
        notification_create(
            org=org, recipient=recipient, kind="test", title="Never", dedupe_key="x"
        )
        raise Abort
    after = _notify(org, recipient, "after")
    _wait_until(lambda: _email_status(org, after.pk) == DeliveryStatus.SENT)

    assert [m.subject for m in mail.outbox] == ["[Seam] Heads up after"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite locks the whole database for a write; the row claim is PostgreSQL's",
)
@_xdist_group("redis")
def test_two_workers_racing_for_one_notification_send_one_email(recipient):
    org = recipient.organization
    with tenant_context(org):
        notification = Notification.objects.for_org(org).create(
            organization=org, recipient=recipient, kind="test", title="Race", dedupe_key="race"
        )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(
                notification_deliver_email(org_id=org.pk, notification_id=notification.pk)
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == ["not-claimed", "sent"]
    assert [m.subject for m in mail.outbox] == ["[Seam] Race"]
    assert _email_status(org, notification.pk) == DeliveryStatus.SENT

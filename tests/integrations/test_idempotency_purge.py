# ruff: noqa: F811 - pytest fixtures imported from test_api_support are redefined as arguments
"""Idempotency records are forgotten after their 24-hour replay window by an hourly beat
task, in every organization; a key left in progress by a crashed request does not block it."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from alignment.tenancy import tenant_context
from feedback.models import Feedback
from integrations.api import idempotency
from integrations.api.idempotency import (
    RETENTION,
    fingerprint,
    idempotency_records_purge,
)
from integrations.models import IdempotencyRecord, IdempotencyState
from integrations.tasks import purge_idempotency_records_task
from tests.factories import AccountFactory
from tests.integrations.test_api_support import (  # noqa: F401
    ApiClient,
    api_a,
    assert_problem,
    key_a,
    make_key,
)

FEEDBACK = "/api/v1/feedback/"


@pytest.fixture
def account_a(org_a, csm_a):  # type: ignore[no-untyped-def]
    return AccountFactory(organization=org_a, csm=csm_a, name="Northwind", arr=Decimal("1000"))


@pytest.fixture
def api_b(org_b, admin_b) -> ApiClient:
    return ApiClient(make_key(org_b, admin_b).token)


@pytest.fixture
def account_b(org_b, csm_b):  # type: ignore[no-untyped-def]
    return AccountFactory(organization=org_b, csm=csm_b, name="Contoso", arr=Decimal("2000"))


def _body(account, verbatim: str = "We need SSO") -> dict:  # type: ignore[no-untyped-def]
    return {"account": account.pk, "verbatim": verbatim}


def _log(api: ApiClient, account, key: str, verbatim: str = "We need SSO"):  # type: ignore[no-untyped-def]
    return api.post(FEEDBACK, _body(account, verbatim), **{"Idempotency-Key": key})


def _age(org, key: str, by: datetime.timedelta) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - by)


def _keys(org) -> set[str]:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        return set(IdempotencyRecord.objects.values_list("key", flat=True))


def _feedback_count(org) -> int:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        return Feedback.objects.count()


HOURS_25 = datetime.timedelta(hours=25)
HOURS_23 = datetime.timedelta(hours=23)


def test_the_hourly_task_deletes_old_records_of_every_organization_and_keeps_fresh_ones(
    api_a, api_b, org_a, org_b, account_a, account_b
):
    for key in ("a-old-1", "a-old-2", "a-fresh"):
        assert _log(api_a, account_a, key, verbatim=key).status_code == 201
    for key in ("b-old", "b-fresh"):
        assert _log(api_b, account_b, key, verbatim=key).status_code == 201
    for org, key in ((org_a, "a-old-1"), (org_a, "a-old-2"), (org_b, "b-old")):
        _age(org, key, HOURS_25)
    _age(org_a, "a-fresh", HOURS_23)

    deleted = purge_idempotency_records_task()

    assert deleted == 3
    assert _keys(org_a) == {"a-fresh"}
    assert _keys(org_b) == {"b-fresh"}
    # Only the records go: the feedback they created stays.
    assert (_feedback_count(org_a), _feedback_count(org_b)) == (3, 2)
    assert purge_idempotency_records_task() == 0  # running it again is harmless


def test_a_retry_inside_the_window_is_still_replayed_after_the_purge(api_a, org_a, account_a):
    first = _log(api_a, account_a, "retry-me")
    _age(org_a, "retry-me", HOURS_23)

    idempotency_records_purge()
    again = _log(api_a, account_a, "retry-me")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _feedback_count(org_a) == 1


def test_a_purged_key_can_be_used_again_for_a_new_request(api_a, org_a, account_a):
    _log(api_a, account_a, "old-key")
    _age(org_a, "old-key", HOURS_25)
    idempotency_records_purge()

    response = _log(api_a, account_a, "old-key", verbatim="Something new")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert _feedback_count(org_a) == 2


def test_the_purge_deletes_in_batches(api_a, org_a, account_a, monkeypatch):
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 2)
    keys = [f"batch-{i}" for i in range(5)]
    for key in keys:
        _log(api_a, account_a, key, verbatim=key)
        _age(org_a, key, HOURS_25)

    assert idempotency_records_purge() == 5
    assert _keys(org_a) == set()


def test_the_purge_refuses_to_cut_into_the_replay_window():
    with pytest.raises(ValueError, match="replayed"):
        idempotency_records_purge(older_than=RETENTION - datetime.timedelta(minutes=1))


def test_the_purge_is_scheduled_hourly_off_the_hour_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-records"]
    assert entry["task"] == "integrations.tasks.purge_idempotency_records_task"
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].minute == {37}
    assert entry["schedule"].hour == set(range(24))
    assert entry["options"]["expires"] < 3600


# --- A key left in progress by a crashed request -------------------------------------------


def _left_in_progress(org, api_key, key: str, body: dict, age: datetime.timedelta) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        IdempotencyRecord.objects.create(
            organization=org,
            key=key,
            api_key=api_key,
            method="POST",
            path=FEEDBACK,
            request_hash=fingerprint("POST", FEEDBACK, json.dumps(body).encode()),
            state=IdempotencyState.IN_PROGRESS,
            created_at=timezone.now() - age,
        )


def test_a_key_left_in_progress_by_a_crashed_request_is_taken_over_after_ten_minutes(
    api_a, key_a, org_a, account_a
):
    _left_in_progress(org_a, key_a.key, "crashed", _body(account_a), datetime.timedelta(minutes=11))

    response = _log(api_a, account_a, "crashed")
    again = _log(api_a, account_a, "crashed")

    assert response.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert _feedback_count(org_a) == 1
    with tenant_context(org_a):
        record = IdempotencyRecord.objects.get(key="crashed")
    assert record.state == IdempotencyState.DONE


def test_a_key_still_in_progress_is_answered_409_not_run_twice(api_a, key_a, org_a, account_a):
    _left_in_progress(org_a, key_a.key, "running", _body(account_a), datetime.timedelta(minutes=2))

    body = assert_problem(_log(api_a, account_a, "running"), 409)

    assert body["code"] == "idempotency_in_progress"
    assert _feedback_count(org_a) == 0


def test_the_purge_removes_a_record_abandoned_in_progress_long_ago(api_a, key_a, org_a, account_a):
    _left_in_progress(org_a, key_a.key, "lost", _body(account_a), HOURS_25)

    assert idempotency_records_purge() == 1
    assert _keys(org_a) == set()

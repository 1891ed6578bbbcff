# ruff: noqa: F811 - pytest fixtures imported from test_api_support are redefined as arguments
"""The CRM bulk upsert writes in bulk: a constant number of queries whatever the batch size,
with the same rows, audit events and notifications as one-by-one writes, and the one-by-one
path kept for a batch that meets a concurrent insert of one of its CRM ids."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from alignment.models import Account, AuditEvent, Notification
from alignment.services import accounts_sync
from alignment.services.accounts_sync import SyncItem, account_bulk_upsert
from alignment.tenancy import cross_tenant_system_context, tenant_context
from tests.integrations.test_api_support import (  # noqa: F401
    ApiClient,
    api_a,
    key_a,
)

BULK = "/api/v1/accounts/bulk-upsert/"
# SQLite binds at most 999 parameters per statement, so Django splits a bulk insert of many
# rows into a few statements there; PostgreSQL sends one.
SQLITE_SPLITS = 0 if connection.vendor == "postgresql" else 8


def _batch(n: int, *, bump: int = 0, csm_email: str = "csm@acme.test") -> dict:
    return {
        "accounts": [
            {
                "external_id": f"CRM-{i:04d}",
                "name": f"Customer {i}",
                # The update pass changes the ARR of even items, the health of odd ones.
                "arr": f"{(i + 1) * 1000 + (bump if i % 2 == 0 else 0)}.00",
                "health_score": 50 + (bump if i % 2 else 0),
                "segment": "enterprise",
                "renewal_date": "2027-01-31",
                "lifecycle_stage": "onboarded",
                "csm_email": csm_email,
            }
            for i in range(n)
        ]
    }


def _count(api: ApiClient, body: dict, expect: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        answer = api.post(BULK, body).json()
    assert answer[expect] == len(body["accounts"]), answer
    print(
        "QUERIES",
        expect,
        len(body["accounts"]),
        len(queries),
        *[q["sql"][:150] for q in queries.captured_queries],
        sep="\n",
    )
    return len(queries)


def _wipe(org) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        Account.objects.all().delete()


def test_a_200_account_create_batch_runs_in_a_small_constant_number_of_queries(
    api_a, org_a, csm_a, django_assert_max_num_queries
):
    small = _count(api_a, _batch(20), "created")
    _wipe(org_a)

    with django_assert_max_num_queries(25):
        body = api_a.post(BULK, _batch(200)).json()

    assert body["created"] == 200
    _wipe(org_a)
    assert _count(api_a, _batch(200), "created") <= small + SQLITE_SPLITS


def test_a_200_account_update_batch_runs_in_a_small_constant_number_of_queries(
    api_a, org_a, csm_a, django_assert_max_num_queries
):
    api_a.post(BULK, _batch(20))
    small = _count(api_a, _batch(20, bump=7), "updated")
    api_a.post(BULK, _batch(200))

    with django_assert_max_num_queries(25):
        body = api_a.post(BULK, _batch(200, bump=8)).json()

    assert body["updated"] == 200
    assert _count(api_a, _batch(200, bump=9), "updated") <= small + SQLITE_SPLITS


def test_an_unchanged_batch_of_200_reads_and_writes_nothing_per_account(
    api_a, org_a, csm_a, django_assert_max_num_queries
):
    api_a.post(BULK, _batch(200))

    with django_assert_max_num_queries(15):
        body = api_a.post(BULK, _batch(200)).json()

    assert body["unchanged"] == 200


def test_a_bulk_update_writes_only_the_changed_fields_and_moves_the_version(api_a, org_a, csm_a):
    api_a.post(BULK, _batch(2))
    with tenant_context(org_a):
        before = {a.external_id: a for a in Account.objects.all()}
        # A field the CRM does not send stays as stored.
        Account.objects.filter(external_id="CRM-0000").update(
            primary_risk="budget", primary_risk_note="kept"
        )

    body = api_a.post(BULK, _batch(2, bump=5)).json()

    assert [r["status"] for r in body["results"]] == ["updated", "updated"]
    with tenant_context(org_a):
        after = {a.external_id: a for a in Account.objects.all()}
        events = list(AuditEvent.objects.filter(action="account.updated").order_by("target_id"))
    assert after["CRM-0000"].arr == Decimal("1005.00")
    assert after["CRM-0000"].primary_risk_note == "kept"
    assert after["CRM-0001"].health_score == 55
    for crm_id in after:
        assert after[crm_id].updated_at > before[crm_id].updated_at
    assert [(e.target_id, e.changes, e.source) for e in events] == [
        (str(after["CRM-0000"].pk), {"arr": ["1000.00", "1005.00"]}, "api"),
        (str(after["CRM-0001"].pk), {"health_score": [50, 55]}, "api"),
    ]
    assert all("CRM sync" in e.actor_label for e in events)  # the API key's name


def test_created_accounts_are_audited_one_event_each_and_their_csm_told_once(api_a, org_a, csm_a):
    body = api_a.post(BULK, _batch(3)).json()

    ids = [r["id"] for r in body["results"]]
    with tenant_context(org_a):
        events = list(AuditEvent.objects.filter(action="account.created").order_by("id"))
        notes = list(Notification.objects.filter(recipient=csm_a))
    assert sorted(int(e.target_id) for e in events) == sorted(ids)
    assert events[0].target_type == "account"
    assert events[0].target_repr == "Customer 0"
    assert events[0].changes["csm"] == [None, str(csm_a)]
    assert events[0].changes["arr"] == [None, "1000.00"]
    assert [n.title for n in notes] == ["3 accounts assigned to you by the CRM sync"]


def _items(n: int) -> list[SyncItem]:
    return [
        SyncItem(
            index=i,
            external_id=f"CRM-{i:02d}",
            values={"name": f"Customer {i}", "arr": Decimal(1000 * (i + 1))},
        )
        for i in range(n)
    ]


def test_a_crm_id_taken_after_the_lookup_falls_back_to_one_by_one_and_updates_it(
    org_a, monkeypatch
):
    # As if a concurrent batch committed CRM-03 between our lookup and our insert.
    with tenant_context(org_a):
        Account.objects.create(organization=org_a, external_id="CRM-03", name="Elsewhere")
    real_locked = accounts_sync._locked
    calls = []

    def locked_missing_the_first_time(org, external_ids):  # type: ignore[no-untyped-def]
        calls.append(list(external_ids))
        found = real_locked(org, external_ids)
        return {} if len(calls) == 1 else found

    monkeypatch.setattr(accounts_sync, "_locked", locked_missing_the_first_time)

    with tenant_context(org_a):
        report = account_bulk_upsert(org=org_a, items=_items(6))
        rows = list(Account.objects.order_by("external_id").values_list("external_id", "name"))
        audit = AuditEvent.objects.values_list("action", flat=True)
        assert sorted(audit) == ["account.created"] * 5 + ["account.updated"]

    assert [r.status for r in report.results] == ["created"] * 3 + ["updated"] + ["created"] * 2
    assert rows == [(f"CRM-{i:02d}", f"Customer {i}") for i in range(6)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent inserts need real transactions"
)
def test_a_concurrent_batch_inserting_the_same_crm_id_never_makes_a_duplicate(org_a):
    inserted = threading.Event()

    def other_batch() -> None:
        try:
            with tenant_context(org_a):
                Account.objects.create(organization=org_a, external_id="CRM-04", name="Other")
                inserted.set()
                time.sleep(0.5)  # our insert of CRM-04 waits for this commit, then fails
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_batch)
    thread.start()
    assert inserted.wait(10)
    with tenant_context(org_a):
        report = account_bulk_upsert(org=org_a, items=_items(8))
    thread.join()

    statuses = {r.external_id: r.status for r in report.results}
    assert statuses.pop("CRM-04") == "updated"
    assert set(statuses.values()) == {"created"}
    with cross_tenant_system_context():
        rows = Account.objects.filter(organization=org_a)
        assert rows.count() == 8
        assert rows.get(external_id="CRM-04").name == "Customer 4"

"""The example CRM sync client (examples/sync_accounts.py): its mapping of real CRM exports,
its batching and idempotency keys, its retries, and a full run against Seam's own API."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from alignment.models import Account
from alignment.tenancy import tenant_context

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "accounts.csv"


def _load():
    spec = importlib.util.spec_from_file_location(
        "sync_accounts", ROOT / "examples" / "sync_accounts.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sync_accounts = _load()


def sample_rows() -> list[dict[str, str]]:
    return sync_accounts.read_rows(str(SAMPLE))


def test_crm_formats_in_the_sample_export_become_api_values():
    rows = sample_rows()
    columns = sync_accounts.header_map(rows[0].keys())

    northwind, globex = (sync_accounts.map_row(row, columns) for row in rows[:2])

    assert northwind["arr"] == "1200000.50"
    assert northwind["renewal_date"] == "2025-11-30"
    assert northwind["lifecycle_stage"] == "onboarded"
    assert northwind["csm_email"] is None
    assert northwind["primary_risk"] is None
    assert globex["arr"] == "340000.00"
    assert globex["segment"] == "mid_market"
    assert globex["renewal_date"] == "2026-03-15"
    assert globex["lifecycle_stage"] == "at_risk"
    assert globex["primary_risk"] == "product_gap"


def test_crm_headings_in_other_spellings_are_recognised():
    columns = sync_accounts.header_map(["Account ID", "Account Name", "Annual Revenue", "Stage"])

    assert columns == {
        "external_id": "Account ID",
        "name": "Account Name",
        "arr": "Annual Revenue",
        "lifecycle_stage": "Stage",
    }


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        ("arr", "about a million", "not an amount"),
        ("arr", "-5", "zero or more"),
        ("renewal_date", "next spring", "not a date"),
        ("segment", "Galactic", "not one of"),
        ("external_id", "", "CRM id is empty"),
    ],
)
def test_a_row_that_cannot_be_sent_is_rejected_with_the_reason(cell, value, message):
    row = {**sample_rows()[0], cell: value}
    columns = sync_accounts.header_map(row.keys())

    with pytest.raises(sync_accounts.RowError, match=message):
        sync_accounts.map_row(row, columns)


def test_batches_have_stable_idempotency_keys_that_change_with_the_contents():
    accounts = [{"external_id": f"crm-{i}", "name": f"Account {i}"} for i in range(1200)]

    chunks = list(sync_accounts.batches(accounts, 500))
    keys = [sync_accounts.idempotency_key(chunk) for chunk in chunks]

    assert [len(chunk) for chunk in chunks] == [500, 500, 200]
    assert len(set(keys)) == 3
    assert keys == [sync_accounts.idempotency_key(c) for c in sync_accounts.batches(accounts, 500)]
    changed = [{**chunks[0][0], "name": "Renamed"}, *chunks[0][1:]]
    assert sync_accounts.idempotency_key(changed) != keys[0]


class ScriptedTransport:
    """Answers from a script of (status, headers, body) and records every request."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests = []

    def __call__(self, method, url, headers, body):
        self.requests.append((method, url, dict(headers), body))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        status, reply_headers, payload = reply
        return sync_accounts.Response(status, reply_headers, json.dumps(payload).encode())


OK = {
    "results": [{"index": 0, "external_id": "a", "status": "created", "id": 1, "errors": {}}],
    "created": 1,
    "updated": 0,
    "unchanged": 0,
    "errors": 0,
}


def test_the_client_waits_as_told_on_429_and_backs_off_on_5xx_with_the_same_key():
    transport = ScriptedTransport(
        (429, {"retry-after": "7"}, {"title": "Too many requests"}),
        (503, {}, {"title": "Unavailable"}),
        ConnectionResetError("reset by peer"),
        (200, {}, OK),
    )
    waits = []
    client = sync_accounts.SeamClient(
        "https://seam.test/api/v1",
        "seam_key",
        transport=transport,
        sleep=waits.append,
        log=lambda m: None,
    )

    result = client.bulk_upsert([{"external_id": "a", "name": "A"}])

    assert result["created"] == 1
    assert waits[0] == 7
    assert 2 <= waits[1] <= 2.2 and 4 <= waits[2] <= 4.4
    keys = {headers["Idempotency-Key"] for _, _, headers, _ in transport.requests}
    assert len(keys) == 1
    assert transport.requests[0][1] == "https://seam.test/api/v1/accounts/bulk-upsert/"
    assert transport.requests[0][2]["Authorization"] == "Bearer seam_key"


def test_the_client_stops_on_a_client_error_with_the_apis_explanation():
    transport = ScriptedTransport(
        (403, {}, {"title": "Forbidden", "detail": "This key lacks the accounts:write scope."})
    )
    client = sync_accounts.SeamClient(
        "https://seam.test/api/v1/", "k", transport=transport, sleep=lambda s: None
    )

    with pytest.raises(sync_accounts.ApiError, match="accounts:write"):
        client.bulk_upsert([{"external_id": "a", "name": "A"}])
    assert len(transport.requests) == 1


def test_the_client_gives_up_after_its_retries():
    transport = ScriptedTransport(*[(502, {}, {"title": "Bad gateway"})] * 3)
    client = sync_accounts.SeamClient(
        "https://seam.test/api/v1/",
        "k",
        transport=transport,
        sleep=lambda s: None,
        max_retries=2,
        log=lambda m: None,
    )

    with pytest.raises(sync_accounts.ApiError, match="502"):
        client.bulk_upsert([{"external_id": "a", "name": "A"}])
    assert len(transport.requests) == 3


# --- against Seam's own API ---------------------------------------------------------------------


@pytest.fixture
def api_transport(org_a, admin_a):
    from integrations.services_api_keys import api_key_create

    with tenant_context(org_a):
        token = api_key_create(
            org=org_a, actor=admin_a, name="CRM sync", scopes=["accounts:read", "accounts:write"]
        ).token
    django_client = Client()

    def transport(method, url, headers, body):
        path = url.split("://", 1)[1].split("/", 1)[1]
        response = django_client.generic(
            method,
            "/" + path,
            data=body,
            content_type=headers["Content-Type"],
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
        return sync_accounts.Response(
            response.status_code, {k.lower(): v for k, v in response.items()}, response.content
        )

    return token, transport


def test_a_full_sync_of_the_sample_export_creates_then_leaves_accounts_unchanged(
    org_a, api_transport, tmp_path
):
    token, transport = api_transport
    client = sync_accounts.SeamClient(
        "http://testserver/api/v1/",
        token,
        transport=transport,
        sleep=lambda s: None,
        log=lambda m: None,
    )
    rows = sample_rows()

    first = sync_accounts.sync(rows, client, log=lambda m: None)
    with tenant_context(org_a):
        northwind = Account.objects.for_org(org_a).get(external_id="0015g00000ABC001")
        total = Account.objects.for_org(org_a).count()
    # A re-run with a changed row: only that batch is new.
    rows[0] = {**rows[0], "arr": "$1,300,000"}
    second = sync_accounts.sync(rows, client, batch_size=2, log=lambda m: None)

    assert (first.created, first.updated, first.rejected) == (len(rows), 0, [])
    assert total == len(rows)
    assert northwind.arr == Decimal("1200000.50")
    assert northwind.lifecycle_stage == "onboarded"
    assert (second.created, second.updated, second.unchanged) == (0, 1, len(rows) - 1)
    with tenant_context(org_a):
        assert Account.objects.for_org(org_a).get(pk=northwind.pk).arr == Decimal("1300000.00")


def test_rows_the_api_rejects_are_written_out_with_the_reasons(org_a, api_transport, tmp_path):
    token, transport = api_transport
    client = sync_accounts.SeamClient(
        "http://testserver/api/v1/",
        token,
        transport=transport,
        sleep=lambda s: None,
        log=lambda m: None,
    )
    rows = sample_rows()[:3]
    rows[1] = {**rows[1], "health_score": "150"}  # the API refuses it
    rows[2] = {**rows[2], "renewal_date": "soon"}  # the client refuses it before sending

    summary = sync_accounts.sync(rows, client, log=lambda m: None)
    out = tmp_path / "rejected.csv"
    sync_accounts.write_rejected(str(out), summary.rejected)

    assert summary.created == 1
    with out.open(newline="") as handle:
        rejected = {row["line"]: row for row in csv.DictReader(handle)}
    assert set(rejected) == {"3", "4"}
    assert "health_score" in rejected["3"]["error"]
    assert "not a date" in rejected["4"]["error"]
    assert rejected["3"]["external_id"] == rows[1]["external_id"]


def test_the_command_line_dry_run_sends_nothing(capsys):
    assert sync_accounts.main([str(SAMPLE), "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "batch 1: 5 accounts ready (dry run, not sent)" in out
    assert "5 rows: 0 created" in out

#!/usr/bin/env python3
"""Sync accounts from a CRM CSV export into Seam through the REST API.

This is what an integrator writes: read the export, map the CRM's columns and formats to
Seam's, and upsert in batches of up to 500 with ``POST /api/v1/accounts/bulk-upsert/``.
Standard library only (Python 3.11+), so it runs anywhere a CSV can be exported to.

Usage::

    export SEAM_API_URL=https://seam.example.com/api/v1/
    export SEAM_API_KEY=seam_AbCdEf1234_...        # an API key with the accounts:write scope
    python examples/sync_accounts.py examples/accounts.csv --rejected rejected.csv

    python examples/sync_accounts.py export.csv --dry-run    # map and check only, send nothing

What it does, and why:

- **Column mapping** (``COLUMNS``): the CRM's headings (several common spellings) to Seam's
  fields. Values are normalised the way CRMs export them: ``$1,200,000.50`` becomes the
  decimal string ``"1200000.50"`` (money never goes through a float), ``3/15/2026`` becomes
  ``2026-03-15``, labels such as ``Mid-market`` or ``At risk`` become their API values.
  Empty optional cells are sent as null (the CRM is the source of truth, so a cleared
  renewal date is cleared in Seam too); an empty ARR, segment or stage is left out (Seam
  keeps what it has, or its default for a new account).
- **Batches** of 500 (the API's maximum), each with an ``Idempotency-Key`` derived from the
  batch's contents: re-running the script after a crash or a timeout resends the same keys,
  and the API answers a batch it already applied with the stored result instead of applying
  it twice. A changed export makes new keys, so changes always go through.
- **Retries**: ``429 Too Many Requests`` waits as long as ``Retry-After`` says; ``5xx``,
  timeouts and dropped connections back off exponentially (1 s, 2 s, 4 s ... 60 s). A
  ``4xx`` problem (bad key, missing scope, malformed body) stops the run with the API's
  explanation: retrying would not help.
- **Report**: one line per batch (created / updated / unchanged / rejected) and every
  rejected row, with the API's reasons, written to a CSV you can fix and re-import.

Exit status: 0 when every row was accepted, 1 when some rows were rejected, 2 when the run
stopped on an error.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

BATCH_SIZE = 500  # the API's maximum per request
MAX_RETRIES = 6
BACKOFF_CAP = 60.0
TIMEOUT = 60.0
USER_AGENT = "seam-example-sync-accounts/1.0"

# Seam field -> CRM headings it may appear under (compared case- and space-insensitively).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "account id", "crm id", "id"),
    "name": ("name", "account name", "company"),
    "arr": ("arr", "annual recurring revenue", "annual revenue"),
    "segment": ("segment", "customer segment", "tier"),
    "renewal_date": ("renewal_date", "renewal date", "contract end date"),
    "health_score": ("health_score", "health score", "health"),
    "lifecycle_stage": ("lifecycle_stage", "lifecycle stage", "stage"),
    "csm_email": ("csm_email", "csm email", "account owner email", "owner email"),
    "primary_risk": ("primary_risk", "primary risk", "risk"),
    "primary_risk_note": ("primary_risk_note", "primary risk note", "risk note"),
}
SEGMENTS = {"enterprise": "enterprise", "mid-market": "mid_market", "mid market": "mid_market",
            "mid_market": "mid_market", "midmarket": "mid_market", "smb": "smb",
            "small business": "smb"}  # fmt: skip
STAGES = {"onboarding": "onboarding", "onboarded": "onboarded", "live": "onboarded",
          "at risk": "at_risk", "at_risk": "at_risk", "churned": "churned",
          "lost": "churned"}  # fmt: skip
RISKS = {"product gap": "product_gap", "product_gap": "product_gap", "low adoption": "adoption",
         "adoption": "adoption", "relationship": "relationship",
         "relationship / champion loss": "relationship", "champion loss": "relationship",
         "budget": "budget", "competitor": "competitor", "support": "support",
         "support experience": "support", "other": "other"}  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%Y/%m/%d")


class RowError(ValueError):
    """A CSV row that cannot be sent as it is (reported, never sent)."""


class ApiError(RuntimeError):
    """The API refused the request itself (not one row): stop and say why."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or "no details"
        super().__init__(f"HTTP {status}: {detail}")


# --- mapping -----------------------------------------------------------------------------------


def _key(heading: str) -> str:
    return " ".join(heading.replace("_", " ").lower().split())


def header_map(headings: Iterable[str]) -> dict[str, str]:
    """Seam field -> the CSV heading that holds it. ``external_id`` and ``name`` must exist."""
    by_key = {_key(h): h for h in headings if h}
    found = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if _key(alias) in by_key:
                found[name] = by_key[_key(alias)]
                break
    missing = [name for name in ("external_id", "name") if name not in found]
    if missing:
        raise SystemExit(f"The CSV has no column for {', '.join(missing)}; see COLUMNS.")
    return found


def parse_money(text: str) -> str:
    cleaned = text.replace("$", "").replace("€", "").replace("£", "").replace(",", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise RowError(f"ARR {text!r} is not an amount") from exc
    if value < 0 or not value.is_finite():
        raise RowError(f"ARR {text!r} must be zero or more")
    return str(value.quantize(Decimal("0.01")))


def parse_date(text: str) -> str:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip(), fmt).date().isoformat()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise RowError(f"renewal date {text!r} is not a date (use YYYY-MM-DD or M/D/YYYY)")


def _choice(text: str, table: dict[str, str], what: str) -> str:
    value = table.get(_key(text))
    if value is None:
        raise RowError(f"{what} {text!r} is not one of: {', '.join(sorted(set(table.values())))}")
    return value


def map_row(row: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    """One CSV row as one API account; raises ``RowError`` for a value that cannot be sent."""

    def cell(name: str) -> str:
        heading = columns.get(name)
        return (row.get(heading) or "").strip() if heading else ""

    account: dict[str, Any] = {"external_id": cell("external_id"), "name": cell("name")}
    if not account["external_id"]:
        raise RowError("the CRM id is empty")
    if cell("arr"):
        account["arr"] = parse_money(cell("arr"))
    if cell("segment"):
        account["segment"] = _choice(cell("segment"), SEGMENTS, "segment")
    if cell("lifecycle_stage"):
        account["lifecycle_stage"] = _choice(cell("lifecycle_stage"), STAGES, "lifecycle stage")
    if "renewal_date" in columns:
        account["renewal_date"] = parse_date(cell("renewal_date")) if cell("renewal_date") else None
    if "health_score" in columns:
        text = cell("health_score")
        try:
            account["health_score"] = int(Decimal(text)) if text else None
        except InvalidOperation as exc:
            raise RowError(f"health score {text!r} is not a number") from exc
    if "csm_email" in columns:
        account["csm_email"] = cell("csm_email").lower() or None
    if "primary_risk" in columns:
        risk = cell("primary_risk")
        account["primary_risk"] = _choice(risk, RISKS, "primary risk") if risk else None
        account["primary_risk_note"] = cell("primary_risk_note") or None
    return account


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def idempotency_key(accounts: list[dict[str, Any]]) -> str:
    """The same batch always gets the same key, so a re-run cannot apply it twice."""
    canonical = json.dumps(accounts, sort_keys=True, separators=(",", ":"))
    return "sync-accounts-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {"detail": self.body[:300].decode("utf-8", "replace")}


Transport = Callable[[str, str, dict[str, str], bytes], Response]


def urllib_transport(method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - the URL is the operator's own Seam
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:  # noqa: S310
            return Response(
                reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
            )
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


class SeamClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: Transport = urllib_transport,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = MAX_RETRIES,
        log: Callable[[str], None] = print,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.api_key = api_key
        self.transport = transport
        self.sleep = sleep
        self.max_retries = max_retries
        self.log = log

    def bulk_upsert(self, accounts: list[dict[str, Any]]) -> dict[str, Any]:
        body = json.dumps({"accounts": accounts}).encode()
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            # Same key on every retry of this batch: the API applies it at most once.
            "Idempotency-Key": idempotency_key(accounts),
        }
        url = self.base_url + "accounts/bulk-upsert/"
        for attempt in range(self.max_retries + 1):
            backoff = min(2.0**attempt, BACKOFF_CAP) * (1 + random.random() / 10)  # noqa: S311 - jitter
            try:
                reply = self.transport("POST", url, headers, body)
            except OSError as error:  # timeout, connection refused or reset
                if attempt == self.max_retries:
                    raise
                self.log(f"  network error ({error}); retrying in {backoff:.0f} s")
                self.sleep(backoff)
                continue
            if reply.status == 200:
                return reply.json()
            retryable = reply.status in (409, 429) or reply.status >= 500
            if not retryable or attempt == self.max_retries:
                raise ApiError(reply.status, reply.json())
            wait = (
                retry_after(reply.headers.get("retry-after"), backoff)
                if reply.status in (409, 429)
                else backoff
            )
            self.log(f"  HTTP {reply.status}; retrying in {wait:.0f} s")
            self.sleep(wait)
        raise AssertionError("unreachable")


# --- the sync ------------------------------------------------------------------------------------


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


def _errors_text(errors: dict[str, Any]) -> str:
    parts = []
    for name, messages in (errors or {}).items():
        text = "; ".join(messages) if isinstance(messages, list) else str(messages)
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return " | ".join(parts) or "rejected"


def sync(
    rows: list[dict[str, str]],
    client: SeamClient | None,
    *,
    batch_size: int = BATCH_SIZE,
    log: Callable[[str], None] = print,
) -> Summary:
    """Map every row, send the good ones in batches, and collect every rejected row with the
    reason (ours before sending, or the API's). ``client=None`` is a dry run."""
    summary = Summary(rows=len(rows))
    if not rows:
        return summary
    columns = header_map(rows[0].keys())
    ready: list[tuple[int, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the heading
        try:
            ready.append((number, map_row(row, columns)))
        except RowError as error:
            summary.rejected.append({**row, "line": str(number), "error": str(error)})
    by_line = dict(enumerate(rows, start=2))
    for batch_number, batch in enumerate(batches(ready, batch_size), start=1):
        accounts = [account for _, account in batch]
        if client is None:
            log(f"batch {batch_number}: {len(accounts)} accounts ready (dry run, not sent)")
            continue
        result = client.bulk_upsert(accounts)
        for item in result["results"]:
            if item["status"] == "error":
                line = batch[item["index"]][0]
                summary.rejected.append(
                    {**by_line[line], "line": str(line), "error": _errors_text(item["errors"])}
                )
        summary.created += result["created"]
        summary.updated += result["updated"]
        summary.unchanged += result["unchanged"]
        log(
            f"batch {batch_number}: {result['created']} created, {result['updated']} updated, "
            f"{result['unchanged']} unchanged, {result['errors']} rejected"
        )
    return summary


def write_rejected(path: str, rejected: list[dict[str, str]]) -> None:
    headings = list(dict.fromkeys(["line", "error", *(k for row in rejected for k in row)]))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=headings)
        writer.writeheader()
        writer.writerows(rejected)


def read_rows(path: str) -> list[dict[str, str]]:
    # utf-8-sig: CRMs (and spreadsheets) often start the file with a byte-order mark.
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="the CRM export (CSV with a heading row)")
    parser.add_argument(
        "--base-url",
        default=os.environ.get("SEAM_API_URL", "http://127.0.0.1:8000/api/v1/"),
        help="Seam's API root (env SEAM_API_URL)",
    )
    parser.add_argument(
        "--api-key", default=os.environ.get("SEAM_API_KEY", ""), help="(env SEAM_API_KEY)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--rejected", default="rejected_accounts.csv", help="rejected rows go here")
    parser.add_argument("--dry-run", action="store_true", help="map and check; send nothing")
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= BATCH_SIZE:
        parser.error(f"--batch-size must be between 1 and {BATCH_SIZE}")
    if not args.dry_run and not args.api_key:
        parser.error("an API key is needed: --api-key or SEAM_API_KEY")
    client = None if args.dry_run else SeamClient(args.base_url, args.api_key)
    try:
        summary = sync(read_rows(args.csv), client, batch_size=args.batch_size)
    except (ApiError, OSError) as error:
        print(f"Stopped: {error}", file=sys.stderr)
        return 2
    print(
        f"{summary.rows} rows: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {len(summary.rejected)} rejected"
    )
    if summary.rejected:
        write_rejected(args.rejected, summary.rejected)
        print(f"Rejected rows and their reasons: {args.rejected}")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())

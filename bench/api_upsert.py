"""The API upsert benchmark: 100,000 CRM accounts through the REST API, beside raw SQL.

    DATABASE_URL=postgres://seam_owner@127.0.0.1:5432/seam .venv/bin/python -m bench.api_upsert

Creates (once) and migrates its own PostgreSQL database, ``seam_apibench`` by default, as the
owner role named in DATABASE_URL; refuses SQLite. Then, connected as the application role
(row-level security active, as in production), for the same 100,000 accounts of one
organization, in batches of 500 (the API's maximum):

1. **raw SQL**: ``INSERT ... ON CONFLICT (organization_id, external_id) DO UPDATE`` with
   ``execute_values``, one transaction per batch: first into an empty organization (inserts),
   then again with every ARR changed (updates). This is the floor: no validation, no audit,
   no impact refresh, no notifications.
2. **the API**: the accounts are wiped and the same rows are sent as
   ``POST /api/v1/accounts/bulk-upsert/`` through Django's test client (the whole request:
   middleware, API-key authentication, rate limit, idempotency record, parsing, per-item
   validation, the service with its impact refresh and CSM notifications, the JSON answer;
   no network), each with its own ``Idempotency-Key``: first pass creates, second pass
   changes every ARR (updates), third pass resends the second (all unchanged).

It prints rows per second for each pass, the API/SQL ratio, and the median and p95 time of
one 500-row request. Options: ``--rows``, ``--batch``, ``--db``, ``--owner-only`` (measure as
the owner role when the application role cannot log in).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bench.common import (
    database_urls,
    ensure_database,
    log,
    setup_django,
    switch_to_app_role,
)

ORG_SLUG = "apibench"
CSMS = 20
SEGMENTS = ("enterprise", "mid_market", "smb")
STAGES = ("onboarding", "onboarded", "at_risk")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="seam_apibench", help="benchmark database (created)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--owner-only", action="store_true", help="measure as the owner role")
    return parser.parse_args(argv)


# --- database setup (own database, PostgreSQL only) ---------------------------------------


@dataclass
class Fixture:
    org_id: int
    token: str
    csm_ids: list[int]
    csm_emails: list[str]


def prepare() -> Fixture:
    """Migrate, then find or create the organization, its CSMs and an API key (owner role)."""
    from django.core.management import call_command

    from alignment.models import Membership, Organization, Role, User
    from alignment.tenancy import tenant_context
    from integrations.models import ApiKey
    from integrations.services_api_keys import MAX_RATE_LIMIT, api_key_create

    log("migrating (as the owner role)")
    call_command("migrate", verbosity=0, interactive=False)
    org, _ = Organization.objects.get_or_create(slug=ORG_SLUG, defaults={"name": "API bench"})
    with tenant_context(org):
        admin_user, _ = User.objects.get_or_create(email="admin@apibench.test")
        admin, _ = Membership.objects.for_org(org).get_or_create(
            organization=org, user=admin_user, defaults={"role": Role.ADMIN}
        )
        csms = []
        for i in range(CSMS):
            user, _ = User.objects.get_or_create(email=f"csm{i}@apibench.test")
            member, _ = Membership.objects.for_org(org).get_or_create(
                organization=org, user=user, defaults={"role": Role.CSM}
            )
            csms.append(member)
        # A fresh key per run: its token is shown only once.
        ApiKey.objects.for_org(org).filter(revoked_at__isnull=True).update(
            revoked_at=datetime.datetime.now(datetime.UTC)
        )
        token = api_key_create(
            org=org,
            actor=admin,
            name=f"bench {uuid.uuid4().hex[:6]}",
            scopes=["accounts:read", "accounts:write"],
            rate_limit_per_minute=MAX_RATE_LIMIT,
        ).token
    return Fixture(org.pk, token, [m.pk for m in csms], [m.user.email for m in csms])


# --- the rows -------------------------------------------------------------------------------


def rows(n: int, fixture: Fixture, *, arr_bump: int = 0) -> list[dict]:
    """n CRM accounts, deterministic; ``arr_bump`` changes every ARR (the update pass)."""
    start = datetime.date(2026, 1, 1)
    return [
        {
            "external_id": f"crm-{i:07d}",
            "name": f"Account {i:07d}",
            "arr": str(Decimal(5_000 + (i * 7919) % 900_000 + arr_bump) + Decimal("0.50")),
            "segment": SEGMENTS[i % 3],
            "renewal_date": (start + datetime.timedelta(days=i % 700)).isoformat(),
            "health_score": i % 101,
            "lifecycle_stage": STAGES[i % 3],
            "csm_email": fixture.csm_emails[i % CSMS],
        }
        for i in range(n)
    ]


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def wipe(org_id: int) -> None:
    from django.db import connection

    from alignment.models import Notification
    from alignment.tenancy import tenant_context

    with tenant_context(org_id), connection.cursor() as cursor:
        cursor.execute("DELETE FROM alignment_account WHERE organization_id = %s", [org_id])
        Notification.objects.for_org(org_id).delete()


# --- the passes -----------------------------------------------------------------------------


@dataclass
class Pass:
    label: str
    rows: int
    seconds: float
    per_batch: list[float]
    outcome: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def p(self, pct: float) -> float:
        ordered = sorted(self.per_batch)
        return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


SQL = """
INSERT INTO alignment_account (organization_id, external_id, name, arr, segment, renewal_date,
    health_score, lifecycle_stage, csm_id, primary_risk, primary_risk_note, created_at,
    updated_at)
VALUES %s
ON CONFLICT (organization_id, external_id) WHERE external_id <> '' DO UPDATE SET
    name = EXCLUDED.name, arr = EXCLUDED.arr, segment = EXCLUDED.segment,
    renewal_date = EXCLUDED.renewal_date, health_score = EXCLUDED.health_score,
    lifecycle_stage = EXCLUDED.lifecycle_stage, csm_id = EXCLUDED.csm_id,
    updated_at = EXCLUDED.updated_at
"""


def sql_pass(label: str, data: list[dict], fixture: Fixture, batch: int) -> Pass:
    from django.db import connection
    from psycopg2.extras import execute_values

    from alignment.tenancy import tenant_context

    csm_by_email = dict(zip(fixture.csm_emails, fixture.csm_ids, strict=True))
    timings: list[float] = []
    started = time.perf_counter()
    for chunk in chunks(data, batch):
        t0 = time.perf_counter()
        now = datetime.datetime.now(datetime.UTC)
        values = [
            (
                fixture.org_id,
                r["external_id"],
                r["name"],
                Decimal(r["arr"]),
                r["segment"],
                r["renewal_date"],
                r["health_score"],
                r["lifecycle_stage"],
                csm_by_email[r["csm_email"]],
                "",
                "",
                now,
                now,
            )
            for r in chunk
        ]
        with tenant_context(fixture.org_id), connection.cursor() as cursor:
            execute_values(cursor.cursor, SQL, values, page_size=batch)
        timings.append(time.perf_counter() - t0)
    return Pass(label, len(data), time.perf_counter() - started, timings)


def api_pass(label: str, data: list[dict], fixture: Fixture, batch: int, client) -> Pass:  # type: ignore[no-untyped-def]
    timings: list[float] = []
    totals = {"created": 0, "updated": 0, "unchanged": 0, "errors": 0}
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    for number, chunk in enumerate(chunks(data, batch)):
        body = json.dumps({"accounts": chunk})
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/accounts/bulk-upsert/",
            data=body,
            content_type="application/json",
            headers={
                "Authorization": f"Bearer {fixture.token}",
                "Idempotency-Key": f"bench-{run}-{number}",
            },
        )
        timings.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"{label}: HTTP {response.status_code}: {response.content[:500]!r}")
        answer = response.json()
        for key in totals:
            totals[key] += answer[key]
    outcome = ", ".join(f"{v:,} {k}" for k, v in totals.items() if v)
    return Pass(label, len(data), time.perf_counter() - started, timings, outcome)


def report(passes: list[Pass], role: str, batch: int) -> None:
    log("")
    log(f"Accounts upsert, {passes[0].rows:,} rows in batches of {batch}, as {role}")
    log(f"{'pass':<34}{'rows/s':>10}{'total s':>10}{'batch p50':>11}{'p95':>9}  result")
    for p in passes:
        log(
            f"{p.label:<34}{p.rate:>10,.0f}{p.seconds:>10.1f}"
            f"{p.p(50) * 1000:>9.0f}ms{p.p(95) * 1000:>7.0f}ms  {p.outcome}"
        )
    sql_insert, sql_update = passes[0], passes[1]
    api_create, api_update = passes[2], passes[3]
    log("")
    log(
        f"API/SQL time ratio: creates {api_create.seconds / sql_insert.seconds:.1f}x, "
        f"updates {api_update.seconds / sql_update.seconds:.1f}x"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not 1 <= args.batch <= 500:
        sys.exit("--batch must be between 1 and 500 (the API's maximum)")
    admin_url, bench_url = database_urls(
        args.db,
        why="bench/api_upsert.py measures PostgreSQL (row-level security, real indexes and ON CONFLICT)",
    )
    ensure_database(admin_url, args.db)
    setup_django(bench_url)

    from django.test import Client

    fixture = prepare()
    role = "owner role (RLS forced)" if args.owner_only else switch_to_app_role()
    first = rows(args.rows, fixture)
    second = rows(args.rows, fixture, arr_bump=1_000)
    passes: list[Pass] = []

    log(f"raw SQL: inserting {args.rows:,} accounts")
    wipe(fixture.org_id)
    passes.append(sql_pass("SQL  INSERT ... ON CONFLICT: insert", first, fixture, args.batch))
    log("raw SQL: updating them")
    passes.append(sql_pass("SQL  INSERT ... ON CONFLICT: update", second, fixture, args.batch))

    wipe(fixture.org_id)
    client = Client()
    log(f"API: creating {args.rows:,} accounts")
    passes.append(api_pass("API  bulk-upsert: create", first, fixture, args.batch, client))
    log("API: updating them")
    passes.append(api_pass("API  bulk-upsert: update", second, fixture, args.batch, client))
    log("API: sending them again unchanged")
    passes.append(api_pass("API  bulk-upsert: unchanged", second, fixture, args.batch, client))
    report(passes, role, args.batch)


if __name__ == "__main__":
    main()

"""The VoC benchmark: the triage queue, the theme board and the SLA sweep at scale.

    DATABASE_URL=postgres://seam_owner@127.0.0.1:5432/seam .venv/bin/python -m bench.voc

Seeds one organization (50,000 accounts, 1,000,000 feedback items, 100,000 themes) into its
own database (``seam_bench`` by default, created and migrated as the owner role named in
DATABASE_URL; a second run reuses the data, ``--reseed`` rebuilds it), then measures as the
application role, row-level security active, the way production serves the pages:

- each page through Django's test client (the whole request: middleware, session, views,
  templates), after a warm-up: median and p95 server time over N requests, and the number
  of queries one request runs;
- the page's row-fetch query, taken from the queries the page ran, executed N times with a
  cursor in the same tenant context: median and p95, and the page/raw ratio; and every
  SELECT the page ran, replayed the same way, for the database's share of the page;
- the SLA sweep over the seeded backlog: a steady-state run (a few items due, as every five
  minutes), a catch-up run (a full batch of reminders and of breaches), and an idle run.

Notifications are rows; their emails are published to an in-memory broker, never sent.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.common import (
    database_urls,
    ensure_database,
    log,
    setup_django,
    switch_to_app_role,
)

TARGET_MS = 100.0
TARGET_RATIO = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="seam_bench", help="benchmark database (created)")
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--feedback", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=100_000)
    parser.add_argument("--reseed", action="store_true", help="wipe and seed again")
    parser.add_argument("-n", "--requests", type=int, default=50, help="timed runs per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--sweep-due", type=int, default=500, help="catch-up run: N of each")
    parser.add_argument("--seed-only", action="store_true", help="seed (if needed) and stop")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE main queries")
    parser.add_argument(
        "--owner-only",
        action="store_true",
        help="measure as the owner role instead of the application role (no separate login)",
    )
    return parser.parse_args(argv)


# --- measuring ------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Timing:
    median: float
    p95: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        ms = [s * 1000 for s in seconds]
        return cls(statistics.median(ms), percentile(ms, 95))


@dataclass
class PageResult:
    name: str
    url: str
    page: Timing
    queries: int
    rows: int
    raw_main: Timing
    orm_main: Timing
    raw_all: Timing
    main_sql: str

    @property
    def ratio(self) -> float:
        return self.page.median / self.raw_main.median if self.raw_main.median else 0.0

    @property
    def ratio_orm(self) -> float:
        return self.orm_main.median / self.raw_main.median if self.raw_main.median else 0.0

    @property
    def ratio_all(self) -> float:
        return self.page.median / self.raw_all.median if self.raw_all.median else 0.0

    @property
    def verdict(self) -> str:
        misses = []
        if self.page.p95 >= TARGET_MS:
            misses.append(f"p95 ≥ {TARGET_MS:.0f} ms")
        if self.ratio > TARGET_RATIO:
            misses.append(f"> {TARGET_RATIO:.0f}x row query")
        return "ok" if not misses else "; ".join(misses)


def _is_main(sql: str, table: str) -> bool:
    head = sql.lstrip().upper()
    return head.startswith("SELECT") and f'FROM "{table}"' in sql and " LIMIT " in sql.upper()


def time_sql(org, statements: list[str], runs: int, warmup: int) -> Timing:  # type: ignore[no-untyped-def]
    """Run the statements ``runs`` times in the organization's tenant context."""
    from django.db import connection

    from alignment.tenancy import tenant_context

    samples = []
    with tenant_context(org), connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's cursor: no Django wrapper in the loop
        for i in range(warmup + runs):
            started = time.perf_counter()
            for sql in statements:
                raw.execute(sql)
                raw.fetchall()
            if i >= warmup:
                samples.append(time.perf_counter() - started)
    return Timing.of(samples)


def time_orm(org, fetch: Callable[[], list], runs: int, warmup: int) -> Timing:  # type: ignore[no-untyped-def]
    """Evaluate the selector's page of rows through the ORM ``runs`` times."""
    from alignment.tenancy import tenant_context

    samples = []
    with tenant_context(org):
        for i in range(warmup + runs):
            started = time.perf_counter()
            fetch()
            if i >= warmup:
                samples.append(time.perf_counter() - started)
    return Timing.of(samples)


def explain(org, sql: str) -> str:  # type: ignore[no-untyped-def]
    from django.db import connection

    from alignment.tenancy import tenant_context

    with tenant_context(org), connection.cursor() as cursor:
        cursor.cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_page(
    name: str,
    client,  # type: ignore[no-untyped-def]
    url: str,
    *,
    org,  # type: ignore[no-untyped-def]
    table: str,
    fetch: Callable[[], list],
    runs: int,
    warmup: int,
    show_plan: bool,
) -> PageResult:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name}: GET {url} answered {response.status_code}")
    # One request with the queries captured (capturing costs time, so it is not timed).
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = [q["sql"] for q in captured.captured_queries]
    rows = response.content.count(b'class="triage-item"') or response.content.count(b"<tr>") - 1
    mains = [sql for sql in queries if _is_main(sql, table)]
    if not mains:
        raise SystemExit(f"{name}: no row-fetch query on {table} among {len(queries)} queries")
    main_sql = mains[0]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{name}: GET {url} answered {response.status_code}")
    selects = [sql for sql in queries if sql.lstrip().upper().startswith("SELECT")]
    result = PageResult(
        name=name,
        url=url,
        page=Timing.of(samples),
        queries=len(queries),
        rows=rows,
        raw_main=time_sql(org, [main_sql], runs, warmup),
        orm_main=time_orm(org, fetch, runs, warmup),
        raw_all=time_sql(org, selects, runs, warmup),
        main_sql=main_sql,
    )
    if show_plan:
        log(f"\n--- {name}: {len(queries)} queries; the row-fetch query:\n{main_sql}\n")
        log(explain(org, main_sql))
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        for q in slowest:
            log(f"\n  [{q['time']}s] {q['sql'][:400]}")
    return result


# --- the run --------------------------------------------------------------------------------


def prepare(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from django.core.management import call_command
    from django.db import connection

    from bench import seed

    log("migrating (as the owner role)")
    call_command("migrate", verbosity=0, interactive=False)
    sizes = seed.Sizes(accounts=args.accounts, themes=args.themes, feedback=args.feedback)
    org = seed.find()
    if org is not None and args.reseed:
        log("wiping the previous seed")
        seed.wipe()
        org = None
    if org is None:
        log(
            f"seeding {sizes.accounts:,} accounts, {sizes.themes:,} themes, "
            f"{sizes.feedback:,} feedback items"
        )
        org = seed.seed(sizes, log=log)
    else:
        found = seed.counts(org)
        if found != sizes:
            raise SystemExit(
                f"{connection.settings_dict['NAME']} holds {found}, not {sizes}: "
                "run again with --reseed"
            )
        log(f"reusing the seeded organization ({found.feedback:,} feedback items)")
    return org


def run_pages(args: argparse.Namespace, people) -> list[PageResult]:  # type: ignore[no-untyped-def]
    from django.test import Client

    from alignment.tenancy import tenant_context
    from feedback import selectors_triage as selectors
    from feedback.models import Feedback

    org = people.org
    pm_client, admin_client = Client(), Client()
    pm_client.force_login(people.pm.user)
    admin_client.force_login(people.admin.user)
    my_areas = [a for a in people.areas if a.pm_id == people.pm.pk]
    with tenant_context(org):
        queued = Feedback.objects.filter(theme__isnull=True, archived_at__isnull=True)
        mine = queued.filter(product_area__in=my_areas).count()
        everyone = queued.count()
    # A mid-sized area of the PM's, and the most common status.
    area = my_areas[len(my_areas) // 2]
    base = f"/o/{org.slug}"
    area_ids = [a.pk for a in my_areas]
    pages = [
        (f"Triage queue, PM's {len(my_areas)} areas ({mine:,})", pm_client, f"{base}/triage/",
         "feedback_feedback",
         lambda: list(selectors.triage_queue(org=org, area_ids=area_ids)[:25])),
        (f"Triage queue, all areas ({everyone:,})", pm_client, f"{base}/triage/?scope=all",
         "feedback_feedback", lambda: list(selectors.triage_queue(org=org, area_ids=None)[:25])),
        ("Theme board, default", admin_client, f"{base}/themes/", "feedback_theme",
         lambda: list(selectors.theme_board(org=org)[:25])),
        (f"Theme board, {area.name} + under review", admin_client,
         f"{base}/themes/?area={area.pk}&status=under_review", "feedback_theme",
         lambda: list(selectors.theme_board(org=org, area=str(area.pk), status="under_review")[:25])),
    ]  # fmt: skip
    results = []
    for name, client, url, table, fetch in pages:
        log(f"measuring {name}: {url}")
        results.append(
            measure_page(
                name,
                client,
                url,
                org=org,
                table=table,
                fetch=fetch,
                runs=args.requests,
                warmup=args.warmup,
                show_plan=args.explain,
            )
        )
    return results


@dataclass
class SweepRun:
    name: str
    reminders: int
    breaches: int
    seconds: float
    notifications: int
    emails_sent: int


def run_sweeps(args: argparse.Namespace, org) -> list[SweepRun]:  # type: ignore[no-untyped-def]
    from django.core import mail

    from alignment.models import Notification
    from alignment.tenancy import tenant_context
    from bench import seed
    from feedback.sla_sweep import triage_sla_sweep

    mail.outbox = []
    runs = []
    scenarios: list[tuple[str, int, int, Callable[[], None] | None]] = [
        ("steady (one 5-minute beat)", 3, 2, None),
        (f"catch-up ({args.sweep_due} + {args.sweep_due} due)", args.sweep_due,
         args.sweep_due, None),
    ]  # fmt: skip
    for name, reminders, breaches, _ in scenarios:
        seed.sweep_prepare(org, reminders=reminders, breaches=breaches)
        log(f"sweeping: {name}")
        started = time.perf_counter()
        result = triage_sla_sweep()
        seconds = time.perf_counter() - started
        with tenant_context(org):
            made = Notification.objects.filter(kind__startswith="sla.").count()
        runs.append(
            SweepRun(name, result.reminders, result.breaches, seconds, made, len(mail.outbox))
        )
        if name.startswith("catch-up"):
            started = time.perf_counter()
            again = triage_sla_sweep()
            runs.append(
                SweepRun(
                    "idle (right after: nothing due)",
                    again.reminders,
                    again.breaches,
                    time.perf_counter() - started,
                    0,
                    len(mail.outbox),
                )
            )
    return runs


def report(results: list[PageResult], sweeps: list[SweepRun], role: str, sizes) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    log("")
    log(
        f"VoC benchmark: PostgreSQL {version}, role {role}, {sizes.accounts:,} accounts, "
        f"{sizes.feedback:,} feedback, {sizes.themes:,} themes"
    )
    log(f"target: page p95 < {TARGET_MS:.0f} ms and page within {TARGET_RATIO:.0f}x its raw SQL")
    header = (
        f"{'page':<42} {'med':>6} {'p95':>6} {'qry':>3} {'rows':>4} | {'raw med':>7} "
        f"{'raw p95':>7} {'orm med':>7} {'orm/raw':>7} {'page/raw':>8} | {'all-SQL':>7} "
        f"{'page/all':>8} | verdict"
    )
    log(header)
    log("-" * len(header))
    for r in results:
        log(
            f"{r.name[:42]:<42} {r.page.median:>6.1f} {r.page.p95:>6.1f} {r.queries:>3} "
            f"{r.rows:>4} | {r.raw_main.median:>7.2f} {r.raw_main.p95:>7.2f} "
            f"{r.orm_main.median:>7.2f} {r.ratio_orm:>7.1f} {r.ratio:>8.1f} | "
            f"{r.raw_all.median:>7.2f} {r.ratio_all:>8.1f} | {r.verdict}"
        )
    log("")
    header = (
        f"{'SLA sweep':<44} {'remind':>7} {'breach':>7} {'notifs':>7} {'ms':>9} "
        f"{'ms/item':>8} {'emails sent':>11}"
    )
    log(header)
    log("-" * len(header))
    for s in sweeps:
        items = s.reminders + s.breaches
        per_item = f"{s.seconds * 1000 / items:.1f}" if items else "-"
        log(
            f"{s.name[:44]:<44} {s.reminders:>7} {s.breaches:>7} {s.notifications:>7} "
            f"{s.seconds * 1000:>9.1f} {per_item:>8} {s.emails_sent:>11}"
        )
    log(
        "\nTimes in ms. raw = the page's row-fetch query (25 rows) run alone with a cursor; "
        "orm = the same rows through the selector and the ORM; all-SQL = every SELECT the page "
        "ran, replayed with a cursor; ratios are of medians."
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    admin_url, bench_url = database_urls(
        args.db,
        why="bench/voc.py measures PostgreSQL (row-level security, the planner, real indexes)",
    )
    ensure_database(admin_url, args.db)
    setup_django(bench_url)

    from bench import seed

    org = prepare(args)
    if args.seed_only:
        return
    role = "owner"
    if not args.owner_only:
        role = switch_to_app_role()
    people = seed.cast(org)
    sizes = seed.counts(org)
    results = run_pages(args, people)
    sweeps = run_sweeps(args, org)
    report(results, sweeps, role, sizes)


if __name__ == "__main__":
    main()

"""Seeding one large organization for the VoC benchmark, in SQL.

The few dozen people, product areas, categories and roadmap items go through the ORM; the
50,000 accounts, 100,000 themes and 1,000,000 feedback items are ``INSERT ... SELECT
generate_series`` statements. The whole seed is one transaction: the bulk tables' foreign
keys and secondary indexes are dropped first and recreated at the end (one validation
query and one sorted build each instead of a million row-by-row checks), so an interrupted
seed leaves nothing behind.

The figures follow what a B2B SaaS company looks like: ARR is a long tail (median about
$22K, a few accounts in the millions), a few themes gather thousands of requests while most
gather a handful, about a fifth of the feedback waits in the triage queue with its SLA
clock around now, and every stored impact figure is computed the way ``feedback/scoring.py``
computes it (weighted ARR once per distinct account plus a per-account weight).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from alignment.models import (
    Account,
    Membership,
    Organization,
    ProductArea,
    Role,
    User,
)
from alignment.tenancy import tenant_context
from feedback.models import Category, Feedback, Theme
from roadmap.models import RoadmapItem

ORG_SLUG = "bench"
PASSWORD = "bench-password"  # noqa: S105 - a benchmark's throwaway users
BULK_TABLES = ("alignment_account", "feedback_theme", "feedback_feedback")

AREAS = [
    "Integrations",
    "Reporting",
    "Dashboards",
    "Permissions",
    "SSO & identity",
    "Mobile app",
    "Billing",
    "Notifications",
    "Search",
    "Data import",
    "Data export",
    "API",
    "Workflow automation",
    "Audit & compliance",
    "Admin console",
    "Onboarding",
    "Forecasting",
    "Email sync",
    "Calendar",
    "Localization",
    "Performance",
    "Accessibility",
    "Sandbox",
    "Marketplace",
]
CATEGORIES = [
    "Feature request",
    "Bug",
    "Usability",
    "Performance",
    "Integration gap",
    "Security & compliance",
]
PM_COUNT = 8
DELIVERY = ("discovery", "in_development", "beta", "ga", "shipped", "shipped", "cancelled")
CSM_COUNT = 60


@dataclass
class Sizes:
    accounts: int
    themes: int
    feedback: int


@dataclass
class Cast:
    org: Organization
    admin: Membership
    head: Membership
    pm: Membership
    pms: list[Membership]
    csms: list[Membership]
    areas: list[ProductArea]


def find(org_slug: str = ORG_SLUG) -> Organization | None:
    return Organization.objects.filter(slug=org_slug).first()


def counts(org: Organization) -> Sizes:
    with tenant_context(org):
        return Sizes(
            accounts=Account.objects.count(),
            themes=Theme.objects.count(),
            feedback=Feedback.objects.count(),
        )


def cast(org: Organization) -> Cast:
    with tenant_context(org):
        members = list(Membership.objects.select_related("user").order_by("pk"))
        areas = list(ProductArea.objects.order_by("pk"))
    by_email = {m.user.email: m for m in members}
    pms = [m for m in members if m.role == Role.PM]
    return Cast(
        org=org,
        admin=by_email["admin@bench.test"],
        head=by_email["head@bench.test"],
        pm=by_email["pm1@bench.test"],
        pms=pms,
        csms=[m for m in members if m.role == Role.CSM],
        areas=areas,
    )


def wipe() -> None:
    """Remove every seeded row (all organizations' data in this benchmark database)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE alignment_organization, alignment_user, alignment_usersession, "
            "django_session RESTART IDENTITY CASCADE"
        )


def seed(sizes: Sizes, *, log) -> Organization:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    org = Organization.objects.create(
        name="Bench Corp", slug=ORG_SLUG, timezone="America/New_York", holiday_country="US"
    )
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SELECT setseed(0.42)")
        people = _people(org)
        log(f"  people, areas, categories, roadmap items ({time.perf_counter() - started:.1f}s)")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the ORM's rows before DDL
        dropped = _drop_bulk_keys(cursor)
        _accounts(cursor, org, sizes, people)
        log(f"  {sizes.accounts:,} accounts ({time.perf_counter() - started:.1f}s)")
        _themes(cursor, org, sizes, people)
        log(f"  {sizes.themes:,} themes ({time.perf_counter() - started:.1f}s)")
        _feedback(cursor, org, sizes, people)
        log(f"  {sizes.feedback:,} feedback items ({time.perf_counter() - started:.1f}s)")
        _theme_impact(cursor, org)
        log(f"  theme impact figures ({time.perf_counter() - started:.1f}s)")
        _restore_bulk_keys(cursor, dropped)
        log(f"  foreign keys and indexes rebuilt ({time.perf_counter() - started:.1f}s)")
    vacuum_analyze()
    log(f"  VACUUM ANALYZE ({time.perf_counter() - started:.1f}s)")
    return org


def vacuum_analyze() -> None:
    # VACUUM sets the visibility map (index-only scans), as autovacuum would in production.
    previous = connection.get_autocommit()
    connection.set_autocommit(True)
    try:
        with connection.cursor() as cursor:
            for table in (*BULK_TABLES, "alignment_notification", "alignment_membership"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        connection.set_autocommit(previous)


@dataclass
class People:
    admin: Membership
    head: Membership
    pms: list[Membership]
    csms: list[Membership]
    areas: list[ProductArea]
    categories: list[Category]
    roadmap: list[RoadmapItem]


def _people(org: Organization) -> People:
    password = make_password(PASSWORD)
    specs = [("admin@bench.test", "Ada Admin", Role.ADMIN)]
    specs.append(("head@bench.test", "Hana Head of Product", Role.HEAD_OF_PRODUCT))
    specs += [(f"pm{i}@bench.test", f"Pat PM {i}", Role.PM) for i in range(1, PM_COUNT + 1)]
    specs += [(f"csm{i}@bench.test", f"Casey CSM {i}", Role.CSM) for i in range(1, CSM_COUNT + 1)]
    specs += [("ops@bench.test", "Olive Ops", Role.CS_OPS)]
    users = User.objects.bulk_create(
        [User(email=email, full_name=name, password=password) for email, name, _ in specs]
    )
    members = Membership.objects.bulk_create(
        [
            Membership(organization=org, user=user, role=role)
            for user, (_, _, role) in zip(users, specs, strict=True)
        ]
    )
    admin, head = members[0], members[1]
    pms = members[2 : 2 + PM_COUNT]
    csms = members[2 + PM_COUNT : 2 + PM_COUNT + CSM_COUNT]
    areas = ProductArea.objects.bulk_create(
        [
            ProductArea(organization=org, name=name, pm=pms[i % PM_COUNT])
            for i, name in enumerate(AREAS)
        ]
    )
    categories = Category.objects.bulk_create(
        [Category(organization=org, name=name, position=i) for i, name in enumerate(CATEGORIES)]
    )
    today = timezone.localdate()
    roadmap = []
    for i in range(300):
        tier = ("exploring", "planned", "planned", "committed")[i % 4]
        year, quarter = today.year + (i % 8) // 4, (i % 4) + 1
        roadmap.append(
            RoadmapItem(
                organization=org,
                title=f"{AREAS[i % len(AREAS)]}: initiative {i + 1}",
                product_area=areas[i % len(areas)],
                pm=pms[i % PM_COUNT],
                tier=tier,
                delivery_status=DELIVERY[i % len(DELIVERY)],
                target_quarter=f"{year}-Q{quarter}" if tier != "exploring" else "",
                dev_owner="Platform team" if tier == "committed" else "",
                signed_off_by=head if tier == "committed" else None,
                signed_off_at=timezone.now() if tier == "committed" else None,
            )
        )
    roadmap = RoadmapItem.objects.bulk_create(roadmap)
    return People(admin, head, list(pms), list(csms), list(areas), list(categories), roadmap)


def _drop_bulk_keys(cursor) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Drop the bulk tables' foreign keys and plain indexes; return how to recreate them."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND (conrelid::regclass::text = ANY(%s) "
        "OR confrelid::regclass::text = ANY(%s))",
        [list(BULK_TABLES), list(BULK_TABLES)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(BULK_TABLES)],
    )
    indexes = cursor.fetchall()
    restore = []
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        restore.append(("constraint", f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    for name, definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
        restore.append(("index", definition))
    return restore


def _restore_bulk_keys(cursor, restore: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    for kind, statement in sorted(restore, key=lambda item: item[0] != "index"):
        del kind
        cursor.execute(statement)


def _ids(objects) -> list[int]:  # type: ignore[no-untyped-def]
    return [o.pk for o in objects]


ACCOUNT_WORDS = (
    [
        "Northwind",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
        "Acme",
        "Hooli",
        "Vandelay",
        "Soylent",
        "Tyrell",
        "Cyberdyne",
        "Massive",
        "Wonka",
        "Gringotts",
        "Oceanic",
        "Pied Piper",
        "Aperture",
        "Monarch",
        "Blue Sun",
        "Dunder",
        "Sterling",
        "Prestige",
        "Nakatomi",
        "Virtucon",
        "Gekko",
        "Duff",
        "Krusty",
        "Bluth",
        "Ollivander",
        "Zorin",
        "Spacely",
        "Cogswell",
        "Rekall",
        "Weyland",
        "Yoyodyne",
        "Omni",
        "Ajax",
        "Atlas",
        "Helios",
    ],
    [
        "Logistics",
        "Retail",
        "Health",
        "Capital",
        "Foods",
        "Energy",
        "Media",
        "Labs",
        "Insurance",
        "Freight",
        "Bank",
        "Telecom",
        "Pharma",
        "Robotics",
        "Hotels",
        "Motors",
        "Airlines",
        "Foundry",
        "Systems",
        "Software",
        "Outfitters",
        "Mining",
        "Studios",
        "Partners",
        "Realty",
        "Analytics",
        "Biotech",
        "Textiles",
        "Marine",
        "Security",
    ],
)


def _accounts(cursor, org: Organization, sizes: Sizes, people: People) -> None:  # type: ignore[no-untyped-def]
    first, second = ACCOUNT_WORDS
    cursor.execute(
        """
        INSERT INTO alignment_account (
            organization_id, external_id, name, arr, segment, renewal_date, health_score,
            lifecycle_stage, primary_risk, primary_risk_note, created_at, updated_at, csm_id,
            risk_theme_id)
        SELECT %(org)s, 'CRM-' || lpad(g::text, 7, '0'),
            (%(first)s::text[])[1 + g %% cardinality(%(first)s::text[])] || ' '
                || (%(second)s::text[])[1 + (g / cardinality(%(first)s::text[]))
                    %% cardinality(%(second)s::text[])]
                || CASE WHEN g > 1200 THEN ' ' || (g / 1200)::text ELSE '' END,
            arr,
            CASE WHEN arr >= 250000 THEN 'enterprise' WHEN arr >= 50000 THEN 'mid_market'
                 ELSE 'smb' END,
            CASE WHEN r_stage < 0.97 THEN current_date + (r_renew * 365)::int END,
            20 + (r_health * 80)::int,
            CASE WHEN r_stage < 0.03 THEN 'churned' WHEN r_stage < 0.09 THEN 'at_risk'
                 WHEN r_stage < 0.19 THEN 'onboarding' ELSE 'onboarded' END,
            CASE WHEN r_stage >= 0.03 AND r_stage < 0.09 THEN 'product_gap' ELSE '' END,
            '', now() - (r_renew * 900) * interval '1 day', now(),
            (%(csms)s::bigint[])[1 + g %% cardinality(%(csms)s::bigint[])], NULL
        FROM (
            SELECT g, round(least(4000000, 12000 * power(random(), -0.9))::numeric, -2) AS arr,
                   random() AS r_stage, random() AS r_renew, random() AS r_health
            FROM generate_series(1, %(n)s) AS g
        ) AS s
        """,
        {
            "org": org.pk,
            "n": sizes.accounts,
            "first": first,
            "second": second,
            "csms": _ids(people.csms),
        },
    )
    # Each account's weighted ARR, as feedback/scoring.py computes it with default weights.
    cursor.execute(
        """
        CREATE TEMP TABLE bench_account ON COMMIT DROP AS
        SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id, name, arr, csm_id, mult,
               reason, CASE WHEN reason = 'churned' THEN 0 ELSE round(arr * mult, 2) END
                   AS weighted
        FROM (
            SELECT a.*,
                CASE WHEN lifecycle_stage = 'churned' THEN 0.00
                     WHEN lifecycle_stage = 'at_risk' THEN %(risk)s
                     WHEN renewal_date - current_date BETWEEN 0 AND %(window)s THEN %(renew)s
                     ELSE 1 END AS mult,
                CASE WHEN lifecycle_stage = 'churned' THEN 'churned'
                     WHEN lifecycle_stage = 'at_risk' THEN 'at risk'
                     WHEN renewal_date - current_date BETWEEN 0 AND %(window)s
                         THEN 'renews in ' || (renewal_date - current_date) || ' days'
                     ELSE '' END AS reason
            FROM alignment_account a
        ) AS scored
        """,
        {
            "risk": org.impact_at_risk_multiplier,
            "renew": org.impact_renewal_multiplier,
            "window": org.impact_renewal_window_days,
        },
    )
    cursor.execute("CREATE UNIQUE INDEX ON bench_account (idx)")
    cursor.execute("CREATE UNIQUE INDEX ON bench_account (id)")
    cursor.execute("ANALYZE bench_account")


THEME_OBJECTS = [
    "Salesforce sync", "HubSpot sync", "SCIM provisioning", "SSO for contractors",
    "Custom roles", "Audit log export", "Scheduled reports", "PDF export", "Dashboard filters",
    "Bulk edit", "CSV import mapping", "Webhook retries", "API rate limits", "Mobile offline mode",
    "Dark mode", "Slack alerts", "Teams alerts", "Usage-based billing", "Invoice PDFs",
    "Multi-currency", "Data residency (EU)", "Field-level permissions", "Sandbox refresh",
    "Saved searches", "Full-text search", "Forecast overrides", "Calendar two-way sync",
    "Gmail plugin", "Outlook plugin", "Approval workflows", "SLA timers", "Custom objects",
    "Sub-accounts", "Translations (German)", "Translations (Japanese)", "Screen reader support",
    "Keyboard shortcuts", "Page load speed", "Snowflake connector", "BigQuery connector",
    "Zapier actions", "Two-factor enforcement", "IP allowlists", "Retention policies",
    "Onboarding checklist", "In-app guides", "Marketplace listing", "Embedded analytics",
    "Custom domains", "Password policies",
]  # fmt: skip
THEME_ASPECTS = [
    "for large teams", "in bulk", "per region", "with history", "for admins", "on mobile",
    "for managers", "across workspaces", "in real time", "with approvals", "by segment",
    "for auditors", "without engineering", "at scale", "for partners", "per account",
    "with templates", "for finance", "on a schedule", "from the API",
]  # fmt: skip
NOT_PLANNED_REASONS = [
    "It serves a small number of accounts and conflicts with the platform direction.",
    "A partner integration covers this; we recommend it instead.",
    "We looked into it: the security review rules it out for now.",
]


def _themes(cursor, org: Organization, sizes: Sizes, people: People) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(
        """
        INSERT INTO feedback_theme (
            organization_id, title, description, status, not_planned_reason, created_at,
            updated_at, status_changed_at, archived_at, archived_by_purge, status_before_archive,
            impact_score, arr_at_risk, account_count, feedback_count, impact_breakdown,
            category_id, created_by_id, merged_into_id, product_area_id, roadmap_item_id)
        SELECT %(org)s,
            (%(objects)s::text[])[1 + g %% cardinality(%(objects)s::text[])] || ' '
                || (%(aspects)s::text[])[1 + (g / cardinality(%(objects)s::text[]))
                    %% cardinality(%(aspects)s::text[])]
                || CASE WHEN g > 1000 THEN ' (' || (g / 1000)::text || ')' ELSE '' END,
            CASE WHEN r_desc < 0.6 THEN 'Customers ask for this when they outgrow the basics; '
                || 'see the feedback for their words.' ELSE '' END,
            status,
            CASE WHEN status = 'not_planned'
                THEN (%(reasons)s::text[])[1 + g %% cardinality(%(reasons)s::text[])]
                ELSE '' END,
            created, created, created + (r_desc * 30) * interval '1 day',
            CASE WHEN status = 'archived' THEN created + interval '200 days' END,
            false,
            CASE WHEN status = 'archived' THEN 'under_review' ELSE '' END,
            0, 0, 0, 0, '{}'::jsonb,
            CASE WHEN r_desc < 0.9
                THEN (%(categories)s::bigint[])[1 + g %% cardinality(%(categories)s::bigint[])]
                END,
            (%(pms)s::bigint[])[1 + g %% cardinality(%(pms)s::bigint[])],
            NULL,
            CASE WHEN r_area < 0.97 THEN (%(areas)s::bigint[])[
                1 + floor(power(random(), 1.6) * cardinality(%(areas)s::bigint[]))::int] END,
            CASE WHEN status IN ('on_roadmap', 'shipped')
                THEN (%(roadmap)s::bigint[])[1 + g %% cardinality(%(roadmap)s::bigint[])] END
        FROM (
            SELECT g, random() AS r_desc, random() AS r_area,
                now() - (random() * 700) * interval '1 day' AS created,
                (ARRAY['under_review', 'under_review', 'under_review', 'under_review',
                       'under_review', 'not_planned', 'not_planned', 'on_roadmap',
                       'shipped', 'archived'])[1 + floor(random() * 10)::int] AS status
            FROM generate_series(1, %(n)s) AS g
        ) AS s
        """,
        {
            "org": org.pk,
            "n": sizes.themes,
            "objects": THEME_OBJECTS,
            "aspects": THEME_ASPECTS,
            "reasons": NOT_PLANNED_REASONS,
            "categories": _ids(people.categories),
            "pms": _ids(people.pms),
            "areas": _ids(people.areas),
            "roadmap": _ids(people.roadmap),
        },
    )
    cursor.execute(
        """
        CREATE TEMP TABLE bench_theme ON COMMIT DROP AS
        SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id, product_area_id, status,
               created_at
        FROM feedback_theme
        """
    )
    cursor.execute("CREATE UNIQUE INDEX ON bench_theme (idx)")
    cursor.execute("ANALYZE bench_theme")


OPENERS = [
    "We need", "Our admins keep asking for", "Blocking our rollout:", "The team would love",
    "Renewal depends on", "Our VP asked again about", "Please prioritise", "We were promised",
    "Competitor X already has", "Day-to-day we struggle without",
]  # fmt: skip
ASKS = [
    "a two-way Salesforce sync so reps stop re-keying deals",
    "SCIM provisioning so contractors are removed the day they leave",
    "scheduled PDF reports for the board pack every Monday",
    "bulk editing of records instead of one at a time",
    "an audit log export our compliance team can hand to auditors",
    "dashboards that load in under two seconds for 50 users",
    "custom roles that hide salary fields from managers",
    "EU data residency before legal signs the renewal",
    "Slack alerts when an approval has waited a day",
    "a mobile app that works offline in the warehouse",
    "CSV import that remembers our column mapping",
    "webhooks that retry instead of dropping events",
    "multi-currency invoices for the APAC entities",
    "saved searches shared across the team",
    "German and Japanese translations for the field teams",
]  # fmt: skip
BECAUSES = [
    ".",
    "; today it costs us a day a week.",
    ", otherwise we move the team to a spreadsheet.",
    "; the workaround breaks every time the export format changes, and the on-call engineer "
    "has to fix it by hand before the Monday leadership meeting.",
    " before the next QBR.",
    "; three regional managers raised it on the last call.",
]  # fmt: skip


def _feedback(cursor, org: Organization, sizes: Sizes, people: People) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    cursor.execute(
        """
        INSERT INTO feedback_feedback (
            organization_id, verbatim, job_to_be_done, workaround, source, urgency,
            answer_needed_by, created_at, updated_at, triaged_at, due_at, remind_at,
            reminder_sent_at, breach_notified_at, impact_score, impact_breakdown,
            customer_told_at, customer_told_status, archived_at, account_id, category_id,
            logged_by_id, product_area_id, triaged_by_id, theme_id, beta_id)
        SELECT %(org)s,
            (%(openers)s::text[])[1 + (r_text * 1000)::int %% cardinality(%(openers)s::text[])]
                || ' ' || (%(asks)s::text[])[1 + (r_text * 100000)::int
                    %% cardinality(%(asks)s::text[])]
                || (%(becauses)s::text[])[1 + (r_text * 10000000)::int
                    %% cardinality(%(becauses)s::text[])],
            CASE WHEN r_extra < 0.4 THEN 'Close the month without manual re-keying' ELSE '' END,
            CASE WHEN r_extra < 0.3 THEN 'An analyst exports to a spreadsheet every Friday'
                 ELSE '' END,
            (ARRAY['call', 'call', 'call', 'qbr', 'ticket', 'ticket', 'nps', 'email', 'email',
                   'advisory_board'])[1 + floor(r_extra * 97)::int %% 10],
            CASE WHEN r_urg < 0.25 THEN 'low' WHEN r_urg < 0.70 THEN 'medium'
                 WHEN r_urg < 0.92 THEN 'high' ELSE 'blocker' END,
            CASE WHEN r_urg > 0.88 THEN (created + (10 + r_extra * 50) * interval '1 day')::date
                END,
            created, coalesce(triaged, created), triaged, due, due - interval '1 day',
            CASE WHEN triaged IS NULL AND due - interval '1 day' < %(now)s - interval '15 min'
                THEN due - interval '1 day' + interval '2 min' END,
            CASE WHEN triaged IS NULL AND due < %(now)s - interval '15 min'
                THEN due + interval '2 min' END,
            a.weighted + 5000,
            jsonb_build_object(
                'score', (a.weighted + 5000)::text, 'arr_at_risk', a.weighted::text,
                'account_count', 1, 'account_component', '5000.00',
                'accounts', jsonb_build_array(jsonb_build_object(
                    'id', a.id, 'name', a.name, 'arr', a.arr::text, 'multiplier', a.mult::text,
                    'reason', a.reason, 'weighted_arr', a.weighted::text))),
            CASE WHEN triaged IS NOT NULL AND r_told < 0.6
                THEN (triaged + interval '2 days')::date END,
            CASE WHEN triaged IS NOT NULL AND r_told < 0.6 THEN t.status ELSE '' END,
            CASE WHEN r_told > 0.985 AND created < %(now)s - interval '30 days'
                THEN created + interval '30 days' END,
            a.id,
            CASE WHEN r_extra < 0.9 THEN (%(categories)s::bigint[])[
                1 + (r_extra * 1000)::int %% cardinality(%(categories)s::bigint[])] END,
            CASE WHEN r_told < 0.9 THEN a.csm_id
                 ELSE (%(csms)s::bigint[])[1 + s.g %% cardinality(%(csms)s::bigint[])] END,
            CASE WHEN t.id IS NOT NULL THEN t.product_area_id
                 WHEN r_area < 0.96 THEN (%(areas)s::bigint[])[
                     1 + floor(power(r_area / 0.96, 1.6) * cardinality(%(areas)s::bigint[]))::int]
                 END,
            CASE WHEN triaged IS NOT NULL
                THEN (%(pms)s::bigint[])[1 + s.g %% cardinality(%(pms)s::bigint[])] END,
            t.id, NULL
        FROM (
            SELECT s0.*,
                CASE WHEN tri THEN %(now)s - (r_age * 730) * interval '1 day'
                     ELSE %(now)s - (r_age * 20) * interval '1 day' END AS created
            FROM (
                SELECT g, random() >= 0.2 AS tri, random() AS r_age, random() AS r_text,
                       random() AS r_extra, random() AS r_urg, random() AS r_told,
                       random() AS r_area,
                       floor(power(random(), 1.15) * %(accounts)s)::int AS account_idx,
                       floor(power(random(), 2.5) * %(themes)s)::int AS theme_idx
                FROM generate_series(1, %(n)s) AS g
            ) AS s0
        ) AS s
        JOIN bench_account a ON a.idx = s.account_idx
        LEFT JOIN bench_theme t ON s.tri AND t.idx = s.theme_idx
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.tri THEN least(%(now)s - interval '1 hour',
                       s.created + (random() * 6) * interval '1 day') END AS triaged,
                   s.created + interval '7 days' AS due
        ) AS clock
        """,
        {
            "org": org.pk,
            "n": sizes.feedback,
            "accounts": sizes.accounts,
            "themes": sizes.themes,
            "now": now,
            "openers": OPENERS,
            "asks": ASKS,
            "becauses": BECAUSES,
            "categories": _ids(people.categories),
            "csms": _ids(people.csms),
            "areas": _ids(people.areas),
            "pms": _ids(people.pms),
        },
    )


def _theme_impact(cursor, org: Organization) -> None:  # type: ignore[no-untyped-def]
    """Each theme's stored impact from its distinct accounts, as feedback/impact.py stores it."""
    cursor.execute(
        """
        WITH pairs AS (
            SELECT theme_id, account_id, count(*) AS n
            FROM feedback_feedback
            WHERE theme_id IS NOT NULL AND archived_at IS NULL
            GROUP BY theme_id, account_id
        ), ranked AS (
            SELECT p.theme_id, p.n, a.id, a.name, a.arr, a.mult, a.reason, a.weighted,
                row_number() OVER (PARTITION BY p.theme_id ORDER BY a.weighted DESC, a.id) AS rn
            FROM pairs p JOIN bench_account a ON a.id = p.account_id
        ), agg AS (
            SELECT theme_id, sum(weighted) AS arr_at_risk, count(*) AS account_count,
                sum(n) AS feedback_count,
                jsonb_agg(jsonb_build_object(
                    'id', id, 'name', name, 'arr', arr::text, 'multiplier', mult::text,
                    'reason', reason, 'weighted_arr', weighted::text) ORDER BY rn)
                    FILTER (WHERE rn <= 25) AS accounts
            FROM ranked GROUP BY theme_id
        )
        UPDATE feedback_theme t SET
            arr_at_risk = agg.arr_at_risk,
            account_count = agg.account_count,
            feedback_count = agg.feedback_count,
            impact_score = agg.arr_at_risk + %(weight)s * agg.account_count,
            impact_breakdown = jsonb_build_object(
                'score', (agg.arr_at_risk + %(weight)s * agg.account_count)::text,
                'arr_at_risk', agg.arr_at_risk::text,
                'account_count', agg.account_count,
                'account_component', (%(weight)s * agg.account_count)::text,
                'accounts', agg.accounts)
        FROM agg WHERE t.id = agg.theme_id
        """,
        {"weight": org.impact_per_account_weight},
    )


def sweep_prepare(org: Organization, *, reminders: int, breaches: int) -> None:
    """Make exactly this many reminders and breach notices due, as if the beat had been
    running all along: everything already past its moment is marked sent, then the chosen
    untriaged items get a moment in the last five minutes. Previous runs' SLA notifications
    are removed so each run does the same work."""
    now = timezone.now()
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute("DELETE FROM alignment_notification WHERE kind LIKE 'sla.%%'")
        cursor.execute(
            "UPDATE feedback_feedback SET reminder_sent_at = remind_at WHERE triaged_at IS NULL "
            "AND archived_at IS NULL AND reminder_sent_at IS NULL AND remind_at <= %s",
            [now],
        )
        cursor.execute(
            "UPDATE feedback_feedback SET breach_notified_at = due_at WHERE triaged_at IS NULL "
            "AND archived_at IS NULL AND breach_notified_at IS NULL AND due_at <= %s",
            [now],
        )
        # Reminders: due tomorrow; breaches: due a few minutes ago (their reminder went out).
        cursor.execute(
            """
            WITH picked AS (
                SELECT id, row_number() OVER (ORDER BY id) AS rn FROM feedback_feedback
                WHERE triaged_at IS NULL AND archived_at IS NULL
                ORDER BY id LIMIT %(total)s
            )
            UPDATE feedback_feedback f SET
                remind_at = CASE WHEN p.rn <= %(reminders)s
                    THEN %(now)s - (p.rn %% 300) * interval '1 second'
                    ELSE %(now)s - interval '1 day' - (p.rn %% 300) * interval '1 second' END,
                due_at = CASE WHEN p.rn <= %(reminders)s
                    THEN %(now)s + interval '1 day' - (p.rn %% 300) * interval '1 second'
                    ELSE %(now)s - (p.rn %% 300) * interval '1 second' END,
                reminder_sent_at = CASE WHEN p.rn <= %(reminders)s THEN NULL
                    ELSE %(now)s - interval '1 day' END,
                breach_notified_at = NULL
            FROM picked p WHERE f.id = p.id
            """,
            {"total": reminders + breaches, "reminders": reminders, "now": now},
        )

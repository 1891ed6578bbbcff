"""Seed two demo organizations with members, accounts and product areas. Idempotent."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from alignment.models import (
    Account,
    LifecycleStage,
    Membership,
    Organization,
    ProductArea,
    RiskFactor,
    Role,
    Segment,
    User,
)
from alignment.services.audit import audit_source
from alignment.tenancy import tenant_context
from feedback.models import Category, Feedback, ThemeStatus
from feedback.services import NewTheme, categories_ensure_defaults, feedback_log, theme_create
from roadmap import demo_escalations, demo_items, demo_releases

DEMO_PASSWORD = "seam-demo-2026"  # noqa: S105 - printed demo credentials, local use only

ORGS = [
    {
        "slug": "acme",
        "name": "Acme Analytics",
        "domain": "acme.example",
        "timezone": "America/New_York",
        "holiday_country": "US",
        "currency": "USD",
        "accounts": 300,
    },
    {
        "slug": "borealis",
        "name": "Borealis Cloud",
        "domain": "borealis.example",
        "timezone": "Europe/Berlin",
        "holiday_country": "DE",
        "currency": "EUR",
        "accounts": 120,
    },
]

PEOPLE = [
    ("admin", Role.ADMIN, "Avery Admin"),
    ("csm", Role.CSM, "Casey Morgan"),
    ("csm2", Role.CSM, "Jordan Lee"),
    ("csm3", Role.CSM, "Riley Chen"),
    ("pm", Role.PM, "Priya Shah"),
    ("pm2", Role.PM, "Marcus Webb"),
    ("vp", Role.VP_CS, "Valerie Stone"),
    ("hop", Role.HEAD_OF_PRODUCT, "Hugo Park"),
    ("ops", Role.CS_OPS, "Olivia Ortiz"),
    ("pmm", Role.PMM, "Mina Patel"),
    ("support", Role.SUPPORT, "Sam Rivera"),
]

AREAS = [
    ("Integrations", "Salesforce, HubSpot, Slack and warehouse connectors.", "pm"),
    ("Reporting & Analytics", "Dashboards, scheduled reports, exports.", "pm"),
    ("Permissions & Admin", "Roles, SSO/SAML, audit and workspace settings.", "pm2"),
    ("Workflow Automation", "Rules, triggers and approvals.", "pm2"),
    ("Mobile", "iOS and Android apps.", "hop"),
    ("Billing & Usage", "Plans, invoices, usage metering.", None),
]

DEMO_THEMES = [
    (
        "Two-way Salesforce sync",
        "Integrations",
        "Integration",
        ThemeStatus.UNDER_REVIEW,
        [
            "We update opportunities in Salesforce and then again in your tool. Can it sync both ways?",
            "Our reps refuse to double-enter renewal data; a Salesforce sync would fix adoption.",
            "If the Salesforce integration were bidirectional we'd roll out to the whole sales org.",
        ],
    ),
    (
        "Scheduled PDF reports",
        "Reporting & Analytics",
        "Feature request",
        ThemeStatus.UNDER_REVIEW,
        [
            "Our execs want the weekly dashboard emailed as a PDF every Monday.",
            "Can reports be scheduled? I export them by hand every Friday.",
        ],
    ),
    (
        "SAML SSO for contractors",
        "Permissions & Admin",
        "Feature request",
        ThemeStatus.NOT_PLANNED,
        [
            "Contractors need to log in through our Okta tenant, separate from employees.",
        ],
    ),
    (
        None,
        "Workflow Automation",
        "Usability friction",
        None,
        [
            "Building an approval rule takes 12 clicks; our admins give up halfway.",
            "Approvals time out over the weekend and we have to restart the workflow.",
            "We need conditional approvals based on deal size.",
        ],
    ),
    (
        None,
        "Mobile",
        "Bug",
        None,
        [
            "The iOS app logs our field team out every morning.",
            "Offline mode loses notes taken on site when the app is closed.",
        ],
    ),
    (
        None,
        "Reporting & Analytics",
        "Performance",
        None,
        [
            "The usage dashboard takes over a minute to load for our 4,000 seats.",
            "Exports over 50k rows time out.",
        ],
    ),
    (
        None,
        "Integrations",
        "Integration",
        None,
        [
            "We need a HubSpot connector; Salesforce isn't our CRM.",
            "Slack alerts for SLA breaches would save us a daily check.",
        ],
    ),
]

NAME_PARTS = (
    [
        "Apex",
        "Blue",
        "Cedar",
        "Delta",
        "Ember",
        "Falcon",
        "Granite",
        "Harbor",
        "Iris",
        "Juniper",
        "Keystone",
        "Lumen",
        "Maple",
        "Nimbus",
        "Orchid",
        "Pioneer",
        "Quartz",
        "Redwood",
        "Summit",
        "Tidal",
        "Umber",
        "Vertex",
        "Willow",
        "Xenon",
        "Yarrow",
        "Zephyr",
        "Northwind",
        "Silver",
        "Copper",
        "Atlas",
    ],
    [
        "Logistics",
        "Health",
        "Bank",
        "Retail",
        "Foods",
        "Energy",
        "Media",
        "Labs",
        "Insurance",
        "Robotics",
        "Software",
        "Travel",
        "Capital",
        "Manufacturing",
        "Education",
        "Telecom",
        "Biotech",
        "Freight",
        "Realty",
        "Apparel",
    ],
    ["Inc.", "Group", "Co.", "Ltd", "Corp", "Holdings", "Partners", "Systems"],
)


def _arr(rng: random.Random) -> tuple[Decimal, str]:
    """A realistic book: a few large enterprise accounts, a long tail of small ones."""
    roll = rng.random()
    if roll < 0.04:
        return Decimal(rng.randrange(300_000, 1_200_000, 5_000)), Segment.ENTERPRISE
    if roll < 0.15:
        return Decimal(rng.randrange(100_000, 300_000, 2_500)), Segment.ENTERPRISE
    if roll < 0.45:
        return Decimal(rng.randrange(30_000, 100_000, 1_000)), Segment.MID_MARKET
    return Decimal(rng.randrange(4_000, 30_000, 500)), Segment.SMB


class Command(BaseCommand):
    help = "Create (or refresh) two demo organizations and print their logins."

    def handle(self, *args: Any, **options: Any) -> None:
        lines = []
        for spec in ORGS:
            org = self._seed_org(spec)
            lines.append(f"  {org.name}  http://127.0.0.1:8000/o/{org.slug}/")
            for local, role, _name in PEOPLE:
                lines.append(f"    {Role(role).label:<16} {local}@{spec['domain']}")
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000/login/")
        )
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        self.stdout.write("\n".join(lines))

    @transaction.atomic
    def _seed_org(self, spec: dict[str, Any]) -> Organization:
        org, _ = Organization.objects.get_or_create(
            slug=spec["slug"],
            defaults={k: spec[k] for k in ("name", "timezone", "holiday_country", "currency")},
        )
        rng = random.Random(spec["slug"])  # same data on every run
        with tenant_context(org), audit_source("command", label="seed_demo"):
            members: dict[str, Membership] = {}
            for local, role, full_name in PEOPLE:
                email = f"{local}@{spec['domain']}"
                user, created = User.objects.get_or_create(
                    email=email, defaults={"full_name": full_name}
                )
                if created or not user.check_password(DEMO_PASSWORD):
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                membership, _ = Membership.objects.for_org(org).get_or_create(
                    organization=org, user=user, defaults={"role": role}
                )
                members[local] = membership
            for name, description, pm_key in AREAS:
                ProductArea.objects.for_org(org).get_or_create(
                    organization=org,
                    name=name,
                    defaults={
                        "description": description,
                        "pm": members.get(pm_key) if pm_key else None,
                    },
                )
            self._seed_accounts(
                org, spec["accounts"], rng, [members["csm"], members["csm2"], members["csm3"]]
            )
            categories_ensure_defaults(org=org)
            self._seed_feedback(org, rng, members)
            # The roadmap side: items and promises, then releases and betas (which link to
            # the items), then escalations. Each seeder is idempotent.
            demo_items.seed(org=org, members=members, rng=rng)
            demo_releases.seed(org=org, members=members, rng=rng)
            demo_escalations.seed(org=org, members=members, rng=rng)
        return org

    def _seed_feedback(
        self, org: Organization, rng: random.Random, members: dict[str, Membership]
    ) -> None:
        """A realistic VoC backlog: some themes already triaged, a queue still to work."""
        if Feedback.objects.for_org(org).exists():
            return
        areas = {a.name: a for a in ProductArea.objects.for_org(org)}
        categories = {c.name: c for c in Category.objects.for_org(org)}
        accounts = list(
            Account.objects.for_org(org)
            .exclude(lifecycle_stage=LifecycleStage.CHURNED)
            .order_by("external_id")
        )
        now = timezone.now()
        pm = members["pm"]
        for title, area, category, status, asks in DEMO_THEMES:
            theme = None
            if status:
                reason = (
                    "It conflicts with our data-residency guarantees."
                    if status == ThemeStatus.NOT_PLANNED
                    else ""
                )
                theme = theme_create(
                    org=org,
                    actor=pm,
                    data=NewTheme(
                        title=title,
                        status=status,
                        product_area=areas.get(area),
                        category=categories.get(category),
                        not_planned_reason=reason,
                    ),
                )
            for verbatim in asks:
                account = rng.choice(accounts)
                feedback_log(
                    org=org,
                    actor=account.csm or members["csm"],
                    account=account,
                    verbatim=verbatim,
                    source=rng.choice(["call", "qbr", "ticket", "email"]),
                    product_area=areas.get(area),
                    category=categories.get(category),
                    logged_at=now
                    - datetime.timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 8)),
                    theme=theme,
                )

    def _seed_accounts(
        self, org: Organization, count: int, rng: random.Random, csms: list[Membership]
    ) -> None:
        today = timezone.localdate(timezone=org.tzinfo)
        existing = set(
            Account.objects.for_org(org)
            .filter(external_id__startswith="DEMO-")
            .values_list("external_id", flat=True)
        )
        new = []
        used_names: set[str] = set()
        for i in range(1, count + 1):
            external_id = f"DEMO-{i:04d}"
            first, industry, suffix = (rng.choice(part) for part in NAME_PARTS)
            name = f"{first} {industry} {suffix}"
            while name in used_names:
                name = f"{first} {industry} {rng.choice(NAME_PARTS[2])} {len(used_names)}"
            used_names.add(name)
            arr, segment = _arr(rng)
            stage_roll = rng.random()
            stage = (
                LifecycleStage.CHURNED
                if stage_roll < 0.03
                else LifecycleStage.AT_RISK
                if stage_roll < 0.12
                else LifecycleStage.ONBOARDING
                if stage_roll < 0.22
                else LifecycleStage.ONBOARDED
            )
            risk = rng.choice(list(RiskFactor.values)) if stage == LifecycleStage.AT_RISK else ""
            health = rng.randint(15, 55) if stage == LifecycleStage.AT_RISK else rng.randint(55, 98)
            renewal = today + datetime.timedelta(days=rng.randint(5, 365))
            if external_id in existing:
                continue
            new.append(
                Account(
                    organization=org,
                    external_id=external_id,
                    name=name,
                    arr=arr,
                    segment=segment,
                    renewal_date=renewal,
                    health_score=health,
                    lifecycle_stage=stage,
                    csm=csms[i % len(csms)] if rng.random() > 0.05 else None,
                    primary_risk=risk,
                    primary_risk_note="Champion left in the last reorg."
                    if risk == RiskFactor.RELATIONSHIP
                    else "",
                )
            )
        Account.objects.for_org(org).bulk_create(new, batch_size=500)

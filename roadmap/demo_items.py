"""Demo roadmap for ``seed_demo``: items in every tier, linked themes, and promises in every
state (approved, awaiting sign-off, at risk after a slip). Idempotent: a second run finds the
demo items and changes nothing.

Everything goes through the services, so the demo obeys the same rules as real use (a
committed item has an owner, a quarter and a sign-off; a slip flags the promises on it).
Call it inside ``tenant_context(org)``.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from alignment.models import Account, Membership, Organization, ProductArea
from feedback.models import Feedback, Theme, ThemeStatus
from roadmap import services_commitments, services_items, wording
from roadmap.models import Delivery, RoadmapItem, Tier, Visibility

MARKER = "Two-way Salesforce sync"

# title, problem, area, owner key, tier, quarter offset (None: no quarter), delivery,
# visibility, dev owner, theme to link
DEMO_ITEMS = [
    (
        MARKER,
        "Reps enter every deal twice: once in Salesforce, once here.",
        "Integrations",
        "pm",
        Tier.COMMITTED,
        1,
        Delivery.IN_DEVELOPMENT,
        Visibility.PUBLIC,
        "Integrations squad (Lena Ortiz)",
        "Two-way Salesforce sync",
    ),
    (
        "Offline notes in the iOS app",
        "Field teams lose notes taken where there is no signal.",
        "Mobile",
        "hop",
        Tier.COMMITTED,
        0,
        Delivery.BETA,
        Visibility.NDA,
        "Mobile team (Dev Rao)",
        None,
    ),
    (
        "Scheduled PDF reports",
        "Executives want the weekly dashboard in their inbox without logging in.",
        "Reporting & Analytics",
        "pm",
        Tier.PLANNED,
        2,
        Delivery.DISCOVERY,
        Visibility.PUBLIC,
        "",
        "Scheduled PDF reports",
    ),
    (
        "Conditional approvals by deal size",
        "Approvals route the same way for a $5K and a $500K deal.",
        "Workflow Automation",
        "pm2",
        Tier.PLANNED,
        3,
        Delivery.DISCOVERY,
        Visibility.PUBLIC,
        "",
        None,
    ),
    (
        "HubSpot connector",
        "Customers on HubSpot cannot connect their CRM at all.",
        "Integrations",
        "pm",
        Tier.EXPLORING,
        None,
        Delivery.DISCOVERY,
        Visibility.PUBLIC,
        "",
        None,
    ),
    (
        "Usage-based pricing tiers",
        "Pricing experiment for the next fiscal year.",
        "Billing & Usage",
        "hop",
        Tier.EXPLORING,
        None,
        Delivery.DISCOVERY,
        Visibility.INTERNAL,
        "",
        None,
    ),
]


def _quarter(today: datetime.date, offset: int) -> str:
    index = today.year * 4 + (today.month - 1) // 3 + offset
    return f"{index // 4}-Q{index % 4 + 1}"


def _accounts_of(org: Organization, csm: Membership, theme: Theme | None) -> list[Account]:
    """The CSM's accounts, those asking in the theme first (a promise follows an ask)."""
    owned = Account.objects.for_org(org).filter(csm=csm).exclude(lifecycle_stage="churned")
    asking: list[Account] = []
    if theme is not None:
        ids = Feedback.objects.for_org(org).filter(theme=theme).values("account_id")
        asking = list(owned.filter(pk__in=ids).order_by("-arr", "pk"))
    rest = list(owned.exclude(pk__in=[a.pk for a in asking]).order_by("-arr", "pk")[:20])
    return asking + rest


def seed(*, org: Organization, members: dict[str, Membership], rng: random.Random) -> None:
    if RoadmapItem.objects.for_org(org).filter(title=MARKER).exists():
        return
    today = timezone.localdate(timezone=org.tzinfo)
    areas = {a.name: a for a in ProductArea.objects.for_org(org)}
    themes = {
        t.title: t
        for t in Theme.objects.for_org(org).filter(merged_into__isnull=True)
        if t.status != ThemeStatus.ARCHIVED
    }
    items: dict[str, RoadmapItem] = {}
    for title, problem, area, owner, tier, offset, delivery, visibility, dev, theme in DEMO_ITEMS:
        pm = members.get(owner)
        quarter = _quarter(today, offset) if offset is not None else ""
        item = services_items.roadmap_item_create(
            org=org,
            actor=members["hop"],
            data=services_items.ItemData(
                title=title,
                problem=problem,
                product_area=areas.get(area),
                pm=pm,
                dev_owner=dev,
                tier=Tier.PLANNED if tier == Tier.COMMITTED else tier,
                target_quarter=quarter,
                delivery_status=delivery,
                visibility=visibility,
            ),
        )
        if tier == Tier.COMMITTED and pm is not None:
            item = services_items.roadmap_item_sign_off(
                org=org,
                actor=pm,
                item=item,
                note=f"Staffed by {dev}; scope agreed with design; {quarter} holds.",
            )
        if theme and theme in themes:
            services_items.roadmap_item_link_theme(
                org=org, actor=members["hop"], item=item, theme=themes[theme]
            )
        items[title] = item
    _seed_commitments(org, members, rng, items, themes, today)


def _seed_commitments(
    org: Organization,
    members: dict[str, Membership],
    rng: random.Random,
    items: dict[str, RoadmapItem],
    themes: dict[str, Theme],
    today: datetime.date,
) -> None:
    csm, csm2 = members["csm"], members["csm2"]
    sync = items[MARKER]
    offline = items["Offline notes in the iOS app"]
    reports = items["Scheduled PDF reports"]
    sync_accounts = _accounts_of(org, csm, themes.get(MARKER))
    field_accounts = _accounts_of(org, csm2, None)
    report_accounts = _accounts_of(org, csm, themes.get("Scheduled PDF reports"))
    if len(sync_accounts) < 2 or not field_accounts or not report_accounts:
        return
    when = today - datetime.timedelta(days=rng.randint(2, 9))

    def ask(actor: Membership, account: Account, item: RoadmapItem, context: str, **kw: object):  # type: ignore[no-untyped-def]
        return services_commitments.commitment_request(
            org=org,
            actor=actor,
            account=account,
            item=item,
            context=context,
            conversation_date=when,
            **kw,  # type: ignore[arg-type]
        )

    sync_quarter = wording.quarter_label(sync.target_quarter)
    approved = ask(
        csm,
        sync_accounts[0],
        sync,
        "Renewal call: the VP of Sales will not renew without a Salesforce sync this year.",
        proposed_wording=f"The two-way Salesforce sync ships in {sync_quarter}.",
        include_quarter=True,
    )
    services_commitments.commitment_approve(
        org=org,
        actor=members["pm"],
        commitment=approved,
        approved_wording=(
            f"The two-way Salesforce sync is committed for {sync_quarter}. I'll confirm the "
            "date as soon as the release is scheduled."
        ),
    )
    ask(
        csm,
        sync_accounts[1],
        sync,
        "QBR: their admin asked whether field mappings will be configurable.",
        proposed_wording="Field mappings will be configurable in the first release.",
    )
    field = ask(
        csm2,
        field_accounts[0],
        offline,
        "Escalation call: field team lost a day of site notes; they are under NDA with us.",
        proposed_wording="Offline notes are committed for this quarter.",
        include_quarter=True,
    )
    services_commitments.commitment_approve(
        org=org,
        actor=members["hop"],
        commitment=field,
        approved_wording="Offline notes are committed and in beta now; general release is "
        "planned for this quarter.",
    )
    planned = ask(
        csm,
        report_accounts[0],
        reports,
        "Exec sponsor wants scheduled PDFs before their board meeting.",
        proposed_wording="Scheduled PDFs are on the roadmap.",
    )
    services_commitments.commitment_approve(
        org=org,
        actor=members["pm"],
        commitment=planned,
        approved_wording="Scheduled PDF reports are planned; I can't share a date yet.",
    )
    # The iOS work slips a quarter: the promise to the field-team account turns at risk and
    # its CSM is told, which is what the promises list shows first.
    services_items.roadmap_item_update(
        org=org,
        actor=members["hop"],
        item=offline,
        data=services_items.ItemData(
            title=offline.title,
            problem=offline.problem,
            product_area=offline.product_area,
            pm=offline.pm,
            dev_owner=offline.dev_owner,
            tier=offline.tier,
            target_quarter=_quarter(today, 1),
            delivery_status=offline.delivery_status,
            visibility=offline.visibility,
        ),
    )

"""Setup helpers for the roadmap item and commitment tests: everything goes through the
services, so the data obeys the same rules as in production."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from alignment.models import Account, Membership, Organization
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from feedback.models import Feedback, Theme
from integrations.models import WebhookEndpoint, WebhookEvent
from roadmap import services_commitments, services_items
from roadmap.models import Commitment, RoadmapItem, Tier, Visibility
from tests.factories import AccountFactory


def make_item(
    org: Organization,
    pm: Membership,
    title: str = "Two-way Salesforce sync",
    *,
    tier: str = Tier.PLANNED,
    quarter: str = "",
    dev_owner: str = "",
    visibility: str = Visibility.PUBLIC,
    **extra: object,
) -> RoadmapItem:
    with tenant_context(org):
        return services_items.roadmap_item_create(
            org=org,
            actor=pm,
            data=services_items.ItemData(
                title=title,
                pm=pm,
                tier=tier,
                target_quarter=quarter,
                dev_owner=dev_owner,
                visibility=visibility,
                **extra,  # type: ignore[arg-type]
            ),
        )


def commit_item(
    org: Organization,
    pm: Membership,
    title: str = "Two-way Salesforce sync",
    *,
    quarter: str = "2027-Q1",
    **extra: object,
) -> RoadmapItem:
    """A committed item, the way a PM gets there: planned with owner and quarter, signed off."""
    item = make_item(org, pm, title, quarter=quarter, dev_owner="Integrations squad", **extra)
    with tenant_context(org):
        return services_items.roadmap_item_sign_off(
            org=org, actor=pm, item=item, note="Scoped and staffed for the quarter."
        )


def edit(org: Organization, actor: Membership, item: RoadmapItem, **changes: object) -> RoadmapItem:
    """Change some fields of an item through the edit service, keeping the rest."""
    with tenant_context(org):
        item = RoadmapItem.objects.for_org(org).get(pk=item.pk)
        data = services_items.ItemData(
            title=item.title,
            problem=item.problem,
            product_area=item.product_area,
            pm=item.pm,
            dev_owner=item.dev_owner,
            tier=item.tier,
            target_quarter=item.target_quarter,
            delivery_status=item.delivery_status,
            visibility=item.visibility,
        )
        data = services_items.ItemData(**{**data.__dict__, **changes})
        return services_items.roadmap_item_update(org=org, actor=actor, item=item, data=data)


def account(org: Organization, csm: Membership | None, name: str, arr: str = "100000", **kw):  # type: ignore[no-untyped-def]
    return AccountFactory(organization=org, csm=csm, name=name, arr=Decimal(arr), **kw)


def theme_with_feedback(
    org: Organization, pm: Membership, title: str, *asks: tuple[Membership, Account]
) -> Theme:
    with tenant_context(org):
        theme = feedback_services.theme_create(
            org=org, actor=pm, data=feedback_services.NewTheme(title=title)
        )
        for csm, acct in asks:
            feedback_services.feedback_log(
                org=org, actor=csm, account=acct, verbatim=f"{acct.name} needs {title}", theme=theme
            )
        return Theme.objects.for_org(org).get(pk=theme.pk)


def link(org: Organization, pm: Membership, item: RoadmapItem, theme: Theme) -> Theme:
    with tenant_context(org):
        return services_items.roadmap_item_link_theme(org=org, actor=pm, item=item, theme=theme)


def request(
    org: Organization,
    csm: Membership,
    acct: Account,
    item: RoadmapItem,
    *,
    include_quarter: bool = False,
    context: str = "Renewal call: they asked when the sync lands.",
) -> Commitment:
    with tenant_context(org):
        return services_commitments.commitment_request(
            org=org,
            actor=csm,
            account=acct,
            item=item,
            context=context,
            conversation_date=timezone.localdate(timezone=org.tzinfo),
            include_quarter=include_quarter,
        )


def approve(
    org: Organization, pm: Membership, commitment: Commitment, wording: str = "It is committed."
) -> Commitment:
    with tenant_context(org):
        return services_commitments.commitment_approve(
            org=org, actor=pm, commitment=commitment, approved_wording=wording
        )


def webhook_endpoint(org: Organization, *events: WebhookEvent) -> WebhookEndpoint:
    with tenant_context(org):
        return WebhookEndpoint.objects.for_org(org).create(
            organization=org,
            url="https://hooks.example.test/seam",
            events=[e.value for e in events],
            secret="s3cret-for-tests",
        )


def today(org: Organization) -> datetime.date:
    return timezone.localdate(timezone=org.tzinfo)


def feedback_count(org: Organization) -> int:
    with tenant_context(org):
        return Feedback.objects.for_org(org).count()

"""Reads of the tenancy core. Every selector takes the organization."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from alignment.models import (
    Account,
    LifecycleStage,
    Membership,
    Organization,
    ProductArea,
    User,
)


def membership_list_for_user(user: User) -> QuerySet[Membership]:
    """A person's active memberships across organizations (organization picker)."""
    return (
        Membership.objects.for_user(user.pk)
        .filter(is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def org_overview(*, org: Organization) -> dict[str, Any]:
    """Headline figures for VPs and admins: book of business, renewals, risk, team."""
    today = timezone.localdate(timezone=org.tzinfo)
    in_90 = today + datetime.timedelta(days=90)
    accounts = Account.objects.for_org(org)
    totals = accounts.exclude(lifecycle_stage=LifecycleStage.CHURNED).aggregate(
        count=Count("id"),
        total_arr=Sum("arr"),
        renewing_count=Count("id", filter=Q(renewal_date__gte=today, renewal_date__lte=in_90)),
        renewing_arr=Sum("arr", filter=Q(renewal_date__gte=today, renewal_date__lte=in_90)),
        at_risk_count=Count("id", filter=Q(lifecycle_stage=LifecycleStage.AT_RISK)),
        at_risk_arr=Sum("arr", filter=Q(lifecycle_stage=LifecycleStage.AT_RISK)),
        unassigned=Count("id", filter=Q(csm__isnull=True)),
    )
    for key in ("total_arr", "renewing_arr", "at_risk_arr"):
        totals[key] = totals[key] or Decimal("0")
    by_stage = dict(
        accounts.values_list("lifecycle_stage")
        .annotate(n=Count("id"))
        .values_list("lifecycle_stage", "n")
    )
    team = dict(
        Membership.objects.for_org(org)
        .filter(is_active=True)
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    renewals = list(
        accounts.filter(renewal_date__gte=today, renewal_date__lte=in_90)
        .exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .select_related("csm__user")
        .order_by("renewal_date", "-arr")[:10]
    )
    at_risk = list(
        accounts.filter(lifecycle_stage=LifecycleStage.AT_RISK)
        .select_related("csm__user")
        .order_by("-arr")[:10]
    )
    return {
        "totals": totals,
        "by_stage": [(label, by_stage.get(value, 0)) for value, label in LifecycleStage.choices],
        "team": team,
        "renewals": renewals,
        "at_risk": at_risk,
        "today": today,
    }


def product_area_list(*, org: Organization) -> QuerySet[ProductArea]:
    return ProductArea.objects.for_org(org).select_related("pm__user").order_by("name")


def membership_list_with_role(*, org: Organization, roles: list[str]) -> QuerySet[Membership]:
    return (
        Membership.objects.for_org(org)
        .filter(is_active=True, role__in=roles)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )

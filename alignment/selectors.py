"""Reads of the tenancy core. Every selector takes the organization."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils import timezone

from alignment.models import (
    Account,
    Invitation,
    LifecycleStage,
    Membership,
    Organization,
    ProductArea,
    Role,
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


# --- members and invitations --------------------------------------------------------------

MEMBER_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "user__email"),
    "-name": ("-sort_name", "-user__email"),
    "email": ("user__email",),
    "-email": ("-user__email",),
    "role": ("role_order", "sort_name"),
    "-role": ("-role_order", "sort_name"),
    "status": ("-is_active", "sort_name"),
    "-status": ("is_active", "sort_name"),
    "joined": ("created_at", "pk"),
    "-joined": ("-created_at", "-pk"),
}
MEMBER_STATUSES = ("active", "deactivated", "all")


def membership_list(
    *, org: Organization, sort: str = "name", status: str = "all", query: str = ""
) -> QuerySet[Membership]:
    """Members with their users, in one query, sorted by a whitelisted key."""
    role_order = Case(
        *(When(role=value, then=Value(i)) for i, value in enumerate(Role.values)),
        output_field=IntegerField(),
    )
    queryset = (
        Membership.objects.for_org(org)
        .select_related("user")
        .annotate(
            sort_name=Lower(
                Coalesce(
                    NullIf("user__full_name", Value("")),
                    "user__email",
                    output_field=CharField(),
                )
            ),
            role_order=role_order,
        )
    )
    if status == "active":
        queryset = queryset.filter(is_active=True)
    elif status == "deactivated":
        queryset = queryset.filter(is_active=False)
    query = query.strip()
    if query:
        queryset = queryset.filter(
            Q(user__full_name__icontains=query) | Q(user__email__icontains=query)
        )
    return queryset.order_by(*MEMBER_SORTS.get(sort, MEMBER_SORTS["name"]))


def invitation_list_open(*, org: Organization) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (expired ones included, to resend)."""
    return (
        Invitation.objects.for_org(org)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by__user")
        .order_by("-created_at", "-pk")
    )


def invitation_get_pending(*, org: Organization, token: str) -> Invitation | None:
    """The pending invitation a link's token names, or None (unknown, used, revoked, expired).

    Lookup is by the token's hash, inside the organization: a token of another organization
    finds nothing.
    """
    invitation = (
        Invitation.objects.for_org(org)
        .select_related("invited_by__user")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return None
    return invitation

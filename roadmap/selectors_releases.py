"""Reads of releases and beta programs. Every selector takes the organization; an object of
another organization is exactly as missing as one that never existed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from alignment.models import Account, Membership, Organization
from feedback.models import Feedback
from roadmap.models import (
    BetaParticipant,
    BetaProgram,
    Delivery,
    Release,
    ReleaseItem,
    ReleaseStatus,
    RoadmapItem,
    Visibility,
)


def _with_items(queryset: QuerySet[Release], org: Organization) -> QuerySet[Release]:
    return queryset.prefetch_related(
        Prefetch(
            "release_items",
            queryset=ReleaseItem.objects.for_org(org)
            .select_related("item")
            .order_by("item__title"),
        )
    )


@dataclass
class ReleaseBoard:
    drafts: list[Release]
    upcoming: list[Release]
    shipped: list[Release]


def release_board(*, org: Organization, can_manage: bool, shipped_limit: int = 50) -> ReleaseBoard:
    """Announced releases by date, the latest shipped ones, and drafts for release managers.
    Four queries whatever the number of releases and items."""
    base = _with_items(Release.objects.for_org(org).select_related("announced_by__user"), org)
    drafts = (
        list(base.filter(status=ReleaseStatus.DRAFT).order_by("release_date", "pk"))
        if can_manage
        else []
    )
    upcoming = list(base.filter(status=ReleaseStatus.ANNOUNCED).order_by("release_date", "pk"))
    shipped = list(
        base.filter(status=ReleaseStatus.SHIPPED).order_by("-shipped_at", "-pk")[:shipped_limit]
    )
    return ReleaseBoard(drafts=drafts, upcoming=upcoming, shipped=shipped)


def release_get(*, org: Organization, pk: int, can_manage: bool) -> Release:
    """One release; a draft is visible to release managers only (404 for everyone else)."""
    queryset = Release.objects.for_org(org).select_related(
        "announced_by__user", "shipped_by__user", "created_by__user"
    )
    if not can_manage:
        queryset = queryset.exclude(status=ReleaseStatus.DRAFT)
    release = queryset.filter(pk=pk).first()
    if release is None:
        raise Http404("No such release.")
    return release


def release_items(
    *, org: Organization, release: Release, can_view_internal: bool
) -> tuple[list[RoadmapItem], int]:
    """The items a viewer may see in a release, and how many internal ones are hidden."""
    items = list(
        RoadmapItem.objects.for_org(org)
        .filter(release_items__release=release)
        .select_related("product_area")
        .order_by("title")
    )
    if can_view_internal:
        return items, 0
    visible = [item for item in items if item.visibility != Visibility.INTERNAL]
    return visible, len(items) - len(visible)


def release_item_choices(*, org: Organization) -> QuerySet[RoadmapItem]:
    """Items a release may ship: anything not shipped or cancelled yet."""
    return (
        RoadmapItem.objects.for_org(org)
        .exclude(delivery_status__in=[Delivery.SHIPPED, Delivery.CANCELLED])
        .order_by("title")
    )


# --- betas ---------------------------------------------------------------------------------


def beta_list(*, org: Organization) -> list[BetaProgram]:
    return list(
        BetaProgram.objects.for_org(org)
        .select_related("item", "cs_owner__user", "pm__user")
        .annotate(
            participant_total=Count("participants", distinct=True),
            feedback_total=Count("feedback", distinct=True),
        )
        .order_by("status", "-created_at", "-pk")
    )


def beta_get(*, org: Organization, pk: int) -> BetaProgram:
    beta = (
        BetaProgram.objects.for_org(org)
        .select_related("item", "cs_owner__user", "pm__user", "closed_by__user")
        .filter(pk=pk)
        .first()
    )
    if beta is None:
        raise Http404("No such beta.")
    return beta


def beta_participants(*, org: Organization, beta: BetaProgram) -> list[BetaParticipant]:
    return list(
        BetaParticipant.objects.for_org(org)
        .filter(beta=beta)
        .select_related("account__csm__user")
        .order_by("-account__arr", "account__name")
    )


def beta_feedback(*, org: Organization, beta: BetaProgram) -> list[Feedback]:
    return list(
        Feedback.objects.for_org(org)
        .filter(beta=beta)
        .select_related("account", "logged_by__user", "theme")
        .order_by("-created_at", "-pk")
    )


def beta_taggable_feedback(
    *, org: Organization, beta: BetaProgram, limit: int = 50
) -> list[Feedback]:
    """Participants' feedback not yet tagged to this beta, newest first."""
    accounts = BetaParticipant.objects.for_org(org).filter(beta=beta).values("account_id")
    return list(
        Feedback.objects.for_org(org)
        .filter(account_id__in=accounts, archived_at__isnull=True)
        .filter(Q(beta__isnull=True) | ~Q(beta=beta))
        .select_related("account", "logged_by__user", "beta")
        .order_by("-created_at", "-pk")[:limit]
    )


def beta_account_choices(*, org: Organization, beta: BetaProgram) -> QuerySet[Account]:
    taken = BetaParticipant.objects.for_org(org).filter(beta=beta).values("account_id")
    return Account.objects.for_org(org).exclude(pk__in=taken).order_by("name")


def beta_item_choices(*, org: Organization) -> QuerySet[RoadmapItem]:
    return release_item_choices(org=org)


def members_with_roles(*, org: Organization, roles: tuple[str, ...]) -> QuerySet[Membership]:
    return (
        Membership.objects.for_org(org)
        .filter(role__in=roles, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )

"""Reads for the PM's triage queue, the theme board and the theme page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from alignment.models import Membership, Organization, ProductArea
from feedback.models import Feedback, Theme, ThemeEvent, ThemeStatus
from roadmap.models import Delivery, RoadmapItem


def product_areas_of(*, org: Organization, pm: Membership) -> list[int]:
    return list(ProductArea.objects.for_org(org).filter(pm=pm).values_list("pk", flat=True))


def triage_queue(*, org: Organization, area_ids: list[int] | None) -> QuerySet[Feedback]:
    """Untriaged feedback, biggest impact first; ``area_ids=None`` means every area."""
    queryset = (
        Feedback.objects.for_org(org)
        .filter(theme__isnull=True, archived_at__isnull=True)
        .select_related("account", "product_area", "category", "logged_by__user")
        .order_by("-impact_score", "id")
    )
    if area_ids is not None:
        # A plain filter on the area turns the product area join into an INNER JOIN, and
        # PostgreSQL, misjudging how few product areas row-level security leaves, then starts
        # from the areas and sorts every waiting item of them (200 ms at 40,000 items). With
        # the join kept outer (the empty alternative never matches and leaves no trace in the
        # SQL), it walks the queue's impact index and stops at the page's rows (under 1 ms).
        queryset = queryset.filter(Q(product_area_id__in=area_ids) | Q(pk__in=[]))
    return queryset


# Each queue row carries a pick list of themes. Listing every open theme stops working long
# before an organization has 100,000 of them (25 rows times every theme is millions of
# <option>s, seconds per page), so a row offers the biggest open themes: those most feedback
# lands in. A smaller theme is one "New theme" away, or attached from the log feedback form.
THEME_PICK_FETCHED = 200
THEME_PICK_PER_GROUP = 20


def open_themes(*, org: Organization) -> QuerySet[Theme]:
    """The biggest open themes, biggest first, for the queue rows' pick lists."""
    return (
        Theme.objects.for_org(org)
        .filter(merged_into__isnull=True)
        .exclude(status=ThemeStatus.ARCHIVED)
        .only("pk", "title", "product_area_id", "impact_score")
        .order_by("-impact_score", "id")[:THEME_PICK_FETCHED]
    )


def theme_choices_for(themes: list[Theme], area_id: int | None) -> list[tuple[str, list]]:
    """Open themes grouped: the feedback's own product area first, then the rest; each
    group keeps its biggest ``THEME_PICK_PER_GROUP``."""
    same = [(t.pk, t.title) for t in themes if area_id and t.product_area_id == area_id]
    other = [(t.pk, t.title) for t in themes if not (area_id and t.product_area_id == area_id)]
    same, other = same[:THEME_PICK_PER_GROUP], other[:THEME_PICK_PER_GROUP]
    groups = []
    if same:
        groups.append(("Same product area", same))
    if other:
        groups.append(("Other themes" if same else "Open themes", other))
    return groups


def roadmap_items(*, org: Organization) -> QuerySet[RoadmapItem]:
    """Roadmap items a theme can be put on: not shipped, not cancelled."""
    return (
        RoadmapItem.objects.for_org(org)
        .exclude(delivery_status__in=[Delivery.SHIPPED, Delivery.CANCELLED])
        .only("pk", "title")
        .order_by("title")
    )


def theme_board(
    *, org: Organization, area: str = "", status: str = "", category: str = ""
) -> QuerySet[Theme]:
    queryset = (
        Theme.objects.for_org(org)
        .select_related("product_area", "category", "roadmap_item")
        .order_by("-impact_score", "id")
    )
    if status:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.exclude(status=ThemeStatus.ARCHIVED)
    if area:
        queryset = queryset.filter(product_area_id=area)
    if category:
        queryset = queryset.filter(category_id=category)
    return queryset


def theme_detail(*, org: Organization) -> QuerySet[Theme]:
    return Theme.objects.for_org(org).select_related(
        "product_area", "category", "roadmap_item", "merged_into", "created_by__user"
    )


def theme_feedback(*, org: Organization, theme: Theme) -> QuerySet[Feedback]:
    return (
        Feedback.objects.for_org(org)
        .filter(theme=theme)
        .select_related("account", "logged_by__user", "theme")
        .order_by("-impact_score", "id")
    )


def theme_events(*, org: Organization, theme: Theme) -> QuerySet[ThemeEvent]:
    return (
        ThemeEvent.objects.for_org(org)
        .filter(theme=theme)
        .select_related("actor__user")
        .order_by("-created_at", "-id")
    )

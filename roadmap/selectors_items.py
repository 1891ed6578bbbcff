"""Reads of roadmap items: the board, one item with its linked demand, an account's items.

Who sees what is decided here, once, so every page agrees:

- Product people (``Perm.ROADMAP_VIEW_INTERNAL``) see every item and every quarter.
- Everyone else sees the CS view: no internal items, a quarter only on committed items, and
  for each item the sentence they may repeat (``roadmap.wording``).

Linked demand is measured over the *distinct* accounts behind an item's linked themes, so a
customer asking in two themes counts once. It is computed in SQL as subqueries of the item
query: the board costs one query however many items or themes it shows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone

from alignment.models import Account, Membership, Organization, ProductArea
from feedback.models import Feedback, Theme, ThemeStatus
from roadmap import wording
from roadmap.models import Delivery, RoadmapItem, RoadmapItemEvent, Tier, Visibility

MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0")
TIER_ORDER = [Tier.COMMITTED, Tier.PLANNED, Tier.EXPLORING]
DONE = (Delivery.SHIPPED, Delivery.CANCELLED)
LIVE_THEME_STATUSES = [s for s in ThemeStatus.values if s != ThemeStatus.ARCHIVED]


# --- linked demand, in SQL -------------------------------------------------------------------


def _weighted_arr(org: Organization, today: datetime.date) -> ExpressionWrapper:
    """An account's ARR at risk, as feedback/scoring.py defines it: churned counts nothing;
    otherwise ARR times the larger of the at-risk and renewing-soon multipliers."""
    window_end = today + datetime.timedelta(days=org.impact_renewal_window_days)
    one = Value(Decimal("1"), output_field=MONEY)
    renewing = Case(
        When(
            renewal_date__gte=today,
            renewal_date__lte=window_end,
            then=Value(org.impact_renewal_multiplier, output_field=MONEY),
        ),
        default=one,
        output_field=MONEY,
    )
    at_risk = Case(
        When(
            lifecycle_stage="at_risk", then=Value(org.impact_at_risk_multiplier, output_field=MONEY)
        ),
        default=one,
        output_field=MONEY,
    )
    multiplier = Case(
        When(lifecycle_stage="churned", then=Value(ZERO, output_field=MONEY)),
        default=Greatest(renewing, at_risk),
        output_field=MONEY,
    )
    return ExpressionWrapper(F("arr") * multiplier, output_field=MONEY)


def _linked_feedback(org: Organization, item_ref: Any) -> QuerySet[Feedback]:
    """Live feedback in the open themes linked to the item ``item_ref`` points at."""
    return Feedback.objects.for_org(org).filter(
        theme__roadmap_item=item_ref,
        theme__merged_into__isnull=True,
        theme__status__in=LIVE_THEME_STATUSES,
        archived_at__isnull=True,
    )


def demand_annotations(org: Organization) -> dict[str, Any]:
    """Annotations for a RoadmapItem queryset: ``linked_arr`` (ARR at risk over distinct
    accounts), ``linked_accounts``, ``linked_feedback`` and ``linked_impact`` (ARR at risk
    plus the organization's per-account weight times accounts, like a theme's score)."""
    today = timezone.localdate(timezone=org.tzinfo)
    accounts = Account.objects.for_org(org).filter(
        pk__in=_linked_feedback(org, OuterRef(OuterRef("pk"))).values("account_id")
    )
    arr = (
        accounts.annotate(weighted=_weighted_arr(org, today))
        .order_by()
        .values("organization")
        .annotate(total=Sum("weighted"))
        .values("total")
    )
    count = accounts.order_by().values("organization").annotate(n=Count("pk")).values("n")
    feedback = (
        _linked_feedback(org, OuterRef("pk"))
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    linked_arr = Coalesce(Subquery(arr, output_field=MONEY), Value(ZERO, output_field=MONEY))
    linked_accounts = Coalesce(Subquery(count), Value(0))
    return {
        "linked_arr": linked_arr,
        "linked_accounts": linked_accounts,
        "linked_feedback": Coalesce(Subquery(feedback), Value(0)),
        "linked_impact": ExpressionWrapper(
            linked_arr + Value(org.impact_per_account_weight, output_field=MONEY) * linked_accounts,
            output_field=MONEY,
        ),
    }


# --- shaping for the viewer ------------------------------------------------------------------


def shape_for_viewer(items: Iterable[RoadmapItem], *, internal: bool) -> None:
    """Attach what this viewer may see and say to each item (in place).

    ``quarter_shown`` is blank where the viewer may not see the quarter, so templates never
    read ``target_quarter`` directly; ``csm_sentence`` is the sentence CS may repeat.
    """
    for item in items:
        quarter_ok = wording.quarter_visible(item.tier, internal=internal)
        item.quarter_shown = item.target_quarter if quarter_ok else ""
        item.quarter_label = wording.quarter_label(item.quarter_shown) if item.quarter_shown else ""
        item.csm_sentence = wording.csm_sentence(
            item.tier, item.target_quarter, item.delivery_status
        )
        item.exploring_warning = wording.EXPLORING_WARNING if item.tier == Tier.EXPLORING else ""
        item.visibility_note = wording.visibility_note(item.visibility)
        item.quarter_hidden = bool(item.target_quarter) and not quarter_ok
        for name in ("linked_arr", "linked_impact"):
            value = getattr(item, name, None)
            if value is not None:
                setattr(item, name, Decimal(value).quantize(Decimal("0.01")))


def _visible(org: Organization, *, internal: bool) -> QuerySet[RoadmapItem]:
    items = RoadmapItem.objects.for_org(org)
    if not internal:
        items = items.exclude(visibility=Visibility.INTERNAL)
    return items


# --- the board -------------------------------------------------------------------------------


@dataclass
class QuarterGroup:
    quarter: str  # blank: no quarter (or one this viewer may not see)
    items: list[RoadmapItem] = field(default_factory=list)

    @property
    def label(self) -> str:
        return wording.quarter_label(self.quarter) if self.quarter else ""


@dataclass
class TierColumn:
    tier: str
    label: str
    sentence: str
    groups: list[QuarterGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(g.items) for g in self.groups)


def roadmap_board(
    *,
    org: Organization,
    internal: bool,
    area: ProductArea | None = None,
    include_done: bool = False,
) -> list[TierColumn]:
    """The roadmap by tier, then quarter, biggest linked impact first within a quarter.

    One query: the items with their demand subqueries, product area and PM. Shipped and
    cancelled items are left out unless asked for.
    """
    items = (
        _visible(org, internal=internal)
        .select_related("product_area", "pm__user")
        .annotate(**demand_annotations(org))
        .order_by("-linked_impact", "title", "pk")
    )
    if area is not None:
        items = items.filter(product_area=area)
    if not include_done:
        items = items.exclude(delivery_status__in=DONE)
    rows = list(items)
    shape_for_viewer(rows, internal=internal)
    columns = []
    for tier in TIER_ORDER:
        groups: dict[str, QuarterGroup] = {}
        for item in rows:
            if item.tier == tier:
                groups.setdefault(item.quarter_shown, QuarterGroup(item.quarter_shown))
                groups[item.quarter_shown].items.append(item)
        ordered = sorted(groups.values(), key=lambda g: (g.quarter == "", g.quarter))
        sentence = wording.tier_sentence(tier) if tier != Tier.COMMITTED else ""
        columns.append(TierColumn(tier, Tier(tier).label, sentence, ordered))
    return columns


def area_choices(*, org: Organization) -> QuerySet[ProductArea]:
    return ProductArea.objects.for_org(org).order_by("name")


# --- one item --------------------------------------------------------------------------------


def roadmap_item_get(*, org: Organization, pk: int, internal: bool) -> RoadmapItem:
    """One item with its linked demand (one query). Another organization's item, or an
    internal item for a viewer who may not see it, is missing: 404."""
    item = (
        _visible(org, internal=internal)
        .select_related("product_area", "pm__user", "signed_off_by__user")
        .annotate(**demand_annotations(org))
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404("No such roadmap item.")
    shape_for_viewer([item], internal=internal)
    return item


def roadmap_item_for_edit(*, org: Organization, pk: int) -> RoadmapItem:
    item = RoadmapItem.objects.for_org(org).select_related("pm__user").filter(pk=pk).first()
    if item is None:
        raise Http404("No such roadmap item.")
    return item


def item_linked_themes(*, org: Organization, item: RoadmapItem) -> QuerySet[Theme]:
    return (
        Theme.objects.for_org(org)
        .filter(roadmap_item=item)
        .select_related("product_area")
        .order_by("-impact_score", "id")
    )


def item_top_accounts(*, org: Organization, item: RoadmapItem, limit: int = 10) -> list[Account]:
    """The biggest accounts behind the item's linked themes (distinct), with their CSM."""
    return list(
        Account.objects.for_org(org)
        .filter(pk__in=_linked_feedback(org, item.pk).values("account_id"))
        .select_related("csm__user")
        .order_by("-arr", "id")[:limit]
    )


def item_events(*, org: Organization, item: RoadmapItem, limit: int = 50) -> list:
    return list(
        RoadmapItemEvent.objects.for_org(org)
        .filter(item=item)
        .select_related("actor__user")
        .order_by("-created_at", "-id")[:limit]
    )


def theme_search(*, org: Organization, item: RoadmapItem, q: str, limit: int = 15) -> list[Theme]:
    """Open themes whose title matches ``q``, not already linked to this item."""
    themes = (
        Theme.objects.for_org(org)
        .filter(merged_into__isnull=True)
        .exclude(status=ThemeStatus.ARCHIVED)
        .exclude(roadmap_item=item)
        .select_related("roadmap_item")
        .order_by("-impact_score", "id")
    )
    q = " ".join(q.split())
    if q:
        themes = themes.filter(title__icontains=q)
    return list(themes[:limit])


def pm_choices(*, org: Organization, keep: int | None = None) -> QuerySet[Membership]:
    """Who may own an item: active PMs and Heads of Product (plus the current owner)."""
    allowed = Q(is_active=True, role__in=["pm", "head_of_product"])
    if keep is not None:
        allowed |= Q(pk=keep)
    return (
        Membership.objects.for_org(org)
        .filter(allowed)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- an account's roadmap --------------------------------------------------------------------


def roadmap_items_for_account(
    *, org: Organization, account: Account, internal: bool
) -> list[RoadmapItem]:
    """The items this account's feedback is linked to (through themes), with how many of its
    requests each carries, shaped for the viewer. One query."""
    items = list(
        _visible(org, internal=internal)
        .filter(
            themes__feedback__account=account,
            themes__feedback__archived_at__isnull=True,
            themes__merged_into__isnull=True,
            themes__status__in=LIVE_THEME_STATUSES,
        )
        .annotate(account_feedback=Count("themes__feedback", distinct=True))
        .select_related("product_area")
        .order_by("title", "pk")
    )
    shape_for_viewer(items, internal=internal)
    return items


def roadmap_item_choices(*, org: Organization) -> QuerySet[RoadmapItem]:
    """Items a commitment may be asked about: not internal (never mentioned to a customer),
    not shipped or cancelled."""
    return _visible(org, internal=False).exclude(delivery_status__in=DONE).order_by("title", "pk")

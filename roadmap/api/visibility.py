"""What a CSM may see of the roadmap, as the API shows it to integrations.

* internal items are not shown at all (an item's title can itself be a secret);
* only committed items carry a quarter: a planned item is "planned" with no date, and an
  exploring item is flagged ``not_for_renewal_conversations`` (it is no retention lever);
* commitments only once approved, with the PM's approved wording and nothing else;
* releases only once announced to CS or shipped, with their CS brief.
"""

from __future__ import annotations

from django.db.models import QuerySet

from alignment.models import Organization
from roadmap.models import (
    Commitment,
    CommitmentStatus,
    Release,
    ReleaseStatus,
    RoadmapItem,
    Tier,
    Visibility,
)

CS_VISIBLE = (Visibility.PUBLIC, Visibility.NDA)


def item_is_cs_visible(item: RoadmapItem | None) -> bool:
    return item is not None and item.visibility in CS_VISIBLE


def item_quarter_for_cs(item: RoadmapItem) -> str | None:
    return item.target_quarter or None if item.tier == Tier.COMMITTED else None


def items_for_cs(*, org: Organization) -> QuerySet[RoadmapItem]:
    return (
        RoadmapItem.objects.for_org(org)
        .filter(visibility__in=CS_VISIBLE)
        .select_related("product_area")
    )


def commitments_for_cs(*, org: Organization) -> QuerySet[Commitment]:
    return (
        Commitment.objects.for_org(org)
        .filter(status=CommitmentStatus.APPROVED)
        .select_related("account", "item")
    )


def releases_for_cs(*, org: Organization) -> QuerySet[Release]:
    return Release.objects.for_org(org).filter(
        status__in=(ReleaseStatus.ANNOUNCED, ReleaseStatus.SHIPPED)
    )

"""The CS view of the roadmap (see roadmap/api/visibility.py): output only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from roadmap.api.visibility import item_is_cs_visible, item_quarter_for_cs
from roadmap.models import Commitment, Release, RoadmapItem, Tier


class RoadmapItemRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class RoadmapItemSerializer(serializers.ModelSerializer):
    product_area = serializers.SerializerMethodField()
    target_quarter = serializers.SerializerMethodField(
        help_text="Only for committed items (e.g. 2027-Q1); null for planned and exploring."
    )
    not_for_renewal_conversations = serializers.SerializerMethodField(
        help_text="True for exploring items: under consideration, not a retention lever."
    )

    class Meta:
        model = RoadmapItem
        fields = [
            "id",
            "title",
            "problem",
            "product_area",
            "tier",
            "target_quarter",
            "delivery_status",
            "visibility",
            "not_for_renewal_conversations",
            "updated_at",
        ]
        read_only_fields = fields

    def get_product_area(self, item: RoadmapItem) -> str | None:
        return item.product_area.name if item.product_area_id and item.product_area else None

    def get_target_quarter(self, item: RoadmapItem) -> str | None:
        return item_quarter_for_cs(item)

    def get_not_for_renewal_conversations(self, item: RoadmapItem) -> bool:
        return item.tier == Tier.EXPLORING


def roadmap_item_for_cs(item: RoadmapItem | None) -> dict | None:
    """The item as a CSM may see it, or None when it is internal (or absent)."""
    if not item_is_cs_visible(item):
        return None
    return RoadmapItemSerializer(item).data


class AccountRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()


class CommitmentSerializer(serializers.ModelSerializer):
    account = AccountRefSerializer()
    roadmap_item = serializers.SerializerMethodField(
        help_text="The item, or null when the item is internal."
    )
    quarter = serializers.SerializerMethodField(
        help_text="The quarter the approval rested on, when the PM allowed quoting it."
    )
    at_risk = serializers.SerializerMethodField(
        help_text="The item slipped or changed tier since approval: re-check before repeating."
    )

    class Meta:
        model = Commitment
        fields = [
            "id",
            "account",
            "roadmap_item",
            "approved_wording",
            "quarter",
            "decided_at",
            "at_risk",
            "at_risk_since",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RoadmapItemRefSerializer(allow_null=True))
    def get_roadmap_item(self, commitment: Commitment) -> dict | None:
        item = commitment.item
        if not item_is_cs_visible(item):
            return None
        return {"id": item.pk, "title": item.title}

    def get_quarter(self, commitment: Commitment) -> str | None:
        if commitment.include_quarter and commitment.quarter_at_approval:
            return commitment.quarter_at_approval
        return None

    def get_at_risk(self, commitment: Commitment) -> bool:
        return commitment.at_risk_since is not None


class ReleaseBriefSerializer(serializers.Serializer):
    messaging = serializers.CharField(help_text="Approved messaging.")
    talking_points = serializers.CharField()
    do_not_say = serializers.CharField(help_text="What not to say.")


class ReleaseSerializer(serializers.ModelSerializer):
    brief = serializers.SerializerMethodField()
    roadmap_items = serializers.SerializerMethodField(
        help_text="The CS-visible roadmap items in this release."
    )

    class Meta:
        model = Release
        fields = [
            "id",
            "name",
            "release_date",
            "customer_facing",
            "status",
            "brief",
            "roadmap_items",
            "announced_at",
            "shipped_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ReleaseBriefSerializer)
    def get_brief(self, release: Release) -> dict[str, str]:
        return {
            "messaging": release.messaging,
            "talking_points": release.talking_points,
            "do_not_say": release.do_not_say,
        }

    @extend_schema_field(RoadmapItemRefSerializer(many=True))
    def get_roadmap_items(self, release: Release) -> list[dict]:
        return [
            {"id": item.pk, "title": item.title}
            for item in release.items.all()
            if item_is_cs_visible(item)
        ]

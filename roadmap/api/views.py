"""The roadmap as a CSM may see it: read-only (see roadmap/api/visibility.py)."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from alignment.models import Organization
from integrations.api.base import ApiViewSet
from integrations.api.docs import ERROR_RESPONSES
from integrations.api.filters import UpdatedSinceFilter
from roadmap.api.serializers import CommitmentSerializer, ReleaseSerializer, RoadmapItemSerializer
from roadmap.api.visibility import (
    CS_VISIBLE,
    commitments_for_cs,
    items_for_cs,
    releases_for_cs,
)
from roadmap.models import Commitment, Delivery, Release, ReleaseStatus, RoadmapItem, Tier


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    resource = "roadmap"


class RoadmapItemFilter(django_filters.FilterSet):
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    delivery_status = django_filters.ChoiceFilter(choices=Delivery.choices)
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = RoadmapItem
        fields = ["tier", "delivery_status", "updated_since"]


def _docs(serializer: type, noun: str, rules: str):  # type: ignore[no-untyped-def]
    errors = {k: v for k, v in ERROR_RESPONSES.items() if k[0] in (400, 401, 403, 404, 429)}
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {noun}",
            description=f"{rules} Cursor-paginated. Scope: `roadmap:read`.",
            responses={200: serializer(many=True), **errors},
        ),
        retrieve=extend_schema(
            summary=f"Get one of the {noun}",
            description=f"{rules} Scope: `roadmap:read`.",
            responses={200: serializer, **errors},
        ),
    )


@extend_schema(tags=["Roadmap (CS view)"])
@_docs(
    RoadmapItemSerializer,
    "roadmap items",
    "Internal items are left out. Only committed items carry a quarter; exploring items "
    "are flagged `not_for_renewal_conversations`.",
)
class RoadmapItemViewSet(_ReadOnly):
    model = RoadmapItem
    serializer_class = RoadmapItemSerializer
    filterset_class = RoadmapItemFilter

    def scoped_queryset(self, org: Organization) -> QuerySet[RoadmapItem]:
        return items_for_cs(org=org)


class CommitmentFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    roadmap_item = django_filters.NumberFilter(field_name="item_id")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Commitment
        fields = ["account", "roadmap_item", "updated_since"]


@extend_schema(tags=["Roadmap (CS view)"])
@_docs(
    CommitmentSerializer,
    "commitments",
    "Approved commitments only, with the PM's approved wording: exactly what a CSM may "
    "tell that account.",
)
class CommitmentViewSet(_ReadOnly):
    model = Commitment
    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter

    def scoped_queryset(self, org: Organization) -> QuerySet[Commitment]:
        return commitments_for_cs(org=org)


class ReleaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(ReleaseStatus.ANNOUNCED, "Announced"), (ReleaseStatus.SHIPPED, "Shipped")]
    )
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Release
        fields = ["status", "updated_since"]


@extend_schema(tags=["Roadmap (CS view)"])
@_docs(
    ReleaseSerializer,
    "releases",
    "Releases announced to CS or shipped, each with its CS brief (messaging, talking "
    "points, what not to say). Drafts are left out.",
)
class ReleaseViewSet(_ReadOnly):
    model = Release
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilter

    def scoped_queryset(self, org: Organization) -> QuerySet[Release]:
        items = RoadmapItem.objects.for_org(org).filter(visibility__in=CS_VISIBLE)
        return releases_for_cs(org=org).prefetch_related(Prefetch("items", queryset=items))

"""Feedback (create, list, retrieve) and themes (list, retrieve) over the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from alignment.models import Organization
from feedback import services
from feedback.api.serializers import (
    FEEDBACK_STATUSES,
    FeedbackCreateInputSerializer,
    FeedbackOutputSerializer,
    ThemeDetailSerializer,
    ThemeOutputSerializer,
)
from feedback.models import NEW, Feedback, Source, Theme, ThemeStatus
from integrations.api.base import ApiViewSet
from integrations.api.docs import ERROR_RESPONSES, IDEMPOTENCY_PARAMETER
from integrations.api.filters import UpdatedSinceFilter

THEME_FEEDBACK_LIMIT = 100


def _errors(*statuses: int) -> dict:
    return {k: v for k, v in ERROR_RESPONSES.items() if k[0] in statuses}


class FeedbackFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=FEEDBACK_STATUSES, method="filter_status", help_text="new or a theme status."
    )
    account = django_filters.NumberFilter(field_name="account_id")
    theme = django_filters.NumberFilter(field_name="theme_id")
    product_area = django_filters.NumberFilter(field_name="product_area_id")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Feedback
        fields = ["status", "account", "theme", "product_area", "updated_since"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == NEW:
            return queryset.filter(theme__isnull=True)
        return queryset.filter(theme__status=value)


def _feedback_queryset(org: Organization) -> QuerySet[Feedback]:
    return Feedback.objects.for_org(org).select_related(
        "account", "product_area", "category", "theme", "logged_by__user"
    )


@extend_schema(tags=["Feedback"])
@extend_schema_view(
    list=extend_schema(
        summary="List feedback",
        description="Cursor-paginated, ordered by id. Scope: `feedback:read`.",
        responses={200: FeedbackOutputSerializer(many=True), **_errors(400, 401, 403, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="Get one feedback",
        description="Scope: `feedback:read`.",
        responses={200: FeedbackOutputSerializer, **_errors(400, 401, 403, 404, 429)},
    ),
)
class FeedbackViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet
):
    resource = "feedback"
    model = Feedback
    serializer_class = FeedbackOutputSerializer
    filterset_class = FeedbackFilter

    def scoped_queryset(self, org: Organization) -> QuerySet[Feedback]:
        return _feedback_queryset(org)

    @extend_schema(
        summary="Log feedback",
        description=(
            "Records one signal from one account, with the same checks as the browser's "
            "log-feedback form; its source is `api` and its triage clock starts now. Name "
            "the account by `account` (id) or `account_external_id` (CRM id). Send an "
            "`Idempotency-Key` so a retry never logs it twice. Scope: `feedback:write`."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=FeedbackCreateInputSerializer,
        responses={201: FeedbackOutputSerializer, **ERROR_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = self.organization
        serializer = FeedbackCreateInputSerializer(
            data=request.data, context={"org": org, "api_key": self.client.key}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        feedback = services.feedback_log(
            org=org,
            actor=data.pop("actor"),
            source=Source.API,
            **data,
        )
        feedback = _feedback_queryset(org).get(pk=feedback.pk)
        body = FeedbackOutputSerializer(feedback).data
        location = request.build_absolute_uri(f"{request.path}{feedback.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


class ThemeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ThemeStatus.choices)
    product_area = django_filters.NumberFilter(field_name="product_area_id")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Theme
        fields = ["status", "product_area", "updated_since"]


@extend_schema(tags=["Themes"])
@extend_schema_view(
    list=extend_schema(
        summary="List themes",
        description=(
            "With their stored impact (score, ARR at risk, accounts, feedback) and status. "
            "Ordered by id, cursor-paginated. Scope: `themes:read`."
        ),
        responses={200: ThemeOutputSerializer(many=True), **_errors(400, 401, 403, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="Get one theme",
        description=(
            "With the score's breakdown, its most recent feedback and its roadmap item as "
            "a CSM may see it. Scope: `themes:read`."
        ),
        responses={200: ThemeDetailSerializer, **_errors(400, 401, 403, 404, 429)},
    ),
)
class ThemeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    resource = "themes"
    model = Theme
    serializer_class = ThemeOutputSerializer
    filterset_class = ThemeFilter

    def scoped_queryset(self, org: Organization) -> QuerySet[Theme]:
        return Theme.objects.for_org(org).select_related(
            "product_area", "category", "roadmap_item__product_area"
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        theme = self.get_object()
        feedback = list(
            Feedback.objects.for_org(self.organization)
            .filter(theme=theme)
            .select_related("account")
            .order_by("-created_at", "-id")[:THEME_FEEDBACK_LIMIT]
        )
        return Response(ThemeDetailSerializer(theme, context={"feedback": feedback}).data)

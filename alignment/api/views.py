"""Accounts over the API: list, retrieve, update with ETags, and the CRM bulk upsert."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alignment.api.serializers import (
    AccountBulkUpsertInputSerializer,
    AccountBulkUpsertOutputSerializer,
    AccountBulkUpsertSchemaSerializer,
    AccountOutputSerializer,
    AccountUpdateInputSerializer,
    AccountUpsertItemSerializer,
)
from alignment.models import Account, LifecycleStage, Organization, Segment
from alignment.services.accounts_sync import (
    MAX_BATCH,
    SyncItem,
    account_bulk_upsert,
    account_sync_update,
    account_version,
)
from integrations.api.base import ApiViewSet, if_match_values
from integrations.api.docs import (
    ERROR_RESPONSES,
    IDEMPOTENCY_PARAMETER,
    IF_MATCH_PARAMETER,
    problem,
)
from integrations.api.errors import flatten_errors
from integrations.api.filters import UpdatedSinceFilter


class AccountFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices)
    updated_since = UpdatedSinceFilter()
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Part of the name, or the exact CRM id.",
    )

    class Meta:
        model = Account
        fields = ["segment", "lifecycle_stage", "updated_since", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(external_id=value))


def _with_etag(response: Response, account: Account) -> Response:
    response["ETag"] = account_version(account)
    return response


@extend_schema(tags=["Accounts"])
class AccountViewSet(mixins.ListModelMixin, ApiViewSet):
    """Accounts of the key's organization."""

    resource = "accounts"
    model = Account
    serializer_class = AccountOutputSerializer
    filterset_class = AccountFilter
    scope_levels = {"bulk_upsert": "write"}

    def scoped_queryset(self, org: Organization) -> QuerySet[Account]:
        return Account.objects.for_org(org).select_related("csm__user")

    @extend_schema(
        summary="List accounts",
        description="Cursor-paginated, ordered by id. Scope: `accounts:read`.",
        responses={200: AccountOutputSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Get one account",
        description="The `ETag` header is the account's version: send it back in `If-Match` "
        "when you update it. Scope: `accounts:read`.",
        responses={200: AccountOutputSerializer, **ERROR_RESPONSES},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        return _with_etag(Response(self.get_serializer(account).data), account)

    @extend_schema(
        summary="Update an account",
        description=(
            "Changes the fields sent and keeps the others. With `If-Match: <ETag>` the "
            "update is refused with 412 if the account changed since you read it; without "
            "it the last write wins (allowed, but send it whenever you can). The owning CSM "
            "is given by email (`csm_email`). Scope: `accounts:write`."
        ),
        parameters=[IF_MATCH_PARAMETER],
        request=AccountUpdateInputSerializer,
        responses={
            200: AccountOutputSerializer,
            412: problem("The account changed since you read it."),
            **ERROR_RESPONSES,
        },
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()
        serializer = AccountUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = account_sync_update(
            org=self.organization,
            account_id=account.pk,
            values=dict(serializer.validated_data),
            if_match=if_match_values(request),
        )
        return _with_etag(Response(AccountOutputSerializer(updated).data), updated)

    @extend_schema(
        summary="Create or update accounts by CRM id",
        description=(
            f"Up to {MAX_BATCH} accounts per request, keyed on `external_id` (the CRM id). "
            "Each item is created, updated, left `unchanged`, or reported as an `error` "
            "with its field errors; items are independent (a bad item does not stop the "
            "others) and each is all-or-nothing. Sending the same batch twice leaves the "
            "same rows. Fields left out of an item are kept as stored; `name` is needed to "
            "create. Body limit 1 MB. Scope: `accounts:write`. Send an `Idempotency-Key` "
            "so a retry after a timeout replays the first answer."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=AccountBulkUpsertSchemaSerializer,
        responses={200: AccountBulkUpsertOutputSerializer, **ERROR_RESPONSES},
        examples=[
            OpenApiExample(
                "Two accounts",
                request_only=True,
                value={
                    "accounts": [
                        {
                            "external_id": "0015g00000XyZ01",
                            "name": "Northwind Traders",
                            "arr": "240000.00",
                            "segment": "enterprise",
                            "renewal_date": "2026-11-30",
                            "health_score": 72,
                            "lifecycle_stage": "onboarded",
                            "csm_email": "casey@example.com",
                        },
                        {"external_id": "0015g00000XyZ02", "arr": "18000.00"},
                    ]
                },
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert", url_name="bulk-upsert")
    def bulk_upsert(self, request: Request) -> Response:
        envelope = AccountBulkUpsertInputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        # One item serializer for the batch: building a DRF serializer copies its fields, which
        # per item was ~40% of a 500-account request. run_validation is what ListSerializer
        # calls on its child for each element.
        item_serializer = AccountUpsertItemSerializer()
        items = [
            _parse_item(i, raw, item_serializer)
            for i, raw in enumerate(envelope.validated_data["accounts"])
        ]
        report = account_bulk_upsert(org=self.organization, items=items)
        body = {
            "results": [
                {
                    "index": r.index,
                    "external_id": r.external_id,
                    "status": r.status,
                    "id": r.id,
                    "errors": r.errors,
                }
                for r in report.results
            ],
            "created": report.count("created"),
            "updated": report.count("updated"),
            "unchanged": report.count("unchanged"),
            "errors": report.count("error"),
        }
        return Response(AccountBulkUpsertOutputSerializer(body).data)


def _parse_item(index: int, raw: object, serializer: AccountUpsertItemSerializer) -> SyncItem:
    if not isinstance(raw, dict):
        return SyncItem(
            index=index,
            external_id="",
            errors={"non_field_errors": ["Each item must be an object with an external_id."]},
        )
    external_id = raw.get("external_id")
    shown = external_id.strip() if isinstance(external_id, str) else ""
    try:
        values = dict(serializer.run_validation(raw))
    except serializers.ValidationError as exc:
        return SyncItem(index=index, external_id=shown, errors=flatten_errors(exc.detail))
    return SyncItem(index=index, external_id=values.pop("external_id"), values=values)

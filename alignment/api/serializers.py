"""Account serializers: input and output are separate classes (validation in, shape out)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from alignment.models import Account, LifecycleStage, RiskFactor, Segment
from alignment.services.accounts import MAX_ARR
from alignment.services.accounts_sync import MAX_BATCH


class AccountOutputSerializer(serializers.ModelSerializer):
    arr = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Annual recurring revenue, a decimal string."
    )
    csm_email = serializers.SerializerMethodField(help_text="The owning CSM, or null.")
    csm_name = serializers.SerializerMethodField()
    primary_risk = serializers.ChoiceField(
        choices=RiskFactor.choices, allow_blank=True, help_text='"" when none is recorded.'
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "name",
            "arr",
            "segment",
            "renewal_date",
            "health_score",
            "lifecycle_stage",
            "csm_email",
            "csm_name",
            "primary_risk",
            "primary_risk_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_csm_email(self, account: Account) -> str | None:
        return account.csm.user.email if account.csm_id and account.csm else None

    def get_csm_name(self, account: Account) -> str | None:
        return account.csm.user.display_name if account.csm_id and account.csm else None


def _arr_field(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=MAX_ARR,
        help_text='Annual recurring revenue as a decimal string, e.g. "120000.00".',
        **kwargs,  # type: ignore[arg-type]
    )


class _AccountFieldsInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, trim_whitespace=True)
    arr = _arr_field()
    segment = serializers.ChoiceField(choices=Segment.choices)
    renewal_date = serializers.DateField(allow_null=True)
    health_score = serializers.IntegerField(min_value=0, max_value=100, allow_null=True)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices)
    csm_email = serializers.EmailField(
        allow_null=True,
        allow_blank=True,
        help_text="Email of the owning CSM (an active CSM of this organization); null or "
        '"" leaves the account unassigned.',
    )
    primary_risk = serializers.ChoiceField(
        choices=RiskFactor.choices, allow_blank=True, allow_null=True
    )
    primary_risk_note = serializers.CharField(
        max_length=500, allow_blank=True, allow_null=True, trim_whitespace=True
    )


class AccountUpdateInputSerializer(_AccountFieldsInput):
    """PATCH: every field optional; those sent are changed, the rest are kept."""

    external_id = serializers.CharField(
        max_length=128, allow_blank=True, trim_whitespace=True, help_text="The CRM's id."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            field.required = False


class AccountUpsertItemSerializer(_AccountFieldsInput):
    """One account of a bulk upsert. ``name`` is needed to create; on update, fields left
    out are kept as stored."""

    external_id = serializers.CharField(
        max_length=128, trim_whitespace=True, help_text="The CRM's id: the upsert key."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, field in self.fields.items():
            field.required = name == "external_id"


class AccountBulkUpsertInputSerializer(serializers.Serializer):
    # Items are checked one by one by the view (so one bad item does not sink the batch).
    accounts = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=MAX_BATCH,
        help_text=f"1 to {MAX_BATCH} accounts, each shaped like AccountUpsertItem.",
    )


UPSERT_STATUSES = [
    ("created", "Created"),
    ("updated", "Updated"),
    ("unchanged", "Unchanged"),
    ("error", "Error"),
]


class AccountUpsertResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request.")
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=UPSERT_STATUSES)
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name to messages; empty unless status is error.",
    )


class AccountBulkUpsertOutputSerializer(serializers.Serializer):
    results = AccountUpsertResultSerializer(many=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = serializers.IntegerField()


class AccountBulkUpsertSchemaSerializer(serializers.Serializer):
    """What the OpenAPI schema shows for the bulk upsert body (the view parses items one by
    one with AccountUpsertItemSerializer)."""

    accounts = AccountUpsertItemSerializer(many=True, min_length=1, max_length=MAX_BATCH)

"""Feedback and theme serializers: input and output separate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alignment.models import Account, Membership, Organization, ProductArea
from feedback.forms import org_today
from feedback.models import NEW, Category, Feedback, Theme, ThemeStatus, Urgency
from feedback.selectors_capture import open_themes
from roadmap.api.serializers import RoadmapItemSerializer, roadmap_item_for_cs

FEEDBACK_STATUSES = [(NEW, "New (not yet triaged)"), *ThemeStatus.choices]


@extend_schema_field(OpenApiTypes.INT)
class _OrgPrimaryKey(serializers.PrimaryKeyRelatedField):
    """An id of one of the organization's objects; any other id reads as "does not exist"."""

    def __init__(self, queryset_for: Any, **kwargs: Any) -> None:
        self.queryset_for = queryset_for
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return self.queryset_for(self.context["org"])


class FeedbackCreateInputSerializer(serializers.Serializer):
    """The same checks as the browser's log-feedback form; the source is always "api"."""

    account = _OrgPrimaryKey(
        lambda org: Account.objects.for_org(org),
        required=False,
        help_text="The account's id. Give this or account_external_id.",
        error_messages={"does_not_exist": "No account with id {pk_value} in this organization."},
    )
    account_external_id = serializers.CharField(
        max_length=128, required=False, help_text="The account's CRM id, instead of its id."
    )
    verbatim = serializers.CharField(
        help_text="What the customer said, in their words.",
        error_messages={
            "blank": "Write down what the customer said, in their words.",
            "required": "Write down what the customer said, in their words.",
        },
    )
    job_to_be_done = serializers.CharField(required=False, allow_blank=True, default="")
    workaround = serializers.CharField(required=False, allow_blank=True, default="")
    product_area = _OrgPrimaryKey(
        lambda org: ProductArea.objects.for_org(org),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "No product area with id {pk_value} here."},
    )
    category = _OrgPrimaryKey(
        lambda org: Category.objects.for_org(org),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "No category with id {pk_value} here."},
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    answer_needed_by = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only if the customer waits on a decision; today or later.",
    )
    theme = _OrgPrimaryKey(
        lambda org: open_themes(org=org),
        required=False,
        allow_null=True,
        default=None,
        help_text="Attach to this open theme at once (a known duplicate).",
        error_messages={"does_not_exist": "Theme {pk_value} is not an open theme here."},
    )
    logged_by_email = serializers.EmailField(
        required=False,
        help_text="The member who heard it (an active member). Defaults to the admin who "
        "created the API key.",
    )

    ACCOUNT_MISSING = "Choose the account this came from (account or account_external_id)."

    def to_internal_value(self, data: Any) -> Any:
        # Report a missing account together with the other field errors, as the form does.
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            missing = isinstance(data, dict) and not (
                data.get("account") or data.get("account_external_id")
            )
            if missing and isinstance(exc.detail, dict):
                exc.detail.setdefault("account", [serializers.ErrorDetail(self.ACCOUNT_MISSING)])
            raise

    def validate_answer_needed_by(self, value: Any) -> Any:
        if value is not None and value < org_today(self.context["org"]):
            raise serializers.ValidationError("That date has passed; choose today or a later date.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        org: Organization = self.context["org"]
        has_id = attrs.get("account") is not None
        external_id = (attrs.pop("account_external_id", "") or "").strip()
        if has_id and external_id:
            raise serializers.ValidationError(
                {"account_external_id": ["Give account or account_external_id, not both."]}
            )
        if not has_id:
            if not external_id:
                raise serializers.ValidationError(
                    {
                        "account": [
                            "Choose the account this came from (account or account_external_id)."
                        ]
                    }
                )
            account = Account.objects.for_org(org).filter(external_id=external_id).first()
            if account is None:
                raise serializers.ValidationError(
                    {"account_external_id": [f"No account with CRM id {external_id} here."]}
                )
            attrs["account"] = account
        email = attrs.pop("logged_by_email", None)
        if email:
            member = (
                Membership.objects.for_org(org)
                .filter(user__email__iexact=email.strip(), is_active=True)
                .select_related("user")
                .first()
            )
            if member is None:
                raise serializers.ValidationError(
                    {"logged_by_email": [f"{email} is not an active member of this organization."]}
                )
            attrs["actor"] = member
        else:
            creator = self.context["api_key"].created_by
            if creator is None or not creator.is_active:
                raise serializers.ValidationError(
                    {
                        "logged_by_email": [
                            "The admin who created this API key is no longer active: say "
                            "who heard this feedback."
                        ]
                    }
                )
            attrs["actor"] = creator
        return attrs


class _Ref(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _AccountRef(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()


class FeedbackOutputSerializer(serializers.ModelSerializer):
    account = _AccountRef()
    status = serializers.SerializerMethodField(
        help_text="new until triaged into a theme, then the theme's status."
    )
    product_area = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()
    logged_by_email = serializers.SerializerMethodField()
    impact_score = serializers.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        model = Feedback
        fields = [
            "id",
            "account",
            "verbatim",
            "job_to_be_done",
            "workaround",
            "source",
            "product_area",
            "category",
            "urgency",
            "answer_needed_by",
            "status",
            "theme",
            "logged_by_email",
            "impact_score",
            "due_at",
            "triaged_at",
            "customer_told_at",
            "customer_told_status",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=FEEDBACK_STATUSES))
    def get_status(self, feedback: Feedback) -> str:
        return feedback.status

    @extend_schema_field(_Ref(allow_null=True))
    def get_product_area(self, feedback: Feedback) -> dict | None:
        area = feedback.product_area
        return {"id": area.pk, "name": area.name} if area else None

    @extend_schema_field(_Ref(allow_null=True))
    def get_category(self, feedback: Feedback) -> dict | None:
        category = feedback.category
        return {"id": category.pk, "name": category.name} if category else None

    def get_logged_by_email(self, feedback: Feedback) -> str | None:
        member = feedback.logged_by
        return member.user.email if member else None


class ThemeOutputSerializer(serializers.ModelSerializer):
    product_area = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()
    impact_score = serializers.DecimalField(max_digits=16, decimal_places=2)
    arr_at_risk = serializers.DecimalField(max_digits=16, decimal_places=2)
    roadmap_item = serializers.SerializerMethodField(
        help_text="The linked roadmap item as a CSM may see it; null if none or internal."
    )

    class Meta:
        model = Theme
        fields = [
            "id",
            "title",
            "description",
            "status",
            "not_planned_reason",
            "product_area",
            "category",
            "impact_score",
            "arr_at_risk",
            "account_count",
            "feedback_count",
            "roadmap_item",
            "merged_into",
            "status_changed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(_Ref(allow_null=True))
    def get_product_area(self, theme: Theme) -> dict | None:
        area = theme.product_area
        return {"id": area.pk, "name": area.name} if area else None

    @extend_schema_field(_Ref(allow_null=True))
    def get_category(self, theme: Theme) -> dict | None:
        category = theme.category
        return {"id": category.pk, "name": category.name} if category else None

    @extend_schema_field(RoadmapItemSerializer(allow_null=True))
    def get_roadmap_item(self, theme: Theme) -> dict | None:
        return roadmap_item_for_cs(theme.roadmap_item)


class ThemeFeedbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = _AccountRef()
    verbatim = serializers.CharField()
    urgency = serializers.CharField()
    created_at = serializers.DateTimeField()


class ThemeDetailSerializer(ThemeOutputSerializer):
    impact_breakdown = serializers.JSONField(
        help_text="How the impact score was computed, account by account."
    )
    feedback = serializers.SerializerMethodField(
        help_text="The most recent linked feedback (up to 100); list the rest with "
        "GET /api/v1/feedback/?theme=<id>."
    )

    class Meta(ThemeOutputSerializer.Meta):
        fields = [*ThemeOutputSerializer.Meta.fields, "impact_breakdown", "feedback"]
        read_only_fields = fields

    @extend_schema_field(ThemeFeedbackSerializer(many=True))
    def get_feedback(self, theme: Theme) -> list[dict]:
        return ThemeFeedbackSerializer(self.context["feedback"], many=True).data

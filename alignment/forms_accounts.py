"""Forms of the account pages: parse and check input; the rules themselves live in services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from alignment.models import Account, LifecycleStage, Membership, Organization, Role, Segment
from alignment.selectors_accounts import ACCOUNT_SORTS, DEFAULT_SORT, UNASSIGNED, csm_choices
from alignment.services.accounts import DATE_FORMATS, MAX_ARR, parse_money


class MoneyField(forms.DecimalField):
    """A decimal that also accepts what people paste: ``$1,200,000.50``."""

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        try:
            return parse_money(str(value))
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class CsmChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        if not obj.is_active:
            return f"{obj.user.display_name} (deactivated)"
        if obj.role != Role.CSM:
            return f"{obj.user.display_name} ({obj.get_role_display()})"
        return obj.user.display_name


class AccountForm(forms.ModelForm):
    arr = MoneyField(
        label="ARR",
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_ARR,
        max_digits=14,
        decimal_places=2,
        help_text="Annual recurring revenue, e.g. 120000 or $120,000.",
        error_messages={
            "invalid": "Enter ARR as an amount, e.g. 120000 or 120000.50.",
            "min_value": "ARR cannot be negative.",
            "max_value": "ARR must be below 1,000,000,000,000.",
            "max_decimal_places": "ARR has at most two decimal places (cents).",
        },
    )
    health_score = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        help_text="0 (about to churn) to 100 (thriving).",
        error_messages={
            "invalid": "Enter the health score as a whole number from 0 to 100.",
            "min_value": "The health score must be between 0 and 100.",
            "max_value": "The health score must be between 0 and 100.",
        },
    )
    renewal_date = forms.DateField(
        required=False,
        input_formats=list(DATE_FORMATS),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the renewal date as YYYY-MM-DD (or M/D/YYYY)."},
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "external_id",
            "arr",
            "segment",
            "renewal_date",
            "health_score",
            "lifecycle_stage",
            # "csm" is added in __init__: its choices are this organization's CSMs, and
            # building the default choices at import time would query every tenant.
            "primary_risk",
            "primary_risk_note",
        ]
        labels = {
            "external_id": "CRM id",
            "primary_risk": "Primary risk",
            "primary_risk_note": "Risk note",
        }
        help_texts = {
            "external_id": "The account's id in your CRM; imports match accounts on it.",
            "primary_risk": "What most threatens the renewal, when the account is at risk.",
        }
        widgets = {"primary_risk_note": forms.Textarea(attrs={"rows": 2})}
        error_messages = {"name": {"required": "Every account needs a name."}}

    def __init__(self, *args: Any, org: Organization, can_reassign: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if can_reassign:
            self.fields["csm"] = CsmChoiceField(
                queryset=csm_choices(org=org, keep=self.instance.csm_id),
                required=False,
                label="Owning CSM",
                empty_label="Unassigned",
                initial=self.instance.csm_id,
            )
        # Otherwise no CSM field at all: a CSM owns what they create and cannot hand an
        # account to someone else.
        self.fields["primary_risk"].choices = [
            ("", "None"),
            *self.fields["primary_risk"].choices[1:],
        ]

    def validate_unique(self) -> None:
        """The service checks the CRM id, naming the account that already has it."""

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("arr") is None:
            data["arr"] = Decimal("0")
        return data


def _choices(blank: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", blank), *choices]


class AccountFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    segment = forms.ChoiceField(required=False, choices=_choices("All segments", Segment.choices))
    stage = forms.ChoiceField(
        required=False, label="Lifecycle", choices=_choices("All stages", LifecycleStage.choices)
    )
    csm = forms.ChoiceField(required=False, label="CSM")
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in ACCOUNT_SORTS], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, csms: list[Membership], me: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = [("", "All CSMs"), (UNASSIGNED, "Unassigned")]
        for member in csms:
            label = "Me" if member.pk == me.pk else member.user.display_name
            options.append((str(member.pk), label))
        self.fields["csm"].choices = options
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": "Name or CRM id", "id": "account-search"}
        )

    def value(self, name: str) -> str:
        """A filter's clean value, or blank when it is missing or invalid (ignored)."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return self.cleaned_data.get(name) or ""

    @property
    def sort_key(self) -> str:
        return self.value("sort") or DEFAULT_SORT


class AccountImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={
            "required": "Choose a CSV file to upload.",
            "empty": "The file is empty.",
            "invalid": "Choose a CSV file to upload.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.SEAM_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; the limit is "
                f"{limit / (1024 * 1024):.1f} MB. Split it into smaller files."
            )
        return upload

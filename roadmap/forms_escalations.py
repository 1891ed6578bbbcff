"""Forms of the escalation pages and of the escalation section of organization settings."""

from __future__ import annotations

from django import forms

from alignment.models import Account, Organization, ProductArea
from roadmap.models import EscalationStatus, Severity


class EscalationRaiseForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        help_text="What is broken, in a few words: “Exports time out above 50k rows”.",
    )
    ticket_ref = forms.CharField(
        label="Ticket reference",
        max_length=100,
        required=False,
        help_text="The support ticket this came from, e.g. ZD-48211.",
    )
    accounts = forms.ModelMultipleChoiceField(
        queryset=Account.objects.none(),
        widget=forms.MultipleHiddenInput,
        label="Affected accounts",
        error_messages={
            "required": "Pick at least one affected account.",
            "invalid_choice": "One of the picked accounts does not exist.",
            "invalid_pk_value": "One of the picked accounts does not exist.",
        },
    )
    customer_cited = forms.BooleanField(
        label="The customer cited it",
        required=False,
        help_text="In a renewal conversation or an executive escalation. This alone makes it P1.",
    )
    product_area = forms.ModelChoiceField(
        queryset=ProductArea.objects.none(),
        required=False,
        empty_label="— Not sure —",
        help_text="Its PM owns the response. Without one, the Head of Product does.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="What the customer sees, what support tried, and how to reproduce it.",
    )

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = Account.objects.for_org(org)
        self.fields["product_area"].queryset = ProductArea.objects.for_org(org).select_related(
            "pm__user"
        )
        self.fields["product_area"].label_from_instance = lambda a: (
            f"{a.name} (PM: {a.pm.user.display_name})" if a.pm else f"{a.name} (no PM)"
        )


STATUS_FILTERS = [
    ("open", "Open (not resolved)"),
    ("", "Any status"),
    *EscalationStatus.choices,
]


class EscalationFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    mine = forms.BooleanField(label="Only mine", required=False)

    def values(self) -> dict[str, object]:
        if not self.is_valid():
            return {"status": "open", "severity": "", "mine": False}
        data = self.cleaned_data
        return {"status": data["status"], "severity": data["severity"], "mine": data["mine"]}


class OverrideForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required when it differs from the computed severity. Recorded and shown.",
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=EscalationStatus.choices)


class EscalationSettingsForm(forms.Form):
    escalation_p1_arr_threshold = forms.DecimalField(
        label="P1 above this affected ARR",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text="An escalation whose affected accounts add up to more than this is P1.",
    )
    escalation_p1_response_days = forms.IntegerField(
        label="P1 response (business days)", min_value=1, max_value=30
    )
    escalation_p2_response_days = forms.IntegerField(
        label="P2 response (business days)", min_value=1, max_value=30
    )
    escalation_p3_response_days = forms.IntegerField(
        label="P3 response (business days)", min_value=1, max_value=60
    )

    @classmethod
    def for_org(cls, org: Organization, data: object = None) -> EscalationSettingsForm:
        return cls(data=data, initial={name: getattr(org, name) for name in cls.base_fields})

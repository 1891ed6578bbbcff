"""Forms for the organization's own pages: settings and product areas."""

from __future__ import annotations

import zoneinfo

from django import forms

from alignment.models import Membership, Organization
from alignment.selectors import membership_list_with_role
from alignment.services.organizations import CURRENCIES, PM_ROLES, holiday_countries


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(
        help_text="Business-day clocks (the triage SLA) count days in this time zone."
    )
    holiday_country = forms.ChoiceField(
        label="Holiday calendar",
        help_text="Public holidays of this country pause the SLA clocks, like weekends.",
    )
    currency = forms.ChoiceField(choices=CURRENCIES, help_text="The currency ARR is recorded in.")
    triage_sla_days = forms.IntegerField(
        label="Triage SLA (business days)",
        min_value=1,
        max_value=30,
        help_text="How many business days a PM has to acknowledge new feedback.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [
            (name, name) for name in sorted(zoneinfo.available_timezones())
        ]
        self.fields["holiday_country"].choices = [
            (code, f"{name} ({code})") for code, name in holiday_countries()
        ]

    @classmethod
    def for_org(cls, org: Organization, data: object = None) -> OrganizationSettingsForm:
        initial = {
            "name": org.name,
            "timezone": org.timezone,
            "holiday_country": org.holiday_country,
            "currency": org.currency,
            "triage_sla_days": org.triage_sla_days,
        }
        return cls(data=data, initial=initial)


class ProductAreaForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    pm = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        label="Owning PM",
        empty_label="— No owner yet —",
        help_text="Feedback filed under this area lands in this PM's triage queue.",
    )

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pm"].queryset = membership_list_with_role(org=org, roles=list(PM_ROLES))
        self.fields["pm"].label_from_instance = lambda m: (
            f"{m.user.display_name} ({m.get_role_display()})"
        )


class ImpactWeightsForm(forms.Form):
    impact_per_account_weight = forms.DecimalField(
        label="Weight per affected account",
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Added once per distinct account. Keep it well below real ARR so money "
        "outranks head-count.",
    )
    impact_renewal_multiplier = forms.DecimalField(
        label="Renewal multiplier",
        min_value=1,
        max_digits=5,
        decimal_places=2,
        help_text="Applied to the ARR of accounts renewing inside the window below.",
    )
    impact_renewal_window_days = forms.IntegerField(
        label="Renewal window (days)", min_value=0, max_value=365
    )
    impact_at_risk_multiplier = forms.DecimalField(
        label="At-risk multiplier",
        min_value=1,
        max_digits=5,
        decimal_places=2,
        help_text="Applied to the ARR of accounts flagged at risk. The larger multiplier "
        "wins; they do not compound.",
    )

    @classmethod
    def for_org(cls, org: Organization, data: object = None) -> ImpactWeightsForm:
        return cls(data=data, initial={name: getattr(org, name) for name in cls.base_fields})

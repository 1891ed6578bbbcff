"""Forms of the roadmap board and item pages. Choices come from the organization only; the
rules (tiers, quarters, sign-off) live in roadmap/services_items.py."""

from __future__ import annotations

from django import forms

from alignment.models import Membership, Organization, ProductArea
from feedback.models import Theme, ThemeStatus
from roadmap.models import Delivery, RoadmapItem, Tier, Visibility
from roadmap.selectors_items import area_choices, pm_choices
from roadmap.services_items import ItemData


class ItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    problem = forms.CharField(
        label="Problem it solves",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In the customer's terms: the job they cannot get done today.",
    )
    product_area = forms.ModelChoiceField(
        queryset=ProductArea.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose a product area of this organization."},
    )
    pm = forms.ModelChoiceField(
        label="Owning PM",
        queryset=Membership.objects.none(),
        required=False,
        help_text="Signs off the item and decides on customer commitments.",
        error_messages={"invalid_choice": "Choose an active PM of this organization."},
    )
    dev_owner = forms.CharField(
        label="Development owner",
        max_length=150,
        required=False,
        help_text="The engineering lead or team building it. Required to commit.",
    )
    tier = forms.ChoiceField(
        choices=Tier.choices,
        initial=Tier.EXPLORING,
        help_text=(
            "Committed needs a development owner, a target quarter and a PM's sign-off. "
            "CSMs see a quarter only on committed items."
        ),
    )
    target_quarter = forms.CharField(
        label="Target quarter",
        max_length=20,
        required=False,
        help_text="YYYY-Qn, for example 2027-Q1. Required to commit.",
        widget=forms.TextInput(attrs={"placeholder": "2027-Q1", "autocomplete": "off"}),
    )
    delivery_status = forms.ChoiceField(
        label="Delivery status", choices=Delivery.choices, initial=Delivery.DISCOVERY
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.INTERNAL,
        help_text="Internal items are hidden from CS entirely.",
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, org: Organization, item: RoadmapItem | None = None, **kwargs
    ) -> None:
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": item.title,
                "problem": item.problem,
                "product_area": item.product_area_id,
                "pm": item.pm_id,
                "dev_owner": item.dev_owner,
                "tier": item.tier,
                "target_quarter": item.target_quarter,
                "delivery_status": item.delivery_status,
                "visibility": item.visibility,
            }
        super().__init__(*args, **kwargs)
        self.fields["product_area"].queryset = area_choices(org=org)
        self.fields["pm"].queryset = pm_choices(org=org, keep=item.pm_id if item else None)
        self.fields["pm"].label_from_instance = lambda m: m.display_name

    def item_data(self) -> ItemData:
        data = self.cleaned_data
        return ItemData(
            title=data["title"],
            problem=data["problem"],
            product_area=data["product_area"],
            pm=data["pm"],
            dev_owner=data["dev_owner"],
            tier=data["tier"],
            target_quarter=data["target_quarter"],
            delivery_status=data["delivery_status"],
            visibility=data["visibility"],
        )


class SignOffForm(forms.Form):
    note = forms.CharField(
        label="What you are signing off",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Scope, quarter and any condition. CSMs and the history show it as written.",
        error_messages={"required": "Write what you are signing off."},
    )
    commit = forms.BooleanField(
        label="Move the item to Committed now", required=False, initial=True
    )


class BoardFilterForm(forms.Form):
    area = forms.ModelChoiceField(
        label="Product area",
        queryset=ProductArea.objects.none(),
        required=False,
        empty_label="All areas",
    )
    done = forms.BooleanField(label="Include shipped and cancelled", required=False)

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = area_choices(org=org)


class LinkThemeForm(forms.Form):
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.none(),
        error_messages={
            "required": "Choose a theme to link.",
            "invalid_choice": "Choose an open theme of this organization.",
        },
    )

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = (
            Theme.objects.for_org(org)
            .filter(merged_into__isnull=True)
            .exclude(status=ThemeStatus.ARCHIVED)
        )

"""Forms of the VoC pipeline's capture side: logging feedback, editing categories."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms

from alignment.models import Account, Organization, ProductArea
from feedback.models import Category, Source, Theme, Urgency
from feedback.selectors_capture import open_themes

BROWSER_SOURCES = [(value, label) for value, label in Source.choices if value != Source.API]


def org_today(org: Organization) -> datetime.date:
    return datetime.datetime.now(zoneinfo.ZoneInfo(org.timezone)).date()


class FeedbackLogForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose the account this came from.",
            "invalid_choice": "Choose an account of this organization from the list.",
        },
    )
    verbatim = forms.CharField(
        label="What the customer said",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Their words, as close to verbatim as you can — not your summary.",
        error_messages={"required": "Write down what the customer said, in their words."},
    )
    job_to_be_done = forms.CharField(
        label="Job to be done",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What are they trying to get done when they hit this?",
    )
    workaround = forms.CharField(
        label="Workaround today",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="How they cope today, if at all.",
    )
    source = forms.ChoiceField(choices=BROWSER_SOURCES, initial=Source.CALL)
    product_area = forms.ModelChoiceField(
        queryset=ProductArea.objects.none(),
        required=False,
        empty_label="— Not sure —",
        label="Product area",
        error_messages={"invalid_choice": "Choose a product area from the list."},
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        required=False,
        empty_label="— Not sure —",
        error_messages={"invalid_choice": "Choose a category from the list."},
    )
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.MEDIUM)
    answer_needed_by = forms.DateField(
        label="Answer needed by",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Only if the customer is waiting on a decision, e.g. for a renewal.",
        error_messages={"invalid": "Enter a date like 2026-12-31, or use the date picker."},
    )
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That theme is no longer open; choose another."},
    )

    def __init__(self, *args: object, org: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["account"].queryset = Account.objects.for_org(org)
        self.fields["product_area"].queryset = ProductArea.objects.for_org(org).order_by("name")
        self.fields["category"].queryset = Category.objects.for_org(org).order_by(
            "position", "name"
        )
        self.fields["theme"].queryset = open_themes(org=org)

    def clean_answer_needed_by(self) -> datetime.date | None:
        value = self.cleaned_data.get("answer_needed_by")
        if value is not None and value < org_today(self.org):
            raise forms.ValidationError("That date has passed; choose today or a later date.")
        return value


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One line that tells a CSM when to pick this category.",
    )
    position = forms.IntegerField(
        min_value=0,
        max_value=999,
        required=False,
        help_text="Lower numbers come first in the list. Leave blank to add it at the end.",
    )

"""Forms of the triage queue and the theme pages. Choices come from the organization only."""

from __future__ import annotations

from django import forms

from alignment.models import Organization, ProductArea
from feedback.models import Category, Theme, ThemeStatus
from roadmap.models import RoadmapItem

NEW_THEME_STATUSES = [
    (ThemeStatus.UNDER_REVIEW, ThemeStatus.UNDER_REVIEW.label),
    (ThemeStatus.NOT_PLANNED, ThemeStatus.NOT_PLANNED.label),
    (ThemeStatus.ON_ROADMAP, ThemeStatus.ON_ROADMAP.label),
]


def _open_themes(org: Organization):  # type: ignore[no-untyped-def]
    return (
        Theme.objects.for_org(org)
        .filter(merged_into__isnull=True)
        .exclude(status=ThemeStatus.ARCHIVED)
    )


class AttachForm(forms.Form):
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.none(),
        error_messages={"invalid_choice": "Choose an open theme of this organization."},
    )

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = _open_themes(org)


class StatusFields(forms.Form):
    not_planned_reason = forms.CharField(
        label="Reason",
        help_text="Required for “Not planned”: the CSMs pass it on to customers.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    roadmap_item = forms.ModelChoiceField(
        label="Roadmap item",
        help_text="Required for “On the roadmap”.",
        queryset=RoadmapItem.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose a roadmap item of this organization."},
    )

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["roadmap_item"].queryset = RoadmapItem.objects.for_org(org).order_by("title")

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        status = data.get("status")
        if status == ThemeStatus.NOT_PLANNED and not (data.get("not_planned_reason") or "").strip():
            self.add_error("not_planned_reason", "A reason is required for “Not planned”.")
        missing_item = not data.get("roadmap_item") and "roadmap_item" not in self.errors
        if status == ThemeStatus.ON_ROADMAP and missing_item:
            self.add_error("roadmap_item", "Choose the roadmap item.")
        return data


class NewThemeForm(StatusFields):
    title = forms.CharField(max_length=200)
    status = forms.ChoiceField(choices=NEW_THEME_STATUSES, initial=ThemeStatus.UNDER_REVIEW)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    product_area = forms.ModelChoiceField(queryset=ProductArea.objects.none(), required=False)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False)

    field_order = [
        "title",
        "status",
        "not_planned_reason",
        "roadmap_item",
        "description",
        "product_area",
        "category",
    ]

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, org=org, **kwargs)
        self.fields["product_area"].queryset = ProductArea.objects.for_org(org).order_by("name")
        self.fields["category"].queryset = Category.objects.for_org(org)


class StatusForm(StatusFields):
    status = forms.ChoiceField(choices=ThemeStatus.choices)
    field_order = ["status", "not_planned_reason", "roadmap_item"]


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label="Merge into",
        queryset=Theme.objects.none(),
        error_messages={"invalid_choice": "Choose an open theme of this organization."},
    )
    confirm = forms.BooleanField(
        label="Yes, move every feedback and archive this theme",
        error_messages={"required": "Tick the box to confirm the merge."},
    )

    def __init__(self, *args, org: Organization, theme: Theme, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _open_themes(org).exclude(pk=theme.pk).order_by("title")


class BoardFilterForm(forms.Form):
    area = forms.ModelChoiceField(
        queryset=ProductArea.objects.none(), required=False, empty_label="All areas"
    )
    status = forms.ChoiceField(
        choices=[("", "Open (not archived)"), *ThemeStatus.choices], required=False
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, empty_label="All categories"
    )

    def __init__(self, *args, org: Organization, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = ProductArea.objects.for_org(org).order_by("name")
        self.fields["category"].queryset = Category.objects.for_org(org)

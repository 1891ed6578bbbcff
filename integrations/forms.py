"""Forms of the integrations settings pages."""

from __future__ import annotations

from django import forms

from integrations.api.scopes import RESOURCES
from integrations.services_api_keys import MAX_RATE_LIMIT, MIN_RATE_LIMIT

_LEVEL_LABELS = {"read": "read", "write": "read and write"}
SCOPE_CHOICES = [
    (f"{resource}:{level}", f"{label} — {_LEVEL_LABELS[level]}")
    for resource, (label, levels) in RESOURCES.items()
    for level in levels
]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses this key, e.g. “Salesforce sync”. Shown in the list and the "
        "audit log.",
        error_messages={"required": "Name the key after what uses it."},
    )
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="What it may do",
        help_text="Give it only what it needs. Write includes read.",
        error_messages={"required": "Choose at least one thing this key may do."},
    )
    rate_limit_per_minute = forms.IntegerField(
        label="Requests per minute",
        initial=600,
        min_value=MIN_RATE_LIMIT,
        max_value=MAX_RATE_LIMIT,
        help_text="Beyond this the API answers 429 until the minute is over.",
    )

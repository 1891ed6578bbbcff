"""Forms of the webhook settings pages. Validation of the URL and the events lives in the
service (integrations/services_webhook_endpoints.py); the form only parses input."""

from __future__ import annotations

from django import forms

from integrations.models import WebhookDeliveryStatus, WebhookEvent


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/seam/webhooks"}),
        help_text="Must be https and reachable from the internet.",
    )
    description = forms.CharField(
        max_length=200,
        required=False,
        help_text="What receives these events, e.g. “CRM sync” or “Data warehouse”.",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *WebhookDeliveryStatus.choices], required=False
    )

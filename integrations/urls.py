"""Browser pages of the integrations settings (API keys, webhooks), under /o/<slug>/."""

from integrations import views_api_keys, views_webhooks

app_name = "integrations"

urlpatterns = [
    *views_api_keys.urlpatterns,
    *views_webhooks.urlpatterns,
]

"""Every URL under /o/<org_slug>/: each view is wrapped by ``org_view``."""

from alignment.views import (
    accounts,
    audit,
    home,
    members,
    notifications,
    org_settings,
    product_areas,
)

app_name = "alignment"

urlpatterns = [
    *home.org_urlpatterns,
    *accounts.urlpatterns,
    *product_areas.urlpatterns,
    *members.urlpatterns,
    *org_settings.urlpatterns,
    *audit.urlpatterns,
    *notifications.urlpatterns,
]

from django.urls import include, path

from alignment.views import auth, home

urlpatterns = [
    path("", home.root, name="root"),
    path("healthz", home.healthz, name="healthz"),
    path("orgs/", home.org_picker, name="org-picker"),
    *auth.urlpatterns,
    path("o/<slug:org_slug>/", include("alignment.urls_org")),
    path("o/<slug:org_slug>/", include("feedback.urls")),
    path("o/<slug:org_slug>/", include("roadmap.urls")),
    path("o/<slug:org_slug>/", include("integrations.urls")),
    path("api/v1/", include("integrations.api_urls")),
]

handler403 = "alignment.views.errors.forbidden"
handler404 = "alignment.views.errors.not_found"
handler500 = "alignment.views.errors.server_error"

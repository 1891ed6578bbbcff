"""The REST API under /api/v1/ (namespace ``api``): every resource, the OpenAPI schema and
the docs (Swagger UI, served from our own static files)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from integrations.api.docs_views import SwaggerDocsView
from integrations.api.errors import not_found_view

app_name = "api"

urlpatterns = [
    path("", include("alignment.api.urls")),
    path("", include("feedback.api.urls")),
    path("", include("roadmap.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^(?P<unmatched>.*)$", not_found_view, name="not-found"),
]

"""Swagger UI for the API, from drf-spectacular-sidecar's files under /static/: no CDN, no
inline script or style, so the site's strict Content-Security-Policy holds."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "integrations/api_keys/api_docs.html"
    title = "Seam API"

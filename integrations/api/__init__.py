"""The REST API framework: API-key authentication, the base viewset every endpoint extends,
problem+json errors, cursor pagination, idempotent POSTs, ETags and per-key rate limits.

Endpoints live with their app (``alignment/api/``, ``feedback/api/``, ``roadmap/api/``) and
are mounted by ``integrations/api_urls.py`` under ``/api/v1/``. docs/api.md is the guide.
"""

"""API key pages in the cross-organization sweep."""

from __future__ import annotations

from typing import Any

from integrations.services_api_keys import api_key_create

KWARGS_FROM = {
    "integrations:api-key-revoke": lambda o: {"pk": o.extra["api_key"].pk},
}


def populate(o: Any) -> dict[str, Any]:
    created = api_key_create(
        org=o.org, actor=o.admin, name=f"{o.org.name} CRM", scopes=["accounts:read"]
    )
    return {"api_key": created.key}

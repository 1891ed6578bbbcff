"""Shared fixtures of the API tests: keys made through the service, a JSON client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from alignment.models import Membership, Organization
from alignment.tenancy import tenant_context
from integrations.api.scopes import ALL_SCOPES
from integrations.services_api_keys import NewApiKey, api_key_create


class ApiClient:
    """A test client that speaks JSON and sends one API key."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(headers or {})
        return out

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str):  # type: ignore[no-untyped-def]
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, raw: bytes | None = None, **headers: str):  # type: ignore[no-untyped-def]
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            path, data, content_type="application/json", headers=self._headers(headers)
        )

    def patch(self, path: str, body: Any, **headers: str):  # type: ignore[no-untyped-def]
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self._headers(headers)
        )


def make_key(
    org: Organization, admin: Membership, scopes: list[str] | None = None, **kwargs: Any
) -> NewApiKey:
    with tenant_context(org):
        return api_key_create(
            org=org,
            actor=admin,
            name=kwargs.pop("name", "CRM sync"),
            scopes=list(ALL_SCOPES) if scopes is None else scopes,
            **kwargs,
        )


@pytest.fixture
def key_a(org_a, admin_a) -> NewApiKey:
    return make_key(org_a, admin_a)


@pytest.fixture
def api_a(key_a) -> ApiClient:
    return ApiClient(key_a.token)


@pytest.fixture
def api_for() -> Callable[[str | None], ApiClient]:
    return ApiClient


def assert_problem(response, status: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:seam:problem:")
    assert body["title"] and body["detail"]
    return body

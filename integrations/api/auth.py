"""API key authentication: ``Authorization: Bearer seam_<prefix>_<secret>``.

The key names its organization, so the lookup by prefix is the one moment the API does not
know the organization yet: it runs inside ``cross_tenant_system_context`` and reads exactly
one row by its unique, public prefix. Everything after it runs inside
``tenant_context(key.organization)`` (see ``integrations.api.base``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from alignment.models import Organization
from alignment.tenancy import cross_tenant_system_context, tenant_context
from integrations.models import ApiKey
from integrations.services_api_keys import secret_matches, split_token

# last_used_at is written at most once a minute per key: a busy integration does not turn
# every read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` of an API request: the key, not a person."""

    key: ApiKey

    is_authenticated = True
    is_anonymous = False

    @property
    def organization(self) -> Organization:
        return self.key.organization

    @property
    def label(self) -> str:
        return f"API key {self.key.name} ({self.key.prefix})"

    def __str__(self) -> str:
        return self.label


def _find_key(prefix: str) -> ApiKey | None:
    # The single cross-tenant read of the API: one row, by its unique public prefix, before
    # any organization is known. The secret is checked afterwards, in constant time.
    with cross_tenant_system_context():
        return ApiKey.objects.select_related("organization").filter(prefix=prefix).first()


def _touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    cutoff = now - LAST_USED_RESOLUTION
    with tenant_context(key.organization_id):
        # Conditional, so concurrent requests write it once per minute at most.
        ApiKey.objects.for_org(key.organization_id).filter(pk=key.pk).exclude(
            last_used_at__gte=cutoff
        ).update(last_used_at=now)
    key.last_used_at = now


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # answered 401 with WWW-Authenticate: Bearer
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send “Bearer seam_<prefix>_<secret>”."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        split = split_token(token)
        if split is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        prefix, secret = split
        key = _find_key(prefix)
        if key is None or not secret_matches(key, secret):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        _touch(key)
        request.organization = key.organization  # type: ignore[attr-defined]
        return ApiClient(key), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="seam-api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the key (drf-spectacular finds it by subclassing)."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organization API key, created by an admin under Organization → "
            "API keys: `Authorization: Bearer seam_<prefix>_<secret>`.",
        }

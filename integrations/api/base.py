"""The one base viewset of the API. Subclasses get all of this and cannot switch it off:

* authentication by organization API key only (``ApiKeyAuthentication``);
* the scope check (``<resource>:read`` for reads, ``<resource>:write`` for writes);
* a queryset scoped to the key's organization: subclasses write ``scoped_queryset(org)``,
  and ``get_queryset`` filters by the organization once more on top of it;
* the whole handler runs inside ``tenant_context(org)``, so the ORM and PostgreSQL row-level
  security (``app.current_org``, set for the transaction) both confine it, and inside
  ``audit_source("api")`` so audit events name the key;
* per-key rate limits with ``RateLimit-*`` headers, a request body size limit,
  ``Idempotency-Key`` on POST, and problem+json for every error.

``__init_subclass__`` refuses a subclass that overrides any of the machinery, so a new
endpoint cannot opt out by accident (or on purpose) — a test walks the URL conf too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import exceptions, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from alignment.decorators import client_ip
from alignment.models import Organization
from alignment.services.audit import audit_source
from alignment.tenancy import tenant_context
from integrations.api.auth import ApiClient, ApiKeyAuthentication
from integrations.api.errors import PayloadTooLarge, PreconditionFailed
from integrations.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from integrations.api.idempotency import Claim, idempotency_begin, idempotency_finish
from integrations.api.ratelimit import rate_limit_hit
from integrations.api.scopes import scope_allows

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class HasScope(BasePermission):
    """The key holds ``<view.resource>:<level>``; the level is read for safe methods and
    write otherwise, unless the view's ``scope_levels`` names the action's level."""

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        level = view.required_level(request)  # type: ignore[attr-defined]
        resource = view.resource  # type: ignore[attr-defined]
        if scope_allows(client.key.scopes, resource, level):
            return True
        self.message = f"This API key lacks the {resource}:{level} scope."
        return False


_SEALED = frozenset(
    {
        "authentication_classes",
        "permission_classes",
        "throttle_classes",
        "get_authenticators",
        "get_permissions",
        "get_throttles",
        "perform_authentication",
        "check_permissions",
        "check_throttles",
        "initial",
        "dispatch",
        "handle_exception",
        "get_exception_handler",
        "finalize_response",
        "get_queryset",
        "queryset",
    }
)


def if_match_values(request: Request) -> list[str] | None:
    """The entity tags of ``If-Match`` (``*`` included), or None when it was not sent."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    values = [part.strip() for part in raw.split(",") if part.strip()]
    if not values:
        raise PreconditionFailed("If-Match is empty: send the ETag you read, or leave it out.")
    return values


class ApiViewSet(viewsets.GenericViewSet):
    """Base of every API endpoint. Subclasses set ``resource`` and ``model`` and implement
    ``scoped_queryset(org)``; they never see an unscoped queryset."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes: list[Any] = []

    resource: ClassVar[str] = ""
    model: ClassVar[type[Model] | None] = None
    # action -> "read" | "write" when the method alone does not say it.
    scope_levels: ClassVar[dict[str, str]] = {}
    # The largest request body this endpoint accepts, by setting name.
    max_body_setting: ClassVar[str] = "SEAM_API_MAX_BODY_BYTES"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = sorted(name for name in _SEALED if name in cls.__dict__)
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}: API endpoints inherit "
                "authentication, scopes, organization scoping and error handling from "
                "ApiViewSet and may not replace them. Implement scoped_queryset(org)."
            )
        if "scoped_queryset" in cls.__dict__ and not (cls.resource and cls.model):
            raise TypeError(f"{cls.__name__} must set resource and model.")

    # --- what subclasses provide ---------------------------------------------------------

    def scoped_queryset(self, org: Organization) -> QuerySet:
        raise NotImplementedError

    def required_level(self, request: Request) -> str:
        level = self.scope_levels.get(getattr(self, "action", None) or "")
        if level:
            return level
        return "read" if request.method in SAFE_METHODS else "write"

    @property
    def organization(self) -> Organization:
        return self.request.organization  # type: ignore[attr-defined]

    @property
    def client(self) -> ApiClient:
        return self.request.user  # type: ignore[return-value]

    # --- sealed machinery -------------------------------------------------------------------

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request org
            return self.model.objects.none()  # type: ignore[union-attr]
        org = self.organization
        # Scoped twice on purpose: the subclass's selector takes the organization, and the
        # result is filtered by it again here, so a selector mistake cannot widen it.
        return self.scoped_queryset(org).filter(organization_id=org.pk)

    def perform_authentication(self, request: Request) -> None:
        client = request.user
        if isinstance(client, ApiClient):
            state = rate_limit_hit(
                key_prefix=client.key.prefix, limit=client.key.rate_limit_per_minute
            )
            request.seam_rate_limit = state  # type: ignore[attr-defined]
            if state.exceeded:
                raise exceptions.Throttled(
                    wait=state.reset,
                    detail=f"This API key may make {state.limit} requests a minute.",
                )

    def check_throttles(self, request: Request) -> None:
        # Rate limiting is done per key in perform_authentication, with standard headers.
        return None

    def _check_body_size(self, request: Request) -> None:
        limit = getattr(settings, self.max_body_setting)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(
                f"The request body is {length:,} bytes; this endpoint accepts at most "
                f"{limit:,} bytes."
            )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._check_body_size(request)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # DRF's dispatch, with the organization context and idempotency around the handler.
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        claim: Claim | None = None
        try:
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = (
                getattr(self, method, self.http_method_not_allowed)
                if method in self.http_method_names
                else self.http_method_not_allowed
            )
            client = self.client
            idempotency_key = request.headers.get(IDEMPOTENCY_HEADER)
            if request.method == "POST" and idempotency_key is not None:
                claim = idempotency_begin(
                    org=client.organization,
                    api_key=client.key,
                    key=idempotency_key,
                    method=request.method,
                    path=request.path,
                    body=request.body,
                )
            if claim is not None and claim.replay is not None:
                response = claim.replay
            else:
                with (
                    tenant_context(client.organization),
                    audit_source("api", ip_address=client_ip(request), label=client.label),
                ):
                    response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        if claim is not None:
            idempotency_finish(claim, self.response)
        return self.response

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "seam_rate_limit", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

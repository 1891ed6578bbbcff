"""The browser's edge: resolve the organization from the URL once, then run the view in it.

Every view under ``/o/<org_slug>/`` is wrapped by ``org_view``. It 404s for a missing
organization and for a user who is not an active member (existence does not leak), checks
the view's declared permission against the role matrix (403: the member knows the page
exists), and runs the view inside ``tenant_context`` so the ORM and PostgreSQL are scoped
to that organization. The view renders inside the context, so templates are scoped too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse

from alignment.models import Membership, Organization
from alignment.permissions import Perm, role_has_perm
from alignment.services.audit import audit_source
from alignment.tenancy import tenant_context


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: behind a proxy, the proxy is configured to set it (gunicorn
    # --forwarded-allow-ips); a client-supplied X-Forwarded-For is never trusted here.
    return request.META.get("REMOTE_ADDR") or None


def org_view(
    perm: Perm = Perm.VIEW,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            org = Organization.objects.filter(slug=org_slug).first()
            if org is None:
                raise Http404("No such organization.")
            with (
                tenant_context(org, user_id=request.user.pk),
                audit_source("web", ip_address=client_ip(request)),
            ):
                membership = (
                    Membership.objects.for_org(org)
                    .select_related("user")
                    .filter(user_id=request.user.pk, is_active=True)
                    .first()
                )
                if membership is None:
                    raise Http404("No such organization.")
                if not role_has_perm(membership.role, perm):
                    raise PermissionDenied("Your role does not allow this.")
                request.org = org  # type: ignore[attr-defined]
                request.membership = membership  # type: ignore[attr-defined]
                if request.session.get("last_org") != org.slug:
                    request.session["last_org"] = org.slug
                response = view(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
                return response

        wrapper.seam_org_view = True  # type: ignore[attr-defined]
        wrapper.seam_perm = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


def has_perm(request: HttpRequest, perm: Perm) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and role_has_perm(membership.role, perm)

"""API keys in the browser (admins): list, create (the key is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from alignment.permissions import Perm
from integrations.api.scopes import RESOURCES
from integrations.forms import ApiKeyForm
from integrations.models import ApiKey
from integrations.services_api_keys import api_key_create, api_key_revoke


def _key_list(org):  # type: ignore[no-untyped-def]
    return (
        ApiKey.objects.for_org(org)
        .select_related("created_by__user")
        .order_by("revoked_at", "-created_at", "-id")
    )


@org_view(Perm.API_KEYS_MANAGE)
def api_key_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    return render(
        request,
        "integrations/api_keys/list.html",
        {"keys": _key_list(org), "nav": "api_keys", "resources": RESOURCES},
    )


@org_view(Perm.API_KEYS_MANAGE)
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = api_key_create(
                org=org,
                actor=membership,
                name=data["name"],
                scopes=data["scopes"],
                rate_limit_per_minute=data["rate_limit_per_minute"],
            )
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            # The full key exists only in this response: it is not stored, not put in the
            # session, and the page must not be cached.
            response = render(
                request,
                "integrations/api_keys/created.html",
                {"key": created.key, "token": created.token, "nav": "api_keys"},
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "integrations/api_keys/form.html",
        {"form": form, "nav": "api_keys"},
        status=422 if form.errors and request.htmx else 200,  # type: ignore[attr-defined]
    )


@require_POST
@org_view(Perm.API_KEYS_MANAGE)
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    key = get_object_or_404(ApiKey.objects.for_org(org), pk=pk)
    try:
        key = api_key_revoke(org=org, actor=membership, key=key)
    except ApplicationError as error:
        if request.htmx:  # type: ignore[attr-defined]
            key = _key_list(org).get(pk=pk)
            return render(
                request,
                "integrations/api_keys/partials/_row.html",
                {"key": key, "row_message": error.message},
            )
        messages.error(request, error.message)
        return redirect("integrations:api-key-list", org_slug=org.slug)
    if request.htmx:  # type: ignore[attr-defined]
        key = _key_list(org).get(pk=pk)
        return render(
            request,
            "integrations/api_keys/partials/_row.html",
            {"key": key, "row_message": "Revoked: requests with this key are now refused."},
        )
    messages.success(request, f"The key “{key.name}” was revoked; it no longer works.")
    return redirect("integrations:api-key-list", org_slug=org.slug)


urlpatterns = [
    path("settings/api-keys/", api_key_list, name="api-key-list"),
    path("settings/api-keys/new/", api_key_create_view, name="api-key-create"),
    path("settings/api-keys/<int:pk>/revoke/", api_key_revoke_view, name="api-key-revoke"),
]

"""Organization settings (admins). Later issues add their sections to the same page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from alignment.forms import OrganizationSettingsForm
from alignment.http import redirect_after_post
from alignment.permissions import Perm
from alignment.services.organizations import organization_update_settings


@org_view(Perm.ORG_SETTINGS)
def org_settings(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    form = OrganizationSettingsForm.for_org(org, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            organization_update_settings(org=org, actor=membership, **form.cleaned_data)
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            messages.success(request, "Settings saved.")
            return redirect_after_post(request, "alignment:org-settings", org_slug=org.slug)
    template = (
        "alignment/settings/partials/_general_form.html"
        if request.htmx
        else "alignment/settings/settings.html"
    )
    return render(
        request,
        template,
        {"form": form, "nav": "settings"},
        status=422 if form.errors else 200,
    )


urlpatterns = [path("settings/", org_settings, name="org-settings")]

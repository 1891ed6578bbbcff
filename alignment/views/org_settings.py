"""Organization settings (admins). Later issues add their sections to the same page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from alignment.forms import ImpactWeightsForm, OrganizationSettingsForm
from alignment.http import redirect_after_post
from alignment.permissions import Perm
from alignment.services.organizations import organization_update_settings
from feedback.impact import impact_weights_update
from roadmap.forms_escalations import EscalationSettingsForm
from roadmap.services_escalations import escalation_settings_update


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
        {
            "form": form,
            "impact_form": ImpactWeightsForm.for_org(org),
            "escalation_form": EscalationSettingsForm.for_org(org),
            "nav": "settings",
        },
        status=422 if form.errors else 200,
    )


@org_view(Perm.ORG_SETTINGS)
def org_impact_settings(request: HttpRequest) -> HttpResponse:
    """The Customer Impact Score weights; saving rescores every feedback and theme."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    if request.method != "POST":
        return redirect("alignment:org-settings", org_slug=org.slug)
    impact_form = ImpactWeightsForm.for_org(org, request.POST)
    if impact_form.is_valid():
        data = impact_form.cleaned_data
        try:
            impact_weights_update(
                org=org,
                actor=membership,
                per_account=data["impact_per_account_weight"],
                renewal_multiplier=data["impact_renewal_multiplier"],
                at_risk_multiplier=data["impact_at_risk_multiplier"],
                renewal_window_days=data["impact_renewal_window_days"],
            )
        except ApplicationError as error:
            error.apply_to_form(impact_form)
        else:
            messages.success(request, "Impact weights saved. Every score is being recalculated.")
            return redirect_after_post(request, "alignment:org-settings", org_slug=org.slug)
    if request.htmx:
        return render(
            request,
            "alignment/settings/partials/_impact_form.html",
            {"impact_form": impact_form},
            status=422,
        )
    return render(
        request,
        "alignment/settings/settings.html",
        {
            "form": OrganizationSettingsForm.for_org(org),
            "impact_form": impact_form,
            "escalation_form": EscalationSettingsForm.for_org(org),
            "nav": "settings",
        },
        status=422,
    )


@org_view(Perm.ORG_SETTINGS)
def org_escalation_settings(request: HttpRequest) -> HttpResponse:
    """The P1 ARR threshold and the response days per severity; open escalations follow."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    if request.method != "POST":
        return redirect("alignment:org-settings", org_slug=org.slug)
    escalation_form = EscalationSettingsForm.for_org(org, request.POST)
    if escalation_form.is_valid():
        data = escalation_form.cleaned_data
        try:
            escalation_settings_update(
                org=org,
                actor=membership,
                p1_arr_threshold=data["escalation_p1_arr_threshold"],
                p1_response_days=data["escalation_p1_response_days"],
                p2_response_days=data["escalation_p2_response_days"],
                p3_response_days=data["escalation_p3_response_days"],
            )
        except ApplicationError as error:
            error.apply_to_form(escalation_form)
        else:
            messages.success(
                request, "Escalation settings saved. Open escalations follow them from now."
            )
            return redirect_after_post(request, "alignment:org-settings", org_slug=org.slug)
    if request.htmx:
        return render(
            request,
            "alignment/settings/partials/_escalation_form.html",
            {"escalation_form": escalation_form},
            status=422,
        )
    return render(
        request,
        "alignment/settings/settings.html",
        {
            "form": OrganizationSettingsForm.for_org(org),
            "impact_form": ImpactWeightsForm.for_org(org),
            "escalation_form": escalation_form,
            "nav": "settings",
        },
        status=422,
    )


urlpatterns = [
    path("settings/", org_settings, name="org-settings"),
    path("settings/impact/", org_impact_settings, name="org-impact-settings"),
    path("settings/escalations/", org_escalation_settings, name="org-escalation-settings"),
]

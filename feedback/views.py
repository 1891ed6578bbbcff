"""Browser pages of the VoC pipeline."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from feedback import (
    selectors,
    services,
    views_backlog,
    views_capture,
    views_import,
    views_triage,
)
from feedback.models import Feedback

app_name = "feedback"


@org_view()
def my_feedback(request: HttpRequest) -> HttpResponse:
    """Every signal the member raised: its status, what they may say, whether the loop is closed."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    loop = request.GET.get("loop", "")
    rows = selectors.feedback_list_for_csm(org=org, csm=membership, loop=loop)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.wording = services.customer_wording(
            item.status, item.theme.not_planned_reason if item.theme else ""
        )
    return render(
        request,
        "feedback/my_feedback.html",
        {"page": page, "loop": loop, "nav": "my_feedback"},
    )


@require_POST
@org_view()
def feedback_customer_told(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    feedback = get_object_or_404(Feedback.objects.for_org(org).filter(logged_by=membership), pk=pk)
    told_on = None
    raw = request.POST.get("told_on", "")
    try:
        told_on = datetime.date.fromisoformat(raw) if raw else None
        services.feedback_mark_customer_told(
            org=org, actor=membership, feedback=feedback, told_on=told_on
        )
    except ValueError:
        messages.error(request, "That date could not be read; use the date picker.")
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Loop closed for {feedback.account.name}.")
    return redirect("feedback:my-feedback", org_slug=org.slug)


urlpatterns = [
    path("my-feedback/", my_feedback, name="my-feedback"),
    path("feedback/<int:pk>/customer-told/", feedback_customer_told, name="feedback-customer-told"),
    *views_triage.urlpatterns,
    *views_capture.urlpatterns,
    *views_import.urlpatterns,
    *views_backlog.urlpatterns,
]

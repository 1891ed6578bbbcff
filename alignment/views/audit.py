"""The audit log, browsable by admins."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from alignment.decorators import org_view
from alignment.models import AuditEvent
from alignment.permissions import Perm

PAGE_SIZE = 50


def _parse_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@org_view(Perm.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    events = AuditEvent.objects.for_org(org).select_related("actor").order_by("-created_at", "-id")
    q = request.GET
    filters = {
        "actor": q.get("actor", "").strip(),
        "target_type": q.get("target_type", "").strip(),
        "action": q.get("action", "").strip(),
        "since": q.get("since", ""),
        "until": q.get("until", ""),
    }
    if filters["actor"]:
        events = events.filter(actor_label__icontains=filters["actor"])
    if filters["target_type"]:
        events = events.filter(target_type=filters["target_type"])
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    since, until = _parse_date(filters["since"]), _parse_date(filters["until"])
    date_errors = []
    if filters["since"] and since is None:
        date_errors.append("“From” is not a date (use YYYY-MM-DD).")
    if filters["until"] and until is None:
        date_errors.append("“To” is not a date (use YYYY-MM-DD).")
    tz = org.tzinfo
    if since:
        events = events.filter(
            created_at__gte=datetime.datetime.combine(since, datetime.time.min, tz)
        )
    if until:
        events = events.filter(
            created_at__lt=datetime.datetime.combine(
                until + datetime.timedelta(days=1), datetime.time.min, tz
            )
        )
    page = Paginator(events, PAGE_SIZE).get_page(q.get("page"))
    target_types = (
        AuditEvent.objects.for_org(org)
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()
    )
    context = {
        "page": page,
        "filters": filters,
        "date_errors": date_errors,
        "target_types": list(target_types),
        "nav": "audit",
    }
    template = (
        "alignment/audit/partials/_results.html" if request.htmx else "alignment/audit/log.html"
    )
    return render(request, template, context)


urlpatterns = [path("audit/", audit_log, name="audit-log")]

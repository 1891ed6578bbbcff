"""The in-app notification centre."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from alignment.decorators import org_view
from alignment.models import Notification
from alignment.services.notifications import notification_mark_all_read, notification_mark_read


@org_view()
def notification_list(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    notifications = Notification.objects.for_org(org).filter(recipient=membership)
    show = request.GET.get("show", "all")
    if show == "unread":
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications.order_by("-created_at", "-id"), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "alignment/notifications/list.html",
        {"page": page, "show": show, "nav": "notifications"},
    )


@require_POST
@org_view()
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; then follow its link if it has one (the "open" action)."""
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    notification = get_object_or_404(
        Notification.objects.for_org(org).filter(recipient=membership), pk=pk
    )
    notification_mark_read(org=org, membership=membership, notification_id=notification.pk)
    if request.htmx:
        notification.refresh_from_db(fields=["read_at"])
        return render(
            request,
            "alignment/notifications/partials/_item_read.html",
            {"n": notification},
        )
    target = notification.url
    if (
        request.POST.get("open")
        and target
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    ):
        return redirect(target)
    return redirect("alignment:notification-list", org_slug=org.slug)


@require_POST
@org_view()
def notification_read_all(request: HttpRequest) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    count = notification_mark_all_read(org=org, membership=membership)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("alignment:notification-list", org_slug=org.slug)


urlpatterns = [
    path("notifications/", notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", notification_read, name="notification-read"),
    path("notifications/read-all/", notification_read_all, name="notification-read-all"),
]

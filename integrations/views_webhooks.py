"""Webhook settings pages: endpoints, their health and their delivery log (admins only)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from alignment.decorators import org_view
from alignment.errors import ApplicationError
from alignment.http import redirect_after_post
from alignment.permissions import Perm
from integrations import selectors_webhooks as selectors
from integrations import services_webhook_endpoints as services
from integrations.delivery import MAX_ATTEMPTS, RETRY_WINDOW
from integrations.forms_webhooks import DeliveryFilterForm, WebhookEndpointForm
from integrations.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint

NAV = "webhooks"
PAGE_SIZE = 25
# A row that is about to be sent refreshes itself every couple of seconds, a few times, so
# the log shows the outcome without a reload (and stops asking if no worker is running).
ROW_POLLS = 15


def _mark_in_flight(rows: list[WebhookDelivery], polls: int = 0) -> None:
    now = timezone.now()
    for d in rows:
        due = d.status == WebhookDeliveryStatus.PENDING and d.next_attempt_at <= now
        d.poll_next = (  # type: ignore[attr-defined]
            polls + 1
            if polls < ROW_POLLS and (due or d.status == WebhookDeliveryStatus.DELIVERING)
            else None
        )


@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    return render(
        request,
        "integrations/webhooks/list.html",
        {"endpoints": selectors.webhook_endpoint_list(org=org), "nav": NAV},
    )


def _form_page(request: HttpRequest, endpoint: WebhookEndpoint | None) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    initial = (
        {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
        if endpoint
        else None
    )
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if endpoint is None:
                endpoint = services.webhook_endpoint_create(
                    org=org,
                    actor=membership,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                )
                messages.success(
                    request,
                    "Endpoint added. Copy its signing secret below into your receiver, "
                    "then send a test event.",
                )
            else:
                services.webhook_endpoint_update(
                    org=org,
                    actor=membership,
                    endpoint=endpoint,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                )
                messages.success(request, "Endpoint saved.")
        except ApplicationError as error:
            error.apply_to_form(form)
        else:
            return redirect_after_post(
                request, "integrations:webhook-edit", org_slug=org.slug, pk=endpoint.pk
            )
    if endpoint is not None:
        endpoint = selectors.webhook_endpoint_get(org=org, pk=endpoint.pk)
    template = (
        "integrations/webhooks/partials/_form.html"
        if request.htmx  # type: ignore[attr-defined]
        else "integrations/webhooks/form.html"
    )
    return render(
        request,
        template,
        {"form": form, "endpoint": endpoint, "nav": NAV},
        status=422 if form.errors and request.htmx else 200,  # type: ignore[attr-defined]
    )


@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(org=request.org, pk=pk)  # type: ignore[attr-defined]
    return _form_page(request, endpoint)


def _endpoint_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    endpoint = selectors.webhook_endpoint_get(org=org, pk=pk)
    target = "integrations:webhook-edit"
    try:
        if action == "rotate":
            services.webhook_endpoint_rotate_secret(org=org, actor=membership, endpoint=endpoint)
            messages.success(
                request, "New signing secret generated. Update your receiver with it now."
            )
        elif action == "toggle":
            endpoint = services.webhook_endpoint_set_active(
                org=org, actor=membership, endpoint=endpoint, active=not endpoint.is_active
            )
            messages.success(
                request,
                "Endpoint enabled."
                if endpoint.is_active
                else "Endpoint disabled: no events will be sent to it.",
            )
        elif action == "test":
            services.webhook_endpoint_send_test(org=org, actor=membership, endpoint=endpoint)
            messages.success(request, "Test event queued; its delivery is at the top of the log.")
            target = "integrations:webhook-deliveries"
        elif action == "delete":
            services.webhook_endpoint_delete(org=org, actor=membership, endpoint=endpoint)
            messages.success(request, f"Endpoint {endpoint.url} deleted.")
            return redirect_after_post(request, "integrations:webhook-list", org_slug=org.slug)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect_after_post(request, target, org_slug=org.slug, pk=pk)


@require_POST
@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(request, pk, "rotate")


@require_POST
@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(request, pk, "toggle")


@require_POST
@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(request, pk, "test")


@require_POST
@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(request, pk, "delete")


@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    endpoint = selectors.webhook_endpoint_get(org=org, pk=pk)
    filters = DeliveryFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    rows = selectors.webhook_delivery_list_for_endpoint(org=org, endpoint=endpoint, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _mark_in_flight(page.object_list)
    return render(
        request,
        "integrations/webhooks/deliveries.html",
        {
            "endpoint": endpoint,
            "page": page,
            "filters": filters,
            "status": status,
            "max_attempts": MAX_ATTEMPTS,
            "retry_hours": int(RETRY_WINDOW.total_seconds() // 3600),
            "nav": NAV,
        },
    )


@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    delivery = selectors.webhook_delivery_get(org=org, pk=pk)
    return render(
        request,
        "integrations/webhooks/delivery.html",
        {
            "delivery": delivery,
            "payload_json": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
            "endpoint": delivery.endpoint,
            "attempts": selectors.webhook_attempt_list(org=org, delivery=delivery),
            "nav": NAV,
        },
    )


@require_POST
@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    org, membership = request.org, request.membership  # type: ignore[attr-defined]
    delivery = selectors.webhook_delivery_get(org=org, pk=pk)
    error = ""
    try:
        services.webhook_delivery_redeliver(org=org, actor=membership, delivery=delivery)
    except ApplicationError as exc:
        error = exc.message
    if request.htmx:  # type: ignore[attr-defined]
        # The row as it is now ("Pending": the worker sends it after this commits); it then
        # refreshes itself until the attempt is over.
        row = selectors.webhook_delivery_get(org=org, pk=pk)
        _mark_in_flight([row])
        return render(
            request,
            "integrations/webhooks/partials/_delivery_row.html",
            {
                "d": row,
                "endpoint": delivery.endpoint,
                "row_message": error or "Redelivery queued.",
                "row_error": bool(error),
            },
            status=422 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Redelivery queued.")
    return redirect_after_post(
        request, "integrations:webhook-deliveries", org_slug=org.slug, pk=delivery.endpoint_id
    )


@org_view(Perm.WEBHOOKS_MANAGE)
def webhook_delivery_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row of the delivery log, for a row that refreshes itself while it is sent."""
    org = request.org  # type: ignore[attr-defined]
    row = selectors.webhook_delivery_get(org=org, pk=pk)
    try:
        polls = max(0, int(request.GET.get("poll", "0")))
    except ValueError:
        polls = ROW_POLLS
    _mark_in_flight([row], polls)
    return render(
        request,
        "integrations/webhooks/partials/_delivery_row.html",
        {"d": row, "endpoint": row.endpoint},
    )


urlpatterns = [
    path("settings/webhooks/", webhook_list, name="webhook-list"),
    path("settings/webhooks/new/", webhook_create, name="webhook-create"),
    path("settings/webhooks/<int:pk>/", webhook_edit, name="webhook-edit"),
    path("settings/webhooks/<int:pk>/rotate/", webhook_rotate, name="webhook-rotate"),
    path("settings/webhooks/<int:pk>/toggle/", webhook_toggle, name="webhook-toggle"),
    path("settings/webhooks/<int:pk>/test/", webhook_test, name="webhook-test"),
    path("settings/webhooks/<int:pk>/delete/", webhook_delete, name="webhook-delete"),
    path("settings/webhooks/<int:pk>/deliveries/", webhook_deliveries, name="webhook-deliveries"),
    path("settings/webhooks/deliveries/<int:pk>/", webhook_delivery, name="webhook-delivery"),
    path(
        "settings/webhooks/deliveries/<int:pk>/row/",
        webhook_delivery_row,
        name="webhook-delivery-row",
    ),
    path(
        "settings/webhooks/deliveries/<int:pk>/redeliver/",
        webhook_redeliver,
        name="webhook-redeliver",
    ),
]

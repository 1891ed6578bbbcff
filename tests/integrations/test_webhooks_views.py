"""The webhook settings pages: admins only, htmx partials, a failing endpoint in plain sight,
redeliver from the log, and a delivery log whose query count does not grow with its rows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from alignment.models import Role
from alignment.tenancy import tenant_context
from integrations import services_webhook_endpoints as services
from integrations import ssrf
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.services_webhooks import webhook_event_emit

HTMX = {"HX-Request": "true"}


def refreshed(org, obj):
    """Reload a row inside its organization (row-level security hides it outside)."""
    with tenant_context(org):
        obj.refresh_from_db()
    return obj


@pytest.fixture(autouse=True)
def public_dns(monkeypatch, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def endpoint(org_a, admin_a) -> WebhookEndpoint:
    with tenant_context(org_a):
        return services.webhook_endpoint_create(
            org=org_a,
            actor=admin_a,
            url="https://hooks.example.com/seam",
            events=[WebhookEvent.THEME_STATUS_CHANGED],
            description="CRM sync",
        )


def url(name, org, **kwargs) -> str:
    return reverse(f"integrations:{name}", kwargs={"org_slug": org.slug, **kwargs})


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.ADMIN, 200), (Role.CS_OPS, 403), (Role.CSM, 403)]
)
def test_only_admins_manage_webhooks(org_a, make_member, client_for, endpoint, role, expected):
    client = client_for(make_member(org_a, role))

    assert client.get(url("webhook-list", org_a)).status_code == expected
    assert client.get(url("webhook-edit", org_a, pk=endpoint.pk)).status_code == expected
    assert client.get(url("webhook-deliveries", org_a, pk=endpoint.pk)).status_code == expected


def test_the_sidebar_links_webhooks_for_admins_only(org_a, admin_a, csm_a, client_for):
    link = url("webhook-list", org_a)

    assert link in client_for(admin_a).get(url("webhook-list", org_a)).content.decode()
    home = reverse("alignment:home", kwargs={"org_slug": org_a.slug})
    assert link not in client_for(csm_a).get(home).content.decode()


def test_an_admin_adds_an_endpoint_and_sees_its_secret(org_a, admin_a, client_for):
    client = client_for(admin_a)

    response = client.post(
        url("webhook-create", org_a),
        {
            "url": "https://hooks.example.com/seam",
            "description": "CRM sync",
            "events": ["theme.status_changed", "release.shipped"],
        },
        follow=True,
    )

    with tenant_context(org_a):
        endpoint = WebhookEndpoint.objects.for_org(org_a).get()
    assert endpoint.events == ["theme.status_changed", "release.shipped"]
    page = response.content.decode()
    assert endpoint.secret in page
    assert "Copy its signing secret" in page


def test_an_internal_url_is_refused_inline_with_what_was_typed_kept(
    org_a, admin_a, client_for, monkeypatch
):
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: ["169.254.169.254"])

    response = client_for(admin_a).post(
        url("webhook-create", org_a),
        {"url": "https://metadata.example.com/", "events": ["theme.status_changed"]},
        headers=HTMX,
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "link-local" in page
    assert 'value="https://metadata.example.com/"' in page
    with tenant_context(org_a):
        assert not WebhookEndpoint.objects.for_org(org_a).exists()


def test_choosing_no_event_is_refused_inline(org_a, admin_a, client_for):
    response = client_for(admin_a).post(
        url("webhook-create", org_a), {"url": "https://hooks.example.com/x"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Choose at least one event" in response.content.decode()


def test_a_saved_edit_redirects_htmx_to_the_endpoint_page(org_a, admin_a, client_for, endpoint):
    response = client_for(admin_a).post(
        url("webhook-edit", org_a, pk=endpoint.pk),
        {"url": "https://hooks.example.com/v2", "events": ["release.shipped"]},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == url("webhook-edit", org_a, pk=endpoint.pk)
    refreshed(org_a, endpoint)
    assert (endpoint.url, endpoint.events) == ("https://hooks.example.com/v2", ["release.shipped"])


def test_rotate_disable_and_delete_from_the_endpoint_page(org_a, admin_a, client_for, endpoint):
    client = client_for(admin_a)
    old_secret = endpoint.secret

    client.post(url("webhook-rotate", org_a, pk=endpoint.pk))
    refreshed(org_a, endpoint)
    assert endpoint.secret != old_secret

    page = client.post(url("webhook-toggle", org_a, pk=endpoint.pk), follow=True)
    refreshed(org_a, endpoint)
    assert not endpoint.is_active
    assert "no events will be sent" in page.content.decode()

    client.post(url("webhook-delete", org_a, pk=endpoint.pk))
    with tenant_context(org_a):
        assert not WebhookEndpoint.objects.for_org(org_a).exists()


def test_a_test_event_lands_in_the_delivery_log(org_a, admin_a, client_for, endpoint, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "integrations.tasks.deliver_webhook_task.delay", lambda **kw: sent.append(kw)
    )
    client = client_for(admin_a)

    response = client.post(url("webhook-test", org_a, pk=endpoint.pk), follow=True)

    assert response.redirect_chain[-1][0] == url("webhook-deliveries", org_a, pk=endpoint.pk)
    assert "Test event" in response.content.decode()
    with tenant_context(org_a):
        delivery = WebhookDelivery.objects.for_org(org_a).get()
    assert delivery.event_type == "ping"


def test_a_failing_endpoint_is_flagged_on_the_list(org_a, admin_a, client_for, endpoint):
    with tenant_context(org_a):
        WebhookEndpoint.objects.for_org(org_a).update(
            consecutive_failures=7, last_failure_at=timezone.now()
        )

    page = client_for(admin_a).get(url("webhook-list", org_a)).content.decode()

    assert "Failing · 7 in a row" in page
    assert 'class="failing"' in page


def test_redeliver_from_the_log_swaps_the_row(
    org_a, admin_a, client_for, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "integrations.tasks.deliver_webhook_task.delay", lambda **kw: sent.append(kw)
    )
    with tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
        WebhookDelivery.objects.for_org(org_a).update(status="failed", attempts=31)
        delivery = WebhookDelivery.objects.for_org(org_a).get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_a).post(
            url("webhook-redeliver", org_a, pk=delivery.pk), headers=HTMX
        )

    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith(f'<tr id="delivery-{delivery.pk}"')
    assert "Redelivery queued." in page
    assert sent == [{"delivery_id": delivery.pk, "org_id": org_a.pk}]
    refreshed(org_a, delivery)
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_redeliver_while_it_is_being_sent_says_so(org_a, admin_a, client_for, endpoint):
    with tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
        WebhookDelivery.objects.for_org(org_a).update(
            status="delivering", claimed_at=timezone.now()
        )
        delivery = WebhookDelivery.objects.for_org(org_a).get()

    response = client_for(admin_a).post(
        url("webhook-redeliver", org_a, pk=delivery.pk), headers=HTMX
    )

    assert response.status_code == 422
    assert "being sent right now" in response.content.decode()


def test_the_delivery_log_and_detail_show_status_errors_and_payload(
    org_a, admin_a, client_for, endpoint
):
    with tenant_context(org_a):
        webhook_event_emit(
            org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={"theme": {"id": 42}}
        )
        WebhookDelivery.objects.for_org(org_a).update(
            attempts=2, last_status_code=503, last_error="HTTP 503"
        )
        delivery = WebhookDelivery.objects.for_org(org_a).get()
    client = client_for(admin_a)

    log = client.get(url("webhook-deliveries", org_a, pk=endpoint.pk)).content.decode()
    detail = client.get(url("webhook-delivery", org_a, pk=delivery.pk)).content.decode()
    filtered = client.get(
        url("webhook-deliveries", org_a, pk=endpoint.pk), {"status": "succeeded"}
    ).content.decode()

    assert "Retrying" in log and "HTTP 503" in log and "Redeliver" in log
    assert "&quot;id&quot;: 42" in detail
    assert "No deliveries with this status" in filtered


def test_the_delivery_log_query_count_does_not_grow_with_rows(
    org_a, admin_a, client_for, endpoint, django_assert_max_num_queries
):
    client = client_for(admin_a)
    page_url = url("webhook-deliveries", org_a, pk=endpoint.pk)
    with tenant_context(org_a):
        for _ in range(30):
            webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
    client.get(page_url)  # warm the session

    with django_assert_max_num_queries(14):
        response = client.get(page_url)

    assert response.content.decode().count('id="delivery-') == 25


def test_the_endpoint_list_query_count_does_not_grow_with_endpoints(
    org_a, admin_a, client_for, django_assert_max_num_queries
):
    with tenant_context(org_a):
        for i in range(8):
            services.webhook_endpoint_create(
                org=org_a,
                actor=admin_a,
                url=f"https://hooks.example.com/{i}",
                events=[WebhookEvent.THEME_STATUS_CHANGED],
            )
    client = client_for(admin_a)
    client.get(url("webhook-list", org_a))

    with django_assert_max_num_queries(12):
        response = client.get(url("webhook-list", org_a))

    assert response.content.decode().count("Delivery log") == 8


def test_a_row_being_sent_refreshes_itself_a_bounded_number_of_times(
    org_a, admin_a, client_for, endpoint
):
    with tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.THEME_STATUS_CHANGED, data={})
        delivery = WebhookDelivery.objects.for_org(org_a).get()
    client = client_for(admin_a)
    row_url = url("webhook-delivery-row", org_a, pk=delivery.pk)

    due = client.get(row_url, {"poll": "3"}, headers=HTMX).content.decode()
    exhausted = client.get(row_url, {"poll": "15"}, headers=HTMX).content.decode()
    with tenant_context(org_a):
        WebhookDelivery.objects.for_org(org_a).update(status="succeeded")
    done = client.get(row_url, headers=HTMX).content.decode()

    assert f'{row_url}?poll=4"' in due and 'hx-trigger="load delay:2s"' in due
    assert "hx-get" not in exhausted
    assert "hx-get" not in done and "Delivered" in done

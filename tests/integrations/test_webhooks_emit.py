"""Queuing webhook events: only subscribed, active endpoints of the organization get a
delivery, and the deliveries commit or roll back with the change that caused them."""

from __future__ import annotations

import pytest
from django.db import transaction

from alignment.errors import ApplicationError
from alignment.models import AuditEvent
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from feedback.models import Theme
from integrations import services_webhook_endpoints as services
from integrations import ssrf
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.services_webhooks import webhook_event_emit
from tests.factories import AccountFactory


@pytest.fixture(autouse=True)
def public_dns(monkeypatch, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: ["93.184.215.14"])


def make_endpoint(org, actor, url, events, active=True) -> WebhookEndpoint:
    with tenant_context(org):
        endpoint = services.webhook_endpoint_create(org=org, actor=actor, url=url, events=events)
        if not active:
            services.webhook_endpoint_set_active(
                org=org, actor=actor, endpoint=endpoint, active=False
            )
    return endpoint


def deliveries(org) -> list[tuple[str, str]]:
    with tenant_context(org):
        return sorted(
            WebhookDelivery.objects.for_org(org).values_list("endpoint__url", "event_type")
        )


def test_only_active_subscribed_endpoints_of_the_organization_get_the_event(
    org_a, org_b, admin_a, admin_b
):
    theme = WebhookEvent.THEME_STATUS_CHANGED.value
    make_endpoint(org_a, admin_a, "https://a.example.com/1", [theme])
    make_endpoint(org_a, admin_a, "https://a.example.com/2", [WebhookEvent.RELEASE_SHIPPED])
    make_endpoint(org_a, admin_a, "https://a.example.com/3", [theme], active=False)
    make_endpoint(org_b, admin_b, "https://b.example.com/1", [theme])

    with tenant_context(org_a):
        queued = webhook_event_emit(org=org_a, event=theme, data={"theme": {"id": 1}})

    assert queued == 1
    assert deliveries(org_a) == [("https://a.example.com/1", theme)]
    assert deliveries(org_b) == []


def test_an_event_is_not_queued_when_the_change_rolls_back(org_a, admin_a):
    make_endpoint(org_a, admin_a, "https://a.example.com/1", WebhookEvent.values)

    with pytest.raises(RuntimeError), transaction.atomic(), tenant_context(org_a):
        webhook_event_emit(org=org_a, event=WebhookEvent.RELEASE_SHIPPED, data={})
        raise RuntimeError("the change failed after the event was queued")

    assert deliveries(org_a) == []


def test_a_failed_status_change_queues_no_event(org_a, admin_a):
    make_endpoint(org_a, admin_a, "https://a.example.com/1", WebhookEvent.values)
    with tenant_context(org_a):
        theme = feedback_services.theme_create(
            org=org_a, actor=admin_a, data=feedback_services.NewTheme(title="SSO")
        )

    with pytest.raises(ApplicationError), tenant_context(org_a):
        feedback_services.theme_set_status(
            org=org_a, actor=admin_a, theme=theme, status="not_planned", reason=""
        )

    assert deliveries(org_a) == []


def test_attach_detach_and_status_changes_emit_the_documented_events(org_a, admin_a):
    make_endpoint(org_a, admin_a, "https://a.example.com/1", WebhookEvent.values)
    with tenant_context(org_a):
        account = AccountFactory(organization=org_a)
        feedback = feedback_services.feedback_log(
            org=org_a, actor=admin_a, account=account, verbatim="Needs SCIM."
        )
        theme = feedback_services.theme_create(
            org=org_a, actor=admin_a, data=feedback_services.NewTheme(title="SCIM")
        )
        feedback_services.feedback_attach(org=org_a, actor=admin_a, feedback=feedback, theme=theme)
        feedback_services.theme_set_status(
            org=org_a, actor=admin_a, theme=theme, status="not_planned", reason="Later"
        )
        # Same status again: nothing changed, nothing sent.
        feedback_services.theme_set_status(
            org=org_a, actor=admin_a, theme=theme, status="not_planned", reason="Later"
        )
        feedback_services.feedback_detach(org=org_a, actor=admin_a, feedback=feedback)
        sent = list(
            WebhookDelivery.objects.for_org(org_a)
            .order_by("pk")
            .values_list("event_type", "payload")
        )

    assert [kind for kind, _ in sent] == [
        "feedback.status_changed",
        "theme.status_changed",
        "feedback.status_changed",
    ]
    assert sent[0][1]["data"]["feedback"]["previous_status"] == "new"
    assert sent[1][1]["data"]["theme"]["status"] == "not_planned"
    assert sent[2][1]["data"]["feedback"] == {
        **sent[2][1]["data"]["feedback"],
        "status": "new",
        "previous_status": "not_planned",
        "theme": None,
    }


def test_a_merge_sends_one_theme_event_for_the_archived_source(org_a, admin_a):
    make_endpoint(org_a, admin_a, "https://a.example.com/1", [WebhookEvent.THEME_STATUS_CHANGED])
    with tenant_context(org_a):
        source, target = (
            feedback_services.theme_create(
                org=org_a, actor=admin_a, data=feedback_services.NewTheme(title=title)
            )
            for title in ("SSO via Okta", "Single sign-on")
        )
        feedback_services.theme_merge(org=org_a, actor=admin_a, source=source, target=target)
        (payload,) = WebhookDelivery.objects.for_org(org_a).values_list("payload", flat=True)
        merged_into = Theme.objects.for_org(org_a).get(pk=source.pk).merged_into_id

    theme = payload["data"]["theme"]
    assert (theme["id"], theme["status"], theme["merged_into_id"]) == (
        source.pk,
        "archived",
        target.pk,
    )
    assert merged_into == target.pk


def test_endpoint_changes_are_audited_without_the_secret(org_a, admin_a):
    endpoint = make_endpoint(org_a, admin_a, "https://a.example.com/1", WebhookEvent.values)
    with tenant_context(org_a):
        old_secret = endpoint.secret
        endpoint = services.webhook_endpoint_rotate_secret(
            org=org_a, actor=admin_a, endpoint=endpoint
        )
        services.webhook_endpoint_update(
            org=org_a,
            actor=admin_a,
            endpoint=endpoint,
            url="https://a.example.com/2",
            events=[WebhookEvent.RELEASE_SHIPPED],
        )
        services.webhook_endpoint_delete(org=org_a, actor=admin_a, endpoint=endpoint)
        audit = list(
            AuditEvent.objects.for_org(org_a)
            .filter(action__startswith="webhook.")
            .order_by("pk")
            .values_list("action", "changes")
        )

    assert endpoint.secret != old_secret
    assert endpoint.secret.startswith("whsec_")
    assert [action for action, _ in audit] == [
        "webhook.create",
        "webhook.rotate_secret",
        "webhook.update",
        "webhook.delete",
    ]
    assert all(old_secret not in str(c) and endpoint.secret not in str(c) for _, c in audit)


@pytest.mark.parametrize(
    ("url", "events", "field", "message"),
    [
        ("", ["theme.status_changed"], "url", "Enter the URL"),
        ("http://a.example.com/x", ["theme.status_changed"], "url", "https"),
        ("https://a.example.com/x", [], "events", "at least one event"),
        ("https://a.example.com/x", ["theme.deleted"], "events", "Unknown event"),
    ],
)
def test_bad_endpoint_input_gets_a_clear_message_on_its_field(
    org_a, admin_a, url, events, field, message
):
    with pytest.raises(ApplicationError) as caught, tenant_context(org_a):
        services.webhook_endpoint_create(org=org_a, actor=admin_a, url=url, events=events)

    assert message in caught.value.field_errors[field][0]


def test_a_private_address_is_refused_when_the_endpoint_is_saved(org_a, admin_a, monkeypatch):
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: ["10.0.0.7"])

    with pytest.raises(ApplicationError) as caught, tenant_context(org_a):
        services.webhook_endpoint_create(
            org=org_a, actor=admin_a, url="https://intranet.example.com/x", events=["ping"]
        )

    assert "private" in caught.value.field_errors["url"][0]
    with tenant_context(org_a):
        assert not WebhookEndpoint.objects.for_org(org_a).exists()

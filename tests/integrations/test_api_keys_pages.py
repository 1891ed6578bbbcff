"""Admins create and revoke API keys in the browser; the key is shown once."""

from __future__ import annotations

from django.urls import reverse

from alignment.models import AuditEvent
from alignment.tenancy import tenant_context
from integrations.models import ApiKey
from integrations.services_api_keys import hash_secret
from tests.integrations.test_api_support import ApiClient


def _create(client, org, **data):  # type: ignore[no-untyped-def]
    payload = {
        "name": "Salesforce sync",
        "scopes": ["accounts:write"],
        "rate_limit_per_minute": 600,
    }
    payload.update(data)
    return client.post(reverse("integrations:api-key-create", args=[org.slug]), payload)


def test_an_admin_creates_a_key_and_sees_it_exactly_once(client_for, org_a, admin_a):
    client = client_for(admin_a)

    response = _create(client, org_a)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.context["token"]
    assert token.startswith("seam_") and token in response.content.decode()
    with tenant_context(org_a):
        key = ApiKey.objects.get()
        assert AuditEvent.objects.filter(action="api_key.created", target_id=str(key.pk)).exists()
    assert key.key_hash == hash_secret(token.split("_", 2)[2])
    assert token not in key.key_hash
    page = client.get(reverse("integrations:api-key-list", args=[org_a.slug])).content.decode()
    assert f"seam_{key.prefix}_" in page
    assert token not in page
    assert ApiClient(token).get("/api/v1/accounts/").status_code == 200


def test_a_key_needs_a_name_and_a_scope(client_for, org_a, admin_a):
    response = _create(client_for(admin_a), org_a, name="", scopes=[])

    assert response.status_code == 200
    assert "Name the key" in response.content.decode()
    assert "at least one" in response.content.decode()
    with tenant_context(org_a):
        assert not ApiKey.objects.exists()


def test_revoking_a_key_by_htmx_updates_its_row_and_the_key_stops_working(
    client_for, org_a, admin_a
):
    client = client_for(admin_a)
    token = _create(client, org_a).context["token"]
    with tenant_context(org_a):
        key = ApiKey.objects.get()

    response = client.post(
        reverse("integrations:api-key-revoke", args=[org_a.slug, key.pk]),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    assert ApiClient(token).get("/api/v1/accounts/").status_code == 401
    with tenant_context(org_a):
        assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_only_admins_manage_keys(client_for, org_a, csm_a, cs_ops_a):
    for member in (csm_a, cs_ops_a):
        client = client_for(member)
        assert (
            client.get(reverse("integrations:api-key-list", args=[org_a.slug])).status_code == 403
        )
        assert _create(client, org_a).status_code == 403


def test_the_sidebar_links_keys_and_docs_for_admins_only(client_for, org_a, admin_a, csm_a):
    home = reverse("alignment:account-list", args=[org_a.slug])
    admin_page = client_for(admin_a).get(home).content.decode()
    csm_page = client_for(csm_a).get(home).content.decode()
    assert "API keys" in admin_page and "/api/v1/docs/" in admin_page
    assert "API keys" not in csm_page


def test_the_key_list_runs_a_constant_number_of_queries(
    client_for, org_a, admin_a, django_assert_max_num_queries
):
    client = client_for(admin_a)
    for i in range(5):
        _create(client, org_a, name=f"Key {i}")
    with django_assert_max_num_queries(25):
        response = client.get(reverse("integrations:api-key-list", args=[org_a.slug]))
    assert response.content.decode().count("<tr id=") == 5


def test_the_api_docs_are_served_without_a_cdn_or_inline_script(client):
    page = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower() and "<script>" not in page and "<style" not in page
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")

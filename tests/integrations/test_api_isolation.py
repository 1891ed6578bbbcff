# ruff: noqa: F811 - pytest fixtures imported from test_api_support are redefined as arguments
"""The API's organization boundary: a key sees and changes only its own organization."""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from alignment.models import Account
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from integrations.api.base import ApiViewSet
from integrations.services_api_keys import api_key_revoke
from tests.factories import AccountFactory
from tests.integrations.test_api_support import (  # noqa: F401
    ApiClient,
    api_a,
    assert_problem,
    key_a,
    make_key,
)


@pytest.fixture
def b_objects(org_b, admin_b, csm_b):
    account = AccountFactory(organization=org_b, csm=csm_b, name="Borealis customer")
    with tenant_context(org_b):
        feedback = feedback_services.feedback_log(
            org=org_b, actor=csm_b, account=account, verbatim="Borealis wants SSO"
        )
        theme = feedback_services.theme_create(
            org=org_b, actor=admin_b, data=feedback_services.NewTheme(title="SSO")
        )
        feedback_services.feedback_attach(org=org_b, actor=admin_b, feedback=feedback, theme=theme)
    return {"account": account, "feedback": feedback, "theme": theme}


@pytest.mark.parametrize(
    ("path", "name"),
    [("accounts", "account"), ("feedback", "feedback"), ("themes", "theme")],
)
def test_a_key_asking_for_another_organizations_object_gets_404(api_a, b_objects, path, name):
    response = api_a.get(f"/api/v1/{path}/{b_objects[name].pk}/")

    assert_problem(response, 404)


@pytest.mark.parametrize(
    "path",
    ["accounts", "feedback", "themes", "roadmap-items", "commitments", "releases"],
)
def test_list_endpoints_never_show_another_organizations_rows(api_a, org_a, csm_a, b_objects, path):
    AccountFactory(organization=org_a, csm=csm_a, name="Acme customer")

    response = api_a.get(f"/api/v1/{path}/", {"page_size": 200})

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert not ids & {obj.pk for obj in b_objects.values() if obj._meta.model_name in path}
    assert "Borealis" not in response.content.decode()


def test_patching_another_organizations_account_is_404_and_leaves_it_unchanged(
    api_a, org_b, b_objects
):
    account = b_objects["account"]

    response = api_a.patch(f"/api/v1/accounts/{account.pk}/", {"name": "Hijacked"})

    assert_problem(response, 404)
    with tenant_context(org_b):
        assert Account.objects.get(pk=account.pk).name == "Borealis customer"


def test_a_feedback_naming_another_organizations_account_is_refused(api_a, org_b, b_objects):
    response = api_a.post(
        "/api/v1/feedback/", {"account": b_objects["account"].pk, "verbatim": "Sneaky"}
    )

    body = assert_problem(response, 400)
    assert "account" in body["errors"]


def test_bulk_upsert_with_another_organizations_crm_id_creates_a_separate_account(
    api_a, org_a, org_b, b_objects
):
    external_id = b_objects["account"].external_id

    response = api_a.post(
        "/api/v1/accounts/bulk-upsert/",
        {"accounts": [{"external_id": external_id, "name": "Acme's own"}]},
    )

    assert response.json()["results"][0]["status"] == "created"
    with tenant_context(org_b):
        assert Account.objects.get(external_id=external_id).name == "Borealis customer"


def test_a_revoked_key_is_refused(org_a, admin_a, key_a, api_a):
    with tenant_context(org_a):
        api_key_revoke(org=org_a, actor=admin_a, key=key_a.key)

    response = api_a.get("/api/v1/accounts/")

    body = assert_problem(response, 401)
    assert "revoked" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [None, "nonsense", "seam_abcdefgh_wrongsecret", "seam_short_x"],
)
def test_no_key_or_a_wrong_key_is_401(token, key_a):
    response = ApiClient(token).get("/api/v1/accounts/")

    assert_problem(response, 401)


def test_a_right_prefix_with_a_wrong_secret_is_401(key_a):
    prefix = key_a.key.prefix

    response = ApiClient(f"seam_{prefix}_not-the-secret").get("/api/v1/accounts/")

    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("scopes", "method", "path", "allowed"),
    [
        (["accounts:read"], "get", "/api/v1/accounts/", True),
        (["feedback:read"], "get", "/api/v1/accounts/", False),
        (["accounts:read"], "post", "/api/v1/accounts/bulk-upsert/", False),
        (["accounts:write"], "post", "/api/v1/accounts/bulk-upsert/", True),
        (["accounts:write"], "get", "/api/v1/accounts/", True),
        (["feedback:read"], "post", "/api/v1/feedback/", False),
        (["themes:read"], "get", "/api/v1/roadmap-items/", False),
        (["roadmap:read"], "get", "/api/v1/roadmap-items/", True),
    ],
)
def test_a_key_does_only_what_its_scopes_allow(org_a, admin_a, scopes, method, path, allowed):
    client = ApiClient(make_key(org_a, admin_a, scopes).token)
    body = {"accounts": [{"external_id": "X-1", "name": "X"}]}

    response = client.get(path) if method == "get" else client.post(path, body)

    if allowed:
        assert response.status_code in (200, 201)
    else:
        problem = assert_problem(response, 403)
        assert "scope" in problem["detail"]


def test_every_api_endpoint_inherits_the_base_viewset():
    resolver = get_resolver()
    (api,) = [p for p in resolver.url_patterns if str(p.pattern) == "api/v1/"]
    views = []

    def walk(patterns):  # type: ignore[no-untyped-def]
        for entry in patterns:
            if hasattr(entry, "url_patterns"):
                walk(entry.url_patterns)
            else:
                views.append((entry.name, entry.callback))

    walk(api.url_patterns)
    public = {"schema", "docs", "not-found"}
    checked = [name for name, view in views if name not in public]
    assert len(checked) >= 13
    for name, view in views:
        if name in public:
            continue
        assert issubclass(view.cls, ApiViewSet), f"{name} bypasses ApiViewSet"


@pytest.mark.parametrize("name", ["get_queryset", "permission_classes", "dispatch", "initial"])
def test_an_endpoint_cannot_override_the_base_machinery(name):
    with pytest.raises(TypeError, match="may not replace"):
        type("Sneaky", (ApiViewSet,), {name: lambda self: None})

# ruff: noqa: F811 - pytest fixtures imported from test_api_support are redefined as arguments
"""Conventions every endpoint shares: problem+json errors, cursor pagination, rate limits,
the body size limit, ETag / If-Match, and Idempotency-Key on POST."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import override_settings

from alignment.models import Account, AuditEvent
from alignment.tenancy import cross_tenant_system_context, tenant_context
from feedback.models import Feedback, Source
from integrations.models import IdempotencyRecord
from tests.factories import AccountFactory
from tests.integrations.test_api_support import (  # noqa: F401
    ApiClient,
    api_a,
    assert_problem,
    key_a,
    make_key,
)

# --- problem+json -------------------------------------------------------------------------


def test_an_unknown_address_is_a_problem_404(api_a):
    body = assert_problem(api_a.get("/api/v1/nothing-here/"), 404)
    assert body["instance"] == "/api/v1/nothing-here/"


def test_a_missing_trailing_slash_gets_a_hint(api_a):
    body = assert_problem(api_a.get("/api/v1/accounts"), 404)
    assert "/api/v1/accounts/" in body["detail"]


def test_an_unsupported_method_is_a_problem_405(api_a, org_a, csm_a):
    account = AccountFactory(organization=org_a, csm=csm_a)
    assert_problem(
        api_a.client.delete(
            f"/api/v1/accounts/{account.pk}/", headers={"Authorization": f"Bearer {api_a.token}"}
        ),
        405,
    )


def test_malformed_json_is_a_problem_400(api_a):
    body = assert_problem(api_a.post("/api/v1/feedback/", raw=b"{not json"), 400)
    assert body["type"] == "urn:seam:problem:malformed-json"


def test_a_body_that_is_not_json_is_a_problem_415(api_a):
    response = api_a.client.post(
        "/api/v1/feedback/",
        "verbatim=hi",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {api_a.token}"},
    )
    assert_problem(response, 415)


def test_field_errors_name_each_field(api_a):
    body = assert_problem(api_a.post("/api/v1/feedback/", {"verbatim": "  "}), 400)
    assert set(body["errors"]) >= {"verbatim", "account"}
    assert body["errors"]["verbatim"] == ["Write down what the customer said, in their words."]


@override_settings(SEAM_API_MAX_BODY_BYTES=1000)
def test_a_body_over_the_limit_is_a_problem_413(api_a):
    body = assert_problem(api_a.post("/api/v1/feedback/", {"verbatim": "x" * 2000}), 413)
    assert "1,000" in body["detail"]


def test_the_bulk_endpoint_accepts_a_larger_body_up_to_its_own_limit(api_a):
    big = {"accounts": [{"external_id": f"E-{i}", "name": "n" * 190} for i in range(400)]}
    assert len(json.dumps(big)) > 256 * 1024 // 4
    assert api_a.post("/api/v1/accounts/bulk-upsert/", big).status_code == 200


# --- pagination -----------------------------------------------------------------------------


def test_cursor_pagination_walks_every_row_once(api_a, org_a):
    for _ in range(7):
        AccountFactory(organization=org_a)
    seen: list[int] = []
    url, params = "/api/v1/accounts/", {"page_size": 3}
    while url:
        body = api_a.get(url, params).json()
        seen += [row["id"] for row in body["results"]]
        url, params = body["next"], None
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen)


def test_page_size_is_capped_at_200(api_a, org_a):
    with tenant_context(org_a):
        Account.objects.for_org(org_a).bulk_create(
            [Account(organization=org_a, name=f"A{i}", external_id=f"P-{i}") for i in range(205)]
        )
    body = api_a.get("/api/v1/accounts/", {"page_size": 1000}).json()
    assert len(body["results"]) == 200
    assert body["next"]


def test_a_tampered_cursor_is_a_problem_404(api_a):
    assert_problem(api_a.get("/api/v1/accounts/", {"cursor": "garbage"}), 404)


# --- rate limits ----------------------------------------------------------------------------


def test_every_response_carries_the_rate_limit_headers(api_a):
    response = api_a.get("/api/v1/accounts/")
    assert response["RateLimit-Limit"] == "600"
    assert response["RateLimit-Remaining"] == "599"
    assert 1 <= int(response["RateLimit-Reset"]) <= 60


def test_over_the_limit_a_key_gets_429_with_retry_after(org_a, admin_a):
    client = ApiClient(make_key(org_a, admin_a, ["accounts:read"], rate_limit_per_minute=10).token)
    statuses = [client.get("/api/v1/accounts/").status_code for _ in range(10)]
    response = client.get("/api/v1/accounts/")

    assert statuses == [200] * 10
    body = assert_problem(response, 429)
    assert response["RateLimit-Remaining"] == "0"
    assert int(response["Retry-After"]) >= 1
    assert body["retry_after"] == int(response["Retry-After"])


def test_one_keys_limit_does_not_slow_another_key(org_a, admin_a):
    busy = ApiClient(make_key(org_a, admin_a, ["accounts:read"], rate_limit_per_minute=10).token)
    other = ApiClient(make_key(org_a, admin_a, ["accounts:read"]).token)
    for _ in range(11):
        busy.get("/api/v1/accounts/")
    assert other.get("/api/v1/accounts/").status_code == 200


# --- ETag / If-Match -----------------------------------------------------------------------


@pytest.fixture
def account(org_a, csm_a):
    return AccountFactory(organization=org_a, csm=csm_a, name="Northwind", arr=Decimal("1000"))


def test_retrieve_and_patch_return_the_accounts_etag(api_a, account):
    first = api_a.get(f"/api/v1/accounts/{account.pk}/")
    patched = api_a.patch(
        f"/api/v1/accounts/{account.pk}/", {"arr": "2000.00"}, **{"If-Match": first["ETag"]}
    )

    assert patched.status_code == 200
    assert patched.json()["arr"] == "2000.00"
    assert patched["ETag"] != first["ETag"]
    assert api_a.get(f"/api/v1/accounts/{account.pk}/")["ETag"] == patched["ETag"]


def test_a_stale_if_match_gets_412_and_changes_nothing(api_a, org_a, account):
    etag = api_a.get(f"/api/v1/accounts/{account.pk}/")["ETag"]
    api_a.patch(f"/api/v1/accounts/{account.pk}/", {"name": "Renamed by someone else"})

    response = api_a.patch(f"/api/v1/accounts/{account.pk}/", {"arr": "5.00"}, **{"If-Match": etag})

    assert_problem(response, 412)
    with tenant_context(org_a):
        assert Account.objects.get(pk=account.pk).arr == Decimal("1000")


def test_patch_without_if_match_is_allowed(api_a, account):
    assert api_a.patch(f"/api/v1/accounts/{account.pk}/", {"health_score": 80}).status_code == 200


def test_patch_is_audited_as_the_api_key(api_a, org_a, account):
    api_a.patch(f"/api/v1/accounts/{account.pk}/", {"arr": "3000.00"})

    with tenant_context(org_a):
        event = AuditEvent.objects.get(action="account.updated")
    assert event.source == "api"
    assert event.actor is None
    assert event.actor_label.startswith("API key CRM sync")
    assert event.changes == {"arr": ["1000.00", "3000.00"]}


# --- Idempotency-Key -------------------------------------------------------------------------


def _log(api, account, key, verbatim="We need SSO"):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/feedback/",
        {"account": account.pk, "verbatim": verbatim},
        **{"Idempotency-Key": key},
    )


def _feedback_count(org) -> int:  # type: ignore[no-untyped-def]
    with tenant_context(org):
        return Feedback.objects.count()


def test_the_same_key_and_body_replays_the_first_response(api_a, org_a, account):
    first = _log(api_a, account, "key-1")
    again = _log(api_a, account, "key-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert _feedback_count(org_a) == 1
    assert first.json()["source"] == Source.API


def test_the_same_key_with_another_body_is_refused(api_a, org_a, account):
    _log(api_a, account, "key-2")

    body = assert_problem(_log(api_a, account, "key-2", verbatim="Something else"), 422)

    assert body["code"] == "idempotency_key_reused"
    assert _feedback_count(org_a) == 1


def test_keys_are_scoped_to_the_organization(api_a, org_a, org_b, admin_b, csm_b, account):
    other = ApiClient(make_key(org_b, admin_b).token)
    b_account = AccountFactory(organization=org_b, csm=csm_b)

    assert _log(api_a, account, "shared-key").status_code == 201
    assert _log(other, b_account, "shared-key").status_code == 201


def test_a_failed_validation_is_replayed_too(api_a, account):
    first = api_a.post("/api/v1/feedback/", {"verbatim": ""}, **{"Idempotency-Key": "bad"})
    again = api_a.post("/api/v1/feedback/", {"verbatim": ""}, **{"Idempotency-Key": "bad"})
    assert first.status_code == again.status_code == 400
    assert again["Content-Type"] == "application/problem+json"


def test_an_unusable_idempotency_key_is_a_problem_400(api_a, account):
    body = assert_problem(_log(api_a, account, "x" * 300), 400)
    assert "Idempotency-Key" in body["errors"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent inserts need real transactions"
)
def test_concurrent_duplicate_posts_with_one_key_create_exactly_one_feedback(org_a, admin_a, csm_a):
    token = make_key(org_a, admin_a).token
    account = AccountFactory(organization=org_a, csm=csm_a)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def post():  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            statuses.append(_log(ApiClient(token), account, "same-key").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    with cross_tenant_system_context():
        assert Feedback.objects.filter(organization=org_a).count() == 1
        assert IdempotencyRecord.objects.filter(organization=org_a).count() == 1

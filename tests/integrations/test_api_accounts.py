# ruff: noqa: F811 - pytest fixtures imported from test_api_support are redefined as arguments
"""Accounts over the API: filters, search, update, and the CRM bulk upsert."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from alignment.models import Account, AuditEvent, LifecycleStage, Notification, Role, Segment
from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from feedback.models import Feedback
from tests.factories import AccountFactory
from tests.integrations.test_api_support import (  # noqa: F401
    ApiClient,
    api_a,
    assert_problem,
    key_a,
)

BULK = "/api/v1/accounts/bulk-upsert/"


def _rows(org):  # type: ignore[no-untyped-def]
    with tenant_context(org):
        return list(
            Account.objects.order_by("external_id").values(
                "id", "external_id", "name", "arr", "segment", "csm_id", "updated_at"
            )
        )


# --- list and filters -------------------------------------------------------------------------


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


@pytest.fixture
def three(org_a, csm_a):  # type: ignore[no-untyped-def]
    return [
        AccountFactory(
            organization=org_a,
            name="Ent One",
            segment=Segment.ENTERPRISE,
            lifecycle_stage=LifecycleStage.AT_RISK,
            external_id="SF-1",
        ),
        AccountFactory(
            organization=org_a,
            name="Mid Two",
            segment=Segment.MID_MARKET,
            lifecycle_stage=LifecycleStage.ONBOARDED,
            external_id="SF-2",
        ),
        AccountFactory(
            organization=org_a,
            name="Small Three",
            segment=Segment.SMB,
            lifecycle_stage=LifecycleStage.AT_RISK,
            external_id="SF-3",
            csm=csm_a,
        ),
    ]


def test_accounts_filter_by_segment_and_lifecycle(api_a, three):
    assert _names(api_a.get("/api/v1/accounts/", {"segment": "enterprise"})) == ["Ent One"]
    assert _names(api_a.get("/api/v1/accounts/", {"lifecycle_stage": "at_risk"})) == [
        "Ent One",
        "Small Three",
    ]


def test_accounts_search_by_name_or_exact_crm_id(api_a, three):
    assert _names(api_a.get("/api/v1/accounts/", {"search": "two"})) == ["Mid Two"]
    assert _names(api_a.get("/api/v1/accounts/", {"search": "SF-3"})) == ["Small Three"]


def test_accounts_updated_since_returns_only_later_changes(api_a, org_a, three):
    with tenant_context(org_a):
        Account.objects.filter(pk=three[0].pk).update(
            updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        )
    names = _names(api_a.get("/api/v1/accounts/", {"updated_since": "2021-01-01T00:00:00Z"}))
    assert names == ["Mid Two", "Small Three"]


def test_an_invalid_filter_value_is_a_problem_400_naming_the_filter(api_a, three):
    body = assert_problem(api_a.get("/api/v1/accounts/", {"segment": "galactic"}), 400)
    assert "segment" in body["errors"]
    body = assert_problem(api_a.get("/api/v1/accounts/", {"updated_since": "yesterday"}), 400)
    assert "updated_since" in body["errors"]


def test_the_account_list_runs_a_constant_number_of_queries(
    api_a, org_a, make_member, django_assert_max_num_queries
):
    for _ in range(30):
        AccountFactory(organization=org_a, csm=make_member(org_a, Role.CSM))
    # The key, last-used, one page of accounts with their CSMs; the rest are savepoints and,
    # on PostgreSQL, the per-transaction organization settings. None grows with the page.
    with django_assert_max_num_queries(20):
        response = api_a.get("/api/v1/accounts/", {"page_size": 50})
    assert len(response.json()["results"]) == 30


# --- update -------------------------------------------------------------------------------------


def test_patch_assigns_the_owning_csm_by_email_and_tells_them(api_a, org_a, csm_a):
    account = AccountFactory(organization=org_a, name="Northwind")

    response = api_a.patch(f"/api/v1/accounts/{account.pk}/", {"csm_email": "CSM@acme.test"})

    assert response.json()["csm_email"] == "csm@acme.test"
    with tenant_context(org_a):
        assert Notification.objects.get(recipient=csm_a).title == "You now own Northwind"


def test_patch_with_a_non_csm_email_names_the_field(api_a, org_a, pm_a):
    account = AccountFactory(organization=org_a)

    body = assert_problem(
        api_a.patch(f"/api/v1/accounts/{account.pk}/", {"csm_email": "pm@acme.test"}), 422
    )

    assert "not a CSM" in body["errors"]["csm_email"][0]


def test_patch_rejects_a_negative_arr(api_a, org_a):
    account = AccountFactory(organization=org_a)
    body = assert_problem(api_a.patch(f"/api/v1/accounts/{account.pk}/", {"arr": "-5"}), 400)
    assert "arr" in body["errors"]


def test_patch_of_arr_refreshes_the_impact_of_the_accounts_feedback(api_a, org_a, csm_a):
    account = AccountFactory(organization=org_a, csm=csm_a, arr=Decimal("10000"))
    with tenant_context(org_a):
        feedback = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=account, verbatim="Need exports"
        )
    before = feedback.impact_score

    api_a.patch(f"/api/v1/accounts/{account.pk}/", {"arr": "500000.00"})

    with tenant_context(org_a):
        assert Feedback.objects.get(pk=feedback.pk).impact_score > before


# --- bulk upsert ------------------------------------------------------------------------------


def _batch(n: int = 3, **extra):  # type: ignore[no-untyped-def]
    return {
        "accounts": [
            {
                "external_id": f"CRM-{i}",
                "name": f"Customer {i}",
                "arr": f"{(i + 1) * 1000}.00",
                "segment": "enterprise",
                "renewal_date": "2027-01-31",
                "health_score": 70,
                "lifecycle_stage": "onboarded",
                **extra,
            }
            for i in range(n)
        ]
    }


def test_bulk_upsert_creates_then_updates_by_crm_id(api_a, org_a):
    created = api_a.post(BULK, _batch(3)).json()
    assert (created["created"], created["updated"], created["errors"]) == (3, 0, 0)
    assert [r["index"] for r in created["results"]] == [0, 1, 2]

    batch = _batch(3)
    batch["accounts"][1]["arr"] = "99999.00"
    updated = api_a.post(BULK, batch).json()

    assert (updated["created"], updated["updated"], updated["unchanged"]) == (0, 1, 2)
    assert updated["results"][1]["status"] == "updated"
    assert updated["results"][1]["id"] == created["results"][1]["id"]
    with tenant_context(org_a):
        assert Account.objects.get(external_id="CRM-1").arr == Decimal("99999.00")


def test_the_same_batch_twice_leaves_the_same_rows(api_a, org_a, csm_a):
    batch = _batch(5, csm_email="csm@acme.test")
    api_a.post(BULK, batch)
    rows = _rows(org_a)
    with tenant_context(org_a):
        audit_count = AuditEvent.objects.count()

    second = api_a.post(BULK, batch).json()

    assert second["unchanged"] == 5
    assert _rows(org_a) == rows
    with tenant_context(org_a):
        assert AuditEvent.objects.count() == audit_count
        # One notification for the CSM for the whole first batch, none for the second.
        assert Notification.objects.filter(recipient=csm_a).count() == 1


def test_bulk_upsert_reports_each_bad_item_and_keeps_the_good_ones(api_a, org_a, pm_a):
    batch = {
        "accounts": [
            {"external_id": "OK-1", "name": "Good"},
            {"external_id": "BAD-1", "name": "Bad ARR", "arr": "lots"},
            {"external_id": "BAD-2", "name": "Unknown CSM", "csm_email": "nobody@acme.test"},
            {"external_id": "BAD-3", "name": "PM as CSM", "csm_email": "pm@acme.test"},
            {"external_id": "NEW-1"},
            {"external_id": "OK-1", "name": "Twice"},
            {"name": "No id"},
            "not an object",
            {"external_id": "BAD-4", "name": "Health", "health_score": 101},
        ]
    }

    body = api_a.post(BULK, batch).json()

    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created"] + ["error"] * 8
    errors = [r["errors"] for r in body["results"]]
    assert "arr" in errors[1]
    assert "not an active member" in errors[2]["csm_email"][0]
    assert "not a CSM" in errors[3]["csm_email"][0]
    assert "name" in errors[4]
    assert "index 0" in errors[5]["external_id"][0]
    assert "external_id" in errors[6]
    assert "non_field_errors" in errors[7]
    assert "health_score" in errors[8]
    assert (body["created"], body["errors"]) == (1, 8)
    assert [r["external_id"] for r in _rows(org_a)] == ["OK-1"]


def test_bulk_upsert_refuses_more_than_500_items(api_a, org_a):
    body = assert_problem(api_a.post(BULK, _batch(501)), 400)
    assert "accounts" in body["errors"]
    assert _rows(org_a) == []


def test_bulk_upsert_refuses_an_empty_batch(api_a):
    assert_problem(api_a.post(BULK, {"accounts": []}), 400)


def test_bulk_upsert_leaves_fields_it_was_not_sent_alone(api_a, org_a, csm_a):
    AccountFactory(
        organization=org_a, external_id="KEEP", name="Keep me", csm=csm_a, arr=Decimal("7000")
    )

    body = api_a.post(BULK, {"accounts": [{"external_id": "KEEP", "health_score": 55}]}).json()

    assert body["results"][0]["status"] == "updated"
    with tenant_context(org_a):
        account = Account.objects.get(external_id="KEEP")
    assert (account.name, account.arr, account.csm_id, account.health_score) == (
        "Keep me",
        Decimal("7000.00"),
        csm_a.pk,
        55,
    )


def test_bulk_upsert_of_500_accounts_runs_a_bounded_number_of_queries(
    api_a, django_assert_max_num_queries
):
    # Validated in Python, then one insert, one audit insert and a constant for the batch
    # (SQLite splits a 500-row insert into a few statements).
    with django_assert_max_num_queries(40):
        body = api_a.post(BULK, _batch(500)).json()
    assert body["created"] == 500


def test_updated_since_accepts_any_valid_offset(api_a, three):
    response = api_a.get("/api/v1/accounts/", {"updated_since": "0327-01-31T06:14:12+18:48"})
    assert len(response.json()["results"]) == 3

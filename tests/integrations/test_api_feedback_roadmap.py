# ruff: noqa: F811 - pytest fixtures imported from test_api_support are redefined as arguments
"""Feedback, themes and the CS view of the roadmap over the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from alignment.tenancy import tenant_context
from feedback import services as feedback_services
from feedback.models import Feedback, Source
from roadmap.models import Commitment, Release, ReleaseItem, RoadmapItem
from tests.factories import AccountFactory, ProductAreaFactory
from tests.integrations.test_api_support import (  # noqa: F401
    ApiClient,
    api_a,
    assert_problem,
    key_a,
)


@pytest.fixture
def account(org_a, csm_a):  # type: ignore[no-untyped-def]
    return AccountFactory(organization=org_a, csm=csm_a, external_id="SF-9", arr=Decimal("90000"))


# --- feedback -------------------------------------------------------------------------------------


def test_feedback_is_logged_with_source_api_and_a_running_clock(api_a, org_a, admin_a, account):
    response = api_a.post(
        "/api/v1/feedback/",
        {"account_external_id": "SF-9", "verbatim": "Exports time out", "urgency": "high"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == Source.API
    assert body["status"] == "new"
    assert body["account"] == {"id": account.pk, "external_id": "SF-9", "name": account.name}
    assert body["logged_by_email"] == "admin@acme.test"
    assert response["Location"].endswith(f"/api/v1/feedback/{body['id']}/")
    with tenant_context(org_a):
        feedback = Feedback.objects.get()
    assert feedback.due_at > timezone.now()
    assert feedback.impact_score > 0


def test_feedback_can_name_the_member_who_heard_it(api_a, csm_a, account):
    response = api_a.post(
        "/api/v1/feedback/",
        {"account": account.pk, "verbatim": "Need SSO", "logged_by_email": "csm@acme.test"},
    )
    assert response.json()["logged_by_email"] == "csm@acme.test"


def test_feedback_gets_the_forms_checks(api_a, org_a, account):
    yesterday = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    body = assert_problem(
        api_a.post(
            "/api/v1/feedback/",
            {
                "account": account.pk,
                "verbatim": "x",
                "answer_needed_by": yesterday,
                "urgency": "whenever",
                "product_area": 999999,
            },
        ),
        400,
    )
    assert "has passed" in body["errors"]["answer_needed_by"][0]
    assert set(body["errors"]) >= {"answer_needed_by", "urgency", "product_area"}
    with tenant_context(org_a):
        assert not Feedback.objects.exists()


def test_feedback_filters_by_status_account_theme_and_area(api_a, org_a, csm_a, pm_a, account):
    area = ProductAreaFactory(organization=org_a, pm=pm_a)
    other = AccountFactory(organization=org_a, csm=csm_a)
    with tenant_context(org_a):
        first = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=account, verbatim="one", product_area=area
        )
        second = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=other, verbatim="two"
        )
        theme = feedback_services.theme_create(
            org=org_a, actor=pm_a, data=feedback_services.NewTheme(title="T")
        )
        feedback_services.feedback_attach(org=org_a, actor=pm_a, feedback=first, theme=theme)

    def ids(**params):  # type: ignore[no-untyped-def]
        return [row["id"] for row in api_a.get("/api/v1/feedback/", params).json()["results"]]

    assert ids(status="new") == [second.pk]
    assert ids(status="under_review") == [first.pk]
    assert ids(account=other.pk) == [second.pk]
    assert ids(theme=theme.pk) == [first.pk]
    assert ids(product_area=area.pk) == [first.pk]


def test_the_feedback_list_runs_a_constant_number_of_queries(
    api_a, org_a, csm_a, account, django_assert_max_num_queries
):
    with tenant_context(org_a):
        for i in range(20):
            feedback_services.feedback_log(org=org_a, actor=csm_a, account=account, verbatim=f"{i}")
    with django_assert_max_num_queries(20):
        response = api_a.get("/api/v1/feedback/")
    assert len(response.json()["results"]) == 20


# --- themes and the roadmap -----------------------------------------------------------------------


@pytest.fixture
def roadmap(org_a, admin_a, pm_a, csm_a, account):  # type: ignore[no-untyped-def]
    now = timezone.now()
    with tenant_context(org_a):
        items = {
            name: RoadmapItem.objects.for_org(org_a).create(organization=org_a, **fields)
            for name, fields in {
                "committed": {
                    "title": "SSO",
                    "tier": "committed",
                    "target_quarter": "2027-Q1",
                    "dev_owner": "Platform team",
                    "signed_off_by": pm_a,
                    "signed_off_at": now,
                    "visibility": "public",
                },
                "planned": {
                    "title": "Audit export",
                    "tier": "planned",
                    "target_quarter": "2027-Q2",
                    "visibility": "public",
                },
                "exploring": {"title": "AI summaries", "tier": "exploring", "visibility": "nda"},
                "internal": {"title": "Secret pivot", "tier": "planned", "visibility": "internal"},
            }.items()
        }
        commitments = {
            status: Commitment.objects.for_org(org_a).create(
                organization=org_a,
                account=account,
                item=items["committed"],
                requested_by=csm_a,
                context="Renewal call",
                conversation_date=now.date(),
                status=status,
                approved_wording="SSO is committed for Q1 2027." if status == "approved" else "",
                include_quarter=True,
                quarter_at_approval="2027-Q1" if status == "approved" else "",
            )
            for status in ("approved", "requested")
        }
        releases = {
            status: Release.objects.for_org(org_a).create(
                organization=org_a,
                name=f"Release {status}",
                release_date=now.date(),
                status=status,
                messaging="SSO is here",
            )
            for status in ("draft", "announced", "shipped")
        }
        for item in (items["committed"], items["internal"]):
            ReleaseItem.objects.for_org(org_a).create(
                organization=org_a, release=releases["shipped"], item=item
            )
        feedback = feedback_services.feedback_log(
            org=org_a, actor=csm_a, account=account, verbatim="Need SSO"
        )
        theme = feedback_services.theme_create(
            org=org_a, actor=pm_a, data=feedback_services.NewTheme(title="SSO")
        )
        feedback_services.feedback_attach(org=org_a, actor=pm_a, feedback=feedback, theme=theme)
        theme.roadmap_item = items["committed"]
        theme.save(update_fields=["roadmap_item"])
    return {"items": items, "commitments": commitments, "releases": releases, "theme": theme}


def test_roadmap_items_show_only_what_a_csm_may_see(api_a, roadmap):
    rows = {r["title"]: r for r in api_a.get("/api/v1/roadmap-items/").json()["results"]}

    assert set(rows) == {"SSO", "Audit export", "AI summaries"}
    assert rows["SSO"]["target_quarter"] == "2027-Q1"
    assert rows["Audit export"]["target_quarter"] is None
    assert rows["AI summaries"]["not_for_renewal_conversations"] is True
    assert rows["SSO"]["not_for_renewal_conversations"] is False
    internal = roadmap["items"]["internal"]
    assert_problem(api_a.get(f"/api/v1/roadmap-items/{internal.pk}/"), 404)


def test_only_approved_commitments_with_their_wording_are_shown(api_a, roadmap):
    rows = api_a.get("/api/v1/commitments/").json()["results"]

    assert [r["id"] for r in rows] == [roadmap["commitments"]["approved"].pk]
    assert rows[0]["approved_wording"] == "SSO is committed for Q1 2027."
    assert rows[0]["quarter"] == "2027-Q1"
    assert "context" not in rows[0]


def test_releases_are_shown_once_announced_with_their_brief(api_a, roadmap):
    rows = {r["name"]: r for r in api_a.get("/api/v1/releases/").json()["results"]}

    assert set(rows) == {"Release announced", "Release shipped"}
    assert rows["Release shipped"]["brief"]["messaging"] == "SSO is here"
    assert [i["title"] for i in rows["Release shipped"]["roadmap_items"]] == ["SSO"]


def test_a_theme_shows_its_impact_feedback_and_roadmap_item(api_a, roadmap):
    theme = roadmap["theme"]

    listed = api_a.get("/api/v1/themes/").json()["results"][0]
    detail = api_a.get(f"/api/v1/themes/{theme.pk}/").json()

    assert listed["status"] == "under_review"
    assert Decimal(listed["impact_score"]) > 0 and listed["account_count"] == 1
    assert [f["verbatim"] for f in detail["feedback"]] == ["Need SSO"]
    assert detail["roadmap_item"]["title"] == "SSO"
    assert detail["impact_breakdown"]


def test_a_theme_on_an_internal_item_hides_the_item(api_a, org_a, roadmap):
    theme = roadmap["theme"]
    with tenant_context(org_a):
        theme.roadmap_item = roadmap["items"]["internal"]
        theme.save(update_fields=["roadmap_item"])

    assert api_a.get(f"/api/v1/themes/{theme.pk}/").json()["roadmap_item"] is None


@pytest.mark.parametrize(
    "path",
    ["/api/v1/themes/", "/api/v1/roadmap-items/", "/api/v1/commitments/", "/api/v1/releases/"],
)
def test_roadmap_and_theme_lists_run_a_constant_number_of_queries(
    api_a, roadmap, path, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        assert api_a.get(path).status_code == 200

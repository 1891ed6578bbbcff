"""Accounts: the create/update services and their rules, and the list, detail and form pages."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import (
    Account,
    AuditEvent,
    LifecycleStage,
    Notification,
    RiskFactor,
    Role,
    Segment,
)
from alignment.services.accounts import account_create, account_update, parse_money
from alignment.tenancy import tenant_context
from tests.factories import AccountFactory


def url(org, name, *args):
    return reverse(f"alignment:{name}", args=[org.slug, *args])


@pytest.fixture
def book(org_a, csm_a, make_member):
    """Two CSMs of Acme, an account each, and an unassigned one."""
    other_csm = make_member(
        org_a, Role.CSM, user__email="other@acme.test", user__full_name="Otto Other"
    )
    mine = AccountFactory(
        organization=org_a, csm=csm_a, name="Mine Corp", external_id="M-1", arr=Decimal("100")
    )
    theirs = AccountFactory(
        organization=org_a,
        csm=other_csm,
        name="Theirs Inc",
        external_id="T-1",
        arr=Decimal("200"),
    )
    nobody = AccountFactory(organization=org_a, name="Nobody LLC", external_id="N-1")
    return {"other_csm": other_csm, "mine": mine, "theirs": theirs, "nobody": nobody}


def form_data(account=None, **overrides):
    data = {
        "name": "Acme Widgets",
        "external_id": "CRM-1",
        "arr": "120000",
        "segment": Segment.MID_MARKET,
        "renewal_date": "2026-03-31",
        "health_score": "80",
        "lifecycle_stage": LifecycleStage.ONBOARDED,
        "csm": "",
        "primary_risk": "",
        "primary_risk_note": "",
    }
    if account is not None:
        data.update(
            name=account.name,
            external_id=account.external_id,
            arr=str(account.arr),
            segment=account.segment,
            lifecycle_stage=account.lifecycle_stage,
            csm=str(account.csm_id or ""),
        )
    data.update(overrides)
    return data


# --- Services ----------------------------------------------------------------------------------


def test_cs_ops_creates_an_account_and_the_creation_is_audited(org_a, cs_ops_a, csm_a):
    with tenant_context(org_a):
        account = account_create(
            org=org_a,
            actor=cs_ops_a,
            name="Globex",
            external_id="G-1",
            arr=Decimal("5000.5"),
            csm=csm_a,
        )
        event = AuditEvent.objects.for_org(org_a).get(target_type="account")
    assert account.arr == Decimal("5000.50")
    assert event.action == "account.created"
    assert event.target_id == str(account.pk)
    assert event.changes["name"] == [None, "Globex"]
    assert event.actor == cs_ops_a.user


def test_the_new_owner_is_notified_when_someone_else_assigns_an_account(org_a, cs_ops_a, csm_a):
    with tenant_context(org_a):
        account = account_create(org=org_a, actor=cs_ops_a, name="Globex", csm=csm_a)
        note = Notification.objects.for_org(org_a).get(recipient=csm_a)
    assert note.title == "You now own Globex"
    assert str(account.pk) in note.url


def test_a_csms_new_account_is_their_own(org_a, csm_a):
    with tenant_context(org_a):
        account = account_create(org=org_a, actor=csm_a, name="Mine")
    assert account.csm == csm_a


def test_csm_cannot_create_an_account_for_another_csm(org_a, csm_a, book):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        account_create(org=org_a, actor=csm_a, name="Theirs", csm=book["other_csm"])
    assert error.value.code == "permission_denied"


def test_pm_cannot_create_accounts_through_the_service(org_a, pm_a):
    with tenant_context(org_a), pytest.raises(ApplicationError):
        account_create(org=org_a, actor=pm_a, name="Nope")


def test_duplicate_crm_id_is_rejected_naming_the_existing_account(org_a, cs_ops_a, book):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        account_create(org=org_a, actor=cs_ops_a, name="Copy", external_id="M-1")
    assert error.value.field_errors["external_id"] == [
        "An account with CRM id M-1 already exists: Mine Corp"
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"arr": Decimal("-1")}, "arr", "ARR cannot be negative."),
        ({"health_score": 101}, "health_score", "The health score must be between 0 and 100."),
        (
            {"primary_risk_note": "They hate the UI"},
            "primary_risk",
            "Choose the primary risk factor this note explains.",
        ),
        ({"name": "  "}, "name", "Every account needs a name."),
    ],
)
def test_account_rules_are_enforced_by_the_service(org_a, cs_ops_a, book, fields, field, message):
    with tenant_context(org_a):
        with pytest.raises(ApplicationError) as error:
            account_update(org=org_a, actor=cs_ops_a, account=book["mine"], **fields)
        assert error.value.field_errors[field] == [message]
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).name == "Mine Corp"


def test_the_owning_csm_must_be_an_active_csm_of_the_organization(
    org_a, cs_ops_a, pm_a, csm_b, book
):
    with tenant_context(org_a):
        for candidate in (pm_a, csm_b):
            with pytest.raises(ApplicationError) as error:
                account_update(org=org_a, actor=cs_ops_a, account=book["mine"], csm=candidate)
            assert "csm" in error.value.field_errors


def test_update_audits_only_the_changed_fields_and_nothing_when_nothing_changed(
    org_a, cs_ops_a, book
):
    with tenant_context(org_a):
        account_update(org=org_a, actor=cs_ops_a, account=book["mine"], arr=Decimal("150"))
        account_update(org=org_a, actor=cs_ops_a, account=book["mine"], arr=Decimal("150"))
        events = list(AuditEvent.objects.for_org(org_a).filter(action="account.updated"))
    assert len(events) == 1
    assert events[0].changes == {"arr": ["100.00", "150.00"]}


def test_csm_updates_their_own_account_but_not_another_csms(org_a, csm_a, book):
    with tenant_context(org_a):
        account_update(org=org_a, actor=csm_a, account=book["mine"], health_score=55)
        with pytest.raises(ApplicationError) as error:
            account_update(org=org_a, actor=csm_a, account=book["theirs"], health_score=55)
        assert error.value.code == "permission_denied"
        assert Account.objects.for_org(org_a).get(pk=book["theirs"].pk).health_score is None
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).health_score == 55


def test_csm_cannot_reassign_their_account(org_a, csm_a, book):
    with tenant_context(org_a):
        with pytest.raises(ApplicationError) as error:
            account_update(org=org_a, actor=csm_a, account=book["mine"], csm=book["other_csm"])
        assert error.value.code == "permission_denied"
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).csm == csm_a


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$1,200,000.50", Decimal("1200000.50")),
        ("1200000", Decimal("1200000.00")),
        (" USD 90,000 ", Decimal("90000.00")),
        ("(500)", Decimal("-500.00")),
        ("12.5.1", None),
        ("1.200.000,50", None),
        ("lots", None),
    ],
)
def test_money_is_read_the_way_people_write_it(text, amount):
    if amount is None:
        with pytest.raises(ValueError):
            parse_money(text)
    else:
        assert parse_money(text) == amount


# --- Pages: permissions (one setup for success and failure) ------------------------------------


def test_csm_can_edit_their_own_account(org_a, csm_a, book, client_for):
    response = client_for(csm_a).post(
        url(org_a, "account-edit", book["mine"].pk),
        form_data(book["mine"], health_score="90"),
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).health_score == 90


def test_csm_cannot_edit_another_csms_account(org_a, csm_a, book, client_for):
    client = client_for(csm_a)
    target = url(org_a, "account-edit", book["theirs"].pk)
    assert client.get(target).status_code == 403
    assert client.post(target, form_data(book["theirs"], health_score="1")).status_code == 403
    with tenant_context(org_a):
        assert Account.objects.for_org(org_a).get(pk=book["theirs"].pk).health_score is None


def test_csm_edit_form_has_no_csm_field_and_posting_one_does_not_reassign(
    org_a, csm_a, book, client_for
):
    client = client_for(csm_a)
    target = url(org_a, "account-edit", book["mine"].pk)
    assert 'name="csm"' not in client.get(target).content.decode()
    client.post(target, form_data(book["mine"], csm=str(book["other_csm"].pk)))
    with tenant_context(org_a):
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).csm == csm_a


def test_cs_ops_can_edit_any_account_and_reassign_it(org_a, cs_ops_a, book, client_for):
    response = client_for(cs_ops_a).post(
        url(org_a, "account-edit", book["mine"].pk),
        form_data(book["mine"], csm=str(book["other_csm"].pk)),
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).csm == book["other_csm"]


def test_pm_cannot_open_or_post_the_new_account_form(org_a, pm_a, client_for):
    client = client_for(pm_a)
    assert client.get(url(org_a, "account-create")).status_code == 403
    assert client.post(url(org_a, "account-create"), form_data()).status_code == 403
    with tenant_context(org_a):
        assert not Account.objects.for_org(org_a).exists()


def test_cs_ops_creates_an_account_from_the_form(org_a, cs_ops_a, csm_a, client_for):
    client = client_for(cs_ops_a)
    response = client.post(url(org_a, "account-create"), form_data(csm=str(csm_a.pk)))
    with tenant_context(org_a):
        account = Account.objects.for_org(org_a).get()
    assert response.status_code == 302
    assert response["Location"] == url(org_a, "account-detail", account.pk)
    assert (account.name, account.arr, account.csm_id) == (
        "Acme Widgets",
        Decimal("120000"),
        csm_a.pk,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Account Acme Widgets created." in page


def test_another_organizations_account_is_a_404_and_stays_unchanged(
    org_a, org_b, admin_a, client_for
):
    foreign = AccountFactory(organization=org_b, name="Borealis Customer")
    client = client_for(admin_a)
    assert client.get(url(org_a, "account-detail", foreign.pk)).status_code == 404
    assert client.get(url(org_a, "account-edit", foreign.pk)).status_code == 404
    response = client.post(url(org_a, "account-edit", foreign.pk), form_data(name="Hijacked"))
    assert response.status_code == 404
    with tenant_context(org_b):
        assert Account.objects.for_org(org_b).get(pk=foreign.pk).name == "Borealis Customer"


def test_new_and_import_buttons_show_only_to_those_allowed(org_a, pm_a, cs_ops_a, client_for):
    pm_page = client_for(pm_a).get(url(org_a, "account-list")).content.decode()
    ops_page = client_for(cs_ops_a).get(url(org_a, "account-list")).content.decode()
    assert url(org_a, "account-create") not in pm_page
    assert url(org_a, "account-import") not in pm_page
    assert url(org_a, "account-create") in ops_page
    assert url(org_a, "account-import") in ops_page


# --- Form errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"arr": "-5"}, "ARR cannot be negative."),
        ({"arr": "lots"}, "Enter ARR as an amount, e.g. 120000 or 120000.50."),
        ({"health_score": "150"}, "The health score must be between 0 and 100."),
        ({"renewal_date": "next spring"}, "Enter the renewal date as YYYY-MM-DD (or M/D/YYYY)."),
        ({"external_id": "T-1"}, "An account with CRM id T-1 already exists: Theirs Inc"),
        (
            {"primary_risk_note": "Champion left"},
            "Choose the primary risk factor this note explains.",
        ),
    ],
)
def test_the_form_shows_what_is_wrong_inline(org_a, cs_ops_a, book, client_for, overrides, message):
    response = client_for(cs_ops_a).post(
        url(org_a, "account-edit", book["mine"].pk), form_data(book["mine"], **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    with tenant_context(org_a):
        assert Account.objects.for_org(org_a).get(pk=book["mine"].pk).arr == Decimal("100")


def test_the_form_accepts_pasted_money_and_us_dates(org_a, cs_ops_a, book, client_for):
    client_for(cs_ops_a).post(
        url(org_a, "account-edit", book["mine"].pk),
        form_data(book["mine"], arr="$1,250,000.75", renewal_date="9/30/2026"),
    )
    with tenant_context(org_a):
        account = Account.objects.for_org(org_a).get(pk=book["mine"].pk)
    assert account.arr == Decimal("1250000.75")
    assert account.renewal_date == datetime.date(2026, 9, 30)


# --- Detail -----------------------------------------------------------------------------------------


def test_detail_shows_the_account_and_its_history_newest_first(org_a, cs_ops_a, book, client_for):
    with tenant_context(org_a):
        account_update(
            org=org_a,
            actor=cs_ops_a,
            account=book["mine"],
            lifecycle_stage=LifecycleStage.AT_RISK,
            primary_risk=RiskFactor.BUDGET,
        )
        account_update(org=org_a, actor=cs_ops_a, account=book["mine"], health_score=12)
    page = client_for(cs_ops_a).get(url(org_a, "account-detail", book["mine"].pk)).content.decode()
    assert "Mine Corp" in page
    assert "Budget" in page
    assert "Casey CSM" in page
    assert page.index("health_score") < page.index("primary_risk")
    assert url(org_a, "account-edit", book["mine"].pk) in page


def test_detail_hides_the_edit_button_from_a_csm_who_does_not_own_it(
    org_a, csm_a, book, client_for
):
    page = client_for(csm_a).get(url(org_a, "account-detail", book["theirs"].pk)).content.decode()
    assert "Theirs Inc" in page
    assert url(org_a, "account-edit", book["theirs"].pk) not in page


# --- List -----------------------------------------------------------------------------------------


def names(response):
    return [a.name for a in response.context["page"].object_list]


def test_list_sorts_by_arr_descending_by_default_and_shows_totals(
    org_a, cs_ops_a, book, client_for
):
    response = client_for(cs_ops_a).get(url(org_a, "account-list"))
    assert names(response) == ["Nobody LLC", "Theirs Inc", "Mine Corp"]
    page = response.content.decode()
    assert "<strong>3</strong> accounts" in page
    assert "$50,300" in page


def test_list_searches_by_name_or_crm_id(org_a, cs_ops_a, book, client_for):
    client = client_for(cs_ops_a)
    assert names(client.get(url(org_a, "account-list"), {"q": "theirs"})) == ["Theirs Inc"]
    assert names(client.get(url(org_a, "account-list"), {"q": "m-1"})) == ["Mine Corp"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Mine Corp", "Nobody LLC", "Theirs Inc"]),
        ("-name", ["Theirs Inc", "Nobody LLC", "Mine Corp"]),
        ("arr", ["Mine Corp", "Theirs Inc", "Nobody LLC"]),
        ("renewal", ["Theirs Inc", "Mine Corp", "Nobody LLC"]),
        ("-renewal", ["Mine Corp", "Theirs Inc", "Nobody LLC"]),
    ],
)
def test_list_sorts_by_the_clicked_column(org_a, cs_ops_a, book, client_for, sort, expected):
    with tenant_context(org_a):
        Account.objects.for_org(org_a).filter(pk=book["theirs"].pk).update(
            renewal_date=datetime.date(2026, 1, 1)
        )
        Account.objects.for_org(org_a).filter(pk=book["mine"].pk).update(
            renewal_date=datetime.date(2026, 6, 1)
        )
    response = client_for(cs_ops_a).get(url(org_a, "account-list"), {"sort": sort})
    assert names(response) == expected


def test_list_filters_by_segment_stage_mine_and_unassigned(org_a, csm_a, book, client_for):
    with tenant_context(org_a):
        Account.objects.for_org(org_a).filter(pk=book["theirs"].pk).update(
            segment=Segment.ENTERPRISE, lifecycle_stage=LifecycleStage.AT_RISK
        )
    client = client_for(csm_a)
    list_url = url(org_a, "account-list")
    assert names(client.get(list_url, {"segment": "enterprise"})) == ["Theirs Inc"]
    assert names(client.get(list_url, {"stage": "at_risk"})) == ["Theirs Inc"]
    assert names(client.get(list_url, {"csm": csm_a.pk})) == ["Mine Corp"]
    assert names(client.get(list_url, {"csm": "unassigned"})) == ["Nobody LLC"]
    # An unknown filter value is ignored rather than an error.
    assert len(names(client.get(list_url, {"csm": "999999", "segment": "huge"}))) == 3


def test_htmx_gets_only_the_results_fragment(org_a, cs_ops_a, book, client_for):
    response = client_for(cs_ops_a).get(
        url(org_a, "account-list"), {"q": "mine"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "Mine Corp" in body
    assert "<html" not in body
    assert 'id="account-sort"' in body and 'hx-swap-oob="true"' in body


def test_list_pages_by_fifty(org_a, cs_ops_a, client_for):
    for i in range(55):
        AccountFactory(organization=org_a, name=f"Account {i:02d}", arr=Decimal(1000 + i))
    client = client_for(cs_ops_a)
    first = client.get(url(org_a, "account-list"))
    second = client.get(url(org_a, "account-list"), {"page": 2})
    assert len(names(first)) == 50
    assert names(second) == [f"Account {i:02d}" for i in range(4, -1, -1)]
    assert "Page 1 of 2" in first.content.decode()


def test_empty_list_says_how_to_add_accounts(org_a, cs_ops_a, pm_a, client_for):
    ops_page = client_for(cs_ops_a).get(url(org_a, "account-list")).content.decode()
    assert "No accounts yet." in ops_page
    assert "CSV import" in ops_page
    pm_page = client_for(pm_a).get(url(org_a, "account-list")).content.decode()
    assert "ask them, or an admin" in pm_page


def test_renewals_within_ninety_days_say_how_soon(org_a, cs_ops_a, client_for):
    AccountFactory(
        organization=org_a, renewal_date=datetime.date.today() + datetime.timedelta(days=30)
    )
    page = client_for(cs_ops_a).get(url(org_a, "account-list")).content.decode()
    assert "in 30 days" in page or "in 29 days" in page or "in 31 days" in page


def test_list_runs_a_constant_number_of_queries(
    org_a, cs_ops_a, make_member, client_for, django_assert_max_num_queries
):
    client = client_for(cs_ops_a)
    csms = [make_member(org_a, Role.CSM) for _ in range(3)]
    for i in range(3):
        AccountFactory(organization=org_a, csm=csms[i])
    client.get(url(org_a, "account-list"))  # the first request also stores the session
    with CaptureQueriesContext(connection) as few:
        client.get(url(org_a, "account-list"))
    for i in range(45):
        AccountFactory(organization=org_a, csm=csms[i % 3])
    with CaptureQueriesContext(connection) as many:
        client.get(url(org_a, "account-list"))
    assert len(many) == len(few)
    with django_assert_max_num_queries(25):
        client.get(url(org_a, "account-list"), {"q": "a", "sort": "name"})


def test_editing_an_account_of_a_deactivated_csm_keeps_its_owner(org_a, cs_ops_a, book, client_for):
    with tenant_context(org_a):
        book["other_csm"].is_active = False
        book["other_csm"].save()
    client = client_for(cs_ops_a)
    target = url(org_a, "account-edit", book["theirs"].pk)
    assert "Otto Other (deactivated)" in client.get(target).content.decode()
    response = client.post(target, form_data(book["theirs"], health_score="33"))
    assert response.status_code == 302
    with tenant_context(org_a):
        account = Account.objects.for_org(org_a).get(pk=book["theirs"].pk)
    assert (account.csm_id, account.health_score) == (book["other_csm"].pk, 33)

"""Escalations: raising with a computed severity, overrides, account changes, statuses that
tell the owning CSMs, the settings, and the pages (list, raise form with its live preview,
detail, weekly review)."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from alignment.errors import ApplicationError
from alignment.models import AuditEvent, LifecycleStage, Notification, Role
from alignment.tenancy import tenant_context
from roadmap import services_escalations as services
from roadmap.demo_escalations import seed
from roadmap.models import Escalation, EscalationStatus
from tests.factories import AccountFactory, ProductAreaFactory

UTC = datetime.UTC
RAISED = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # Wed 10:00 New York
TODAY = datetime.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def frozen():
    """Pages compute renewals from today: every test lives on the morning of 4 March 2026."""
    with time_machine.travel(RAISED, tick=True):
        yield


@pytest.fixture
def world(org_a, csm_a, pm_a, make_member):
    """Forty accounts (so one is 2.5% of the base), an area owned by the PM, a support agent,
    a second CSM and a Head of Product."""
    csm2 = make_member(org_a, Role.CSM, user__full_name="Jo Second")
    support = make_member(org_a, Role.SUPPORT, user__full_name="Sam Support")
    head = make_member(org_a, Role.HEAD_OF_PRODUCT, user__full_name="Hugo Head")
    AccountFactory.create_batch(36, organization=org_a, arr=Decimal("1000"))
    acme = AccountFactory(csm=csm_a, name="Acme", arr=Decimal("40000"))
    beta = AccountFactory(csm=csm_a, name="Beta", arr=Decimal("60000"))
    gamma = AccountFactory(csm=csm2, name="Gamma", arr=Decimal("200000"))
    renewing = AccountFactory(
        csm=csm2,
        name="Renewco",
        arr=Decimal("10000"),
        renewal_date=TODAY + datetime.timedelta(days=42),
    )
    area = ProductAreaFactory(pm=pm_a, name="Reporting")
    return {
        "csm2": csm2,
        "support": support,
        "head": head,
        "acme": acme,
        "beta": beta,
        "gamma": gamma,
        "renewing": renewing,
        "area": area,
    }


def raise_(org, actor, accounts, **kwargs):
    kwargs.setdefault("title", "Exports time out")
    kwargs.setdefault("now", RAISED)
    with tenant_context(org), time_machine.travel(kwargs["now"], tick=False):
        return services.escalation_raise(org=org, actor=actor, accounts=accounts, **kwargs)


def notes(org, kind=None):
    with tenant_context(org):
        qs = Notification.objects.for_org(org).select_related("recipient__user")
        if kind:
            qs = qs.filter(kind=kind)
        return sorted((n.kind, n.recipient.user.full_name) for n in qs)


# --- raising ----------------------------------------------------------------------------------


def test_support_raises_an_isolated_escalation_as_p3_owned_by_the_area_pm(org_a, pm_a, world):
    escalation = raise_(
        org_a, world["support"], [world["acme"]], product_area=world["area"], ticket_ref="ZD-1"
    )

    assert escalation.severity == escalation.computed_severity == "P3"
    assert escalation.pm == pm_a
    assert escalation.affected_arr == Decimal("40000")
    assert escalation.affected_account_count == 1
    assert escalation.severity_reasons[0].startswith("1 of 40 accounts affected (2.5%)")
    # 10 business days from Wed 4 March 10:00 New York: Wed 18 March 10:00 (EDT).
    assert escalation.due_at == datetime.datetime(2026, 3, 18, 14, 0, tzinfo=UTC)
    assert notes(org_a) == [("escalation.raised", "Pat PM")]


def test_an_account_renewing_soon_makes_it_p1_due_next_business_day(org_a, world):
    escalation = raise_(org_a, world["support"], [world["renewing"]])

    assert escalation.severity == "P1"
    assert escalation.severity_reasons == ["Renewco renews in 42 days"]
    assert escalation.due_at == datetime.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)


def test_affected_arr_above_the_threshold_makes_it_p1(org_a, world):
    escalation = raise_(org_a, world["support"], [world["beta"], world["gamma"]])

    assert escalation.severity == "P1"
    assert escalation.severity_reasons == ["Affected ARR $260K is above the $250K threshold"]


def test_more_than_ten_percent_of_accounts_makes_it_p2_and_churned_accounts_do_not_count(
    org_a, world
):
    small = AccountFactory.create_batch(5, organization=org_a, arr=Decimal("1000"))
    AccountFactory.create_batch(5, organization=org_a, lifecycle_stage=LifecycleStage.CHURNED)
    # 45 countable accounts (the 5 churned are left out): 5 of 45 is 11.1%.
    escalation = raise_(org_a, world["support"], small)

    assert escalation.severity == "P2"
    assert escalation.severity_reasons[0].startswith("5 of 45 accounts affected (11.1%)")
    assert escalation.due_at == datetime.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_with_no_owning_pm_the_head_of_product_is_told(org_a, world):
    raise_(org_a, world["support"], [world["acme"]])

    assert notes(org_a) == [("escalation.raised", "Hugo Head")]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"title": "  "}, "title"), ({"accounts": []}, "accounts")],
)
def test_raising_needs_a_title_and_an_account(org_a, world, kwargs, field):
    args = {"accounts": [world["acme"]], **kwargs}
    with pytest.raises(ApplicationError) as error:
        raise_(org_a, world["support"], **args)
    assert field in error.value.field_errors
    with tenant_context(org_a):
        assert not Escalation.objects.for_org(org_a).exists()


def test_a_pmm_cannot_raise_an_escalation(org_a, make_member, world):
    pmm = make_member(org_a, Role.PMM)
    with pytest.raises(ApplicationError):
        raise_(org_a, pmm, [world["acme"]])


def test_another_organizations_account_is_refused(org_a, org_b, world):
    foreign = AccountFactory(organization=org_b)
    with pytest.raises(ApplicationError) as error:
        raise_(org_a, world["support"], [foreign])
    assert "accounts" in error.value.field_errors


# --- override -----------------------------------------------------------------------------


def test_a_pm_overrides_severity_with_a_reason_and_the_clock_follows(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a):
        updated = services.escalation_override_severity(
            org=org_a,
            actor=pm_a,
            escalation=escalation,
            severity="P1",
            reason="Board-level customer, CEO emailed",
        )
        audit = AuditEvent.objects.for_org(org_a).get(action="escalation.override")

    assert (updated.severity, updated.computed_severity) == ("P1", "P3")
    assert updated.overridden_by == pm_a
    assert updated.due_at == datetime.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
    assert audit.changes["severity"] == ["P3", "P1"]


def test_an_override_without_a_reason_is_refused(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        services.escalation_override_severity(
            org=org_a, actor=pm_a, escalation=escalation, severity="P1", reason="  "
        )
    assert "reason" in error.value.field_errors


def test_choosing_the_computed_severity_again_removes_the_override(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a):
        services.escalation_override_severity(
            org=org_a, actor=pm_a, escalation=escalation, severity="P2", reason="Spreading"
        )
        reverted = services.escalation_override_severity(
            org=org_a, actor=pm_a, escalation=escalation, severity="P3"
        )
    assert (reverted.severity, reverted.override_reason, reverted.overridden_by) == ("P3", "", None)


def test_a_csm_cannot_override(org_a, csm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a), pytest.raises(ApplicationError):
        services.escalation_override_severity(
            org=org_a, actor=csm_a, escalation=escalation, severity="P1", reason="x"
        )


# --- accounts ---------------------------------------------------------------------------------


def test_adding_a_renewing_account_recomputes_to_p1(org_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a), time_machine.travel(RAISED, tick=False):
        updated = services.escalation_account_add(
            org=org_a, actor=world["support"], escalation=escalation, account=world["renewing"]
        )
    assert updated.severity == "P1"
    assert updated.affected_arr == Decimal("50000")
    assert updated.due_at == datetime.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)


def test_removing_an_account_recomputes_and_the_last_one_stays(org_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"], world["renewing"]])
    assert escalation.severity == "P1"
    with tenant_context(org_a), time_machine.travel(RAISED, tick=False):
        updated = services.escalation_account_remove(
            org=org_a, actor=world["support"], escalation=escalation, account=world["renewing"]
        )
        assert updated.severity == "P3"
        with pytest.raises(ApplicationError):
            services.escalation_account_remove(
                org=org_a, actor=world["support"], escalation=escalation, account=world["acme"]
            )


def test_an_override_survives_a_recompute(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a):
        services.escalation_override_severity(
            org=org_a, actor=pm_a, escalation=escalation, severity="P2", reason="Spreading"
        )
        updated = services.escalation_account_add(
            org=org_a, actor=pm_a, escalation=escalation, account=world["gamma"]
        )
    assert (updated.computed_severity, updated.severity) == ("P3", "P2")


# --- statuses ---------------------------------------------------------------------------------


def test_in_development_tells_each_owning_csm_and_the_raiser_once(org_a, csm_a, pm_a, world):
    # Two of Casey's accounts and one of Jo's: Casey hears once, Jo once, Sam (raiser) once.
    escalation = raise_(org_a, world["support"], [world["acme"], world["beta"], world["gamma"]])
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.IN_DEVELOPMENT
        )
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.IN_DEVELOPMENT
        )
        casey = Notification.objects.for_org(org_a).get(kind="escalation.status", recipient=csm_a)

    assert notes(org_a, "escalation.status") == [
        ("escalation.status", "Casey CSM"),
        ("escalation.status", "Jo Second"),
        ("escalation.status", "Sam Support"),
    ]
    assert "Your accounts affected: Acme, Beta." in casey.body


def test_resolving_tells_them_again_once_and_stops_the_clock(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.IN_DEVELOPMENT
        )
        resolved = services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.RESOLVED
        )
    assert resolved.responded_at is not None and resolved.resolved_at is not None
    assert len(notes(org_a, "escalation.status")) == 4  # Casey and Sam, twice each


def test_acknowledging_stops_the_clock_without_telling_csms(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a):
        acknowledged = services.escalation_acknowledge(org=org_a, actor=pm_a, escalation=escalation)
    assert acknowledged.responded_at is not None
    assert notes(org_a, "escalation.status") == []


def test_an_escalation_never_moves_backwards(org_a, pm_a, world):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.RESOLVED
        )
        with pytest.raises(ApplicationError) as error:
            services.escalation_set_status(
                org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.OPEN
            )
    assert "cannot move back" in error.value.message


def test_the_person_who_moves_it_is_not_told_about_their_own_move(org_a, admin_a, world):
    account = AccountFactory(csm=admin_a, name="Own")
    escalation = raise_(org_a, admin_a, [account])
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=admin_a, escalation=escalation, status=EscalationStatus.RESOLVED
        )
    assert notes(org_a, "escalation.status") == []


# --- settings ---------------------------------------------------------------------------------


def test_lowering_the_threshold_recomputes_open_escalations(org_a, admin_a, world):
    escalation = raise_(org_a, world["support"], [world["beta"]])
    assert escalation.severity == "P3"
    with tenant_context(org_a), time_machine.travel(RAISED, tick=False):
        services.escalation_settings_update(
            org=org_a,
            actor=admin_a,
            p1_arr_threshold=Decimal("50000"),
            p1_response_days=2,
            p2_response_days=3,
            p3_response_days=10,
        )
        escalation.refresh_from_db()
        audit = AuditEvent.objects.for_org(org_a).get(action="organization.escalation_settings")
    assert escalation.severity == "P1"
    assert escalation.due_at == datetime.datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert audit.changes["escalation_p1_arr_threshold"] == ["250000.00", "50000"]


def test_p1_may_not_get_longer_than_p2(org_a, admin_a):
    with tenant_context(org_a), pytest.raises(ApplicationError) as error:
        services.escalation_settings_update(
            org=org_a,
            actor=admin_a,
            p1_arr_threshold=Decimal("1"),
            p1_response_days=5,
            p2_response_days=3,
            p3_response_days=10,
        )
    assert "escalation_p1_response_days" in error.value.field_errors


def test_the_settings_page_saves_escalation_settings(org_a, admin_a, client_for):
    url = reverse("alignment:org-escalation-settings", kwargs={"org_slug": org_a.slug})
    response = client_for(admin_a).post(
        url,
        {
            "escalation_p1_arr_threshold": "300000",
            "escalation_p1_response_days": "1",
            "escalation_p2_response_days": "2",
            "escalation_p3_response_days": "5",
        },
    )
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert (org_a.escalation_p1_arr_threshold, org_a.escalation_p3_response_days) == (
        Decimal("300000"),
        5,
    )


def test_the_settings_page_shows_a_bad_value_inline(org_a, admin_a, client_for):
    url = reverse("alignment:org-escalation-settings", kwargs={"org_slug": org_a.slug})
    response = client_for(admin_a).post(
        url,
        {
            "escalation_p1_arr_threshold": "-5",
            "escalation_p1_response_days": "4",
            "escalation_p2_response_days": "2",
            "escalation_p3_response_days": "5",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert b"greater than or equal to 0" in response.content
    page = client_for(admin_a).get(reverse("alignment:org-settings", args=[org_a.slug]))
    assert b"Save escalation settings" in page.content


# --- pages ------------------------------------------------------------------------------------


def url(name, org, *args):
    return reverse(f"roadmap:{name}", args=[org.slug, *args])


def test_support_raises_from_the_form_and_lands_on_the_escalation(org_a, world, client_for):
    client = client_for(world["support"])
    response = client.post(
        url("escalation-raise", org_a),
        {
            "title": "Dashboards blank",
            "ticket_ref": "ZD-9",
            "accounts": [world["acme"].pk, world["renewing"].pk],
            "product_area": world["area"].pk,
        },
        headers={"HX-Request": "true"},
    )
    with tenant_context(org_a):
        escalation = Escalation.objects.for_org(org_a).get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("escalation-detail", org_a, escalation.pk)
    assert escalation.severity == "P1"
    page = client.get(url("escalation-detail", org_a, escalation.pk))
    assert b"Renewco renews in" in page.content
    assert b"Dashboards blank" in page.content


def test_the_raise_form_shows_errors_inline_and_keeps_the_picked_accounts(org_a, world, client_for):
    response = client_for(world["support"]).post(
        url("escalation-raise", org_a),
        {"title": "", "accounts": [world["gamma"].pk]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert b"Give the escalation a title" not in response.content  # the form catches it first
    assert b"This field is required" in response.content
    assert b"Gamma" in response.content
    assert b'name="accounts" value="%d"' % world["gamma"].pk in response.content


def test_the_raise_form_needs_an_account(org_a, world, client_for):
    response = client_for(world["support"]).post(
        url("escalation-raise", org_a), {"title": "Broken"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert b"Pick at least one affected account." in response.content


def test_picking_accounts_shows_the_severity_and_why(org_a, world, client_for):
    client = client_for(world["support"])
    picker = url("escalation-accounts", org_a)

    search = client.get(picker, {"q": "Renew", "accounts": [world["acme"].pk]})
    picked = client.get(picker, {"accounts": [world["acme"].pk, world["renewing"].pk]})
    cited = client.get(
        url("escalation-preview", org_a), {"accounts": [world["acme"].pk], "customer_cited": "on"}
    )

    assert b"Renewco" in search.content and b"Acme" not in search.content
    assert b"Renewco renews in" in picked.content
    assert b'hx-swap-oob="true"' in picked.content
    assert b"The customer cited it" in cited.content


def test_a_pmm_cannot_use_the_picker(org_a, make_member, client_for):
    pmm = make_member(org_a, Role.PMM)
    response = client_for(pmm).get(url("escalation-accounts", org_a), {"q": "a"})
    assert response.status_code == 403


def test_a_pm_overrides_from_the_page_and_a_missing_reason_shows_inline(
    org_a, pm_a, world, client_for
):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    client = client_for(pm_a)
    target = url("escalation-override", org_a, escalation.pk)

    refused = client.post(target, {"severity": "P1"}, headers={"HX-Request": "true"})
    saved = client.post(target, {"severity": "P1", "reason": "Strategic logo"})

    assert refused.status_code == 422
    assert b"Say why it is P1 when the rules say P3." in refused.content
    assert saved.status_code == 302
    page = client.get(url("escalation-detail", org_a, escalation.pk))
    assert b"Strategic logo" in page.content


def test_a_csm_cannot_override_or_move_status(org_a, csm_a, world, client_for):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    client = client_for(csm_a)
    assert client.post(url("escalation-override", org_a, escalation.pk), {}).status_code == 403
    assert client.post(url("escalation-status", org_a, escalation.pk), {}).status_code == 403


def test_a_pm_moves_it_to_in_development_from_the_page(org_a, pm_a, csm_a, world, client_for):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    response = client_for(pm_a).post(
        url("escalation-status", org_a, escalation.pk), {"status": "in_development"}
    )
    assert response.status_code == 302
    assert ("escalation.status", "Casey CSM") in notes(org_a, "escalation.status")


def test_adding_and_removing_accounts_from_the_page(org_a, world, client_for):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    client = client_for(world["support"])
    client.post(
        url("escalation-account-add", org_a, escalation.pk), {"account": world["renewing"].pk}
    )
    with tenant_context(org_a):
        escalation.refresh_from_db()
    assert escalation.severity == "P1"
    client.post(url("escalation-account-remove", org_a, escalation.pk, world["renewing"].pk))
    with tenant_context(org_a):
        escalation.refresh_from_db()
    assert escalation.severity == "P3"


def test_the_list_filters_by_severity_and_mine(org_a, csm_a, world, client_for):
    raise_(org_a, world["support"], [world["renewing"]], title="Renewal blocker")
    raise_(org_a, world["support"], [world["acme"]], title="Casey's small one")
    client = client_for(csm_a)

    p1 = client.get(url("escalation-list", org_a), {"status": "open", "severity": "P1"})
    mine = client.get(url("escalation-list", org_a), {"status": "open", "mine": "on"})

    assert b"Renewal blocker" in p1.content and b"Casey&#x27;s small one" not in p1.content
    assert b"Casey&#x27;s small one" in mine.content and b"Renewal blocker" not in mine.content


def test_the_list_costs_the_same_queries_for_many_escalations(
    org_a, world, client_for, django_assert_max_num_queries
):
    raise_(org_a, world["support"], [world["acme"]])
    client = client_for(world["support"])
    with django_assert_max_num_queries(20) as few:
        client.get(url("escalation-list", org_a))
    for i in range(8):
        raise_(org_a, world["support"], [world["acme"], world["beta"]], title=f"Issue {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("escalation-list", org_a))
    assert response.status_code == 200


def test_the_weekly_review_lists_open_p1_and_p2_by_severity_then_arr(
    org_a, pm_a, world, client_for, django_assert_max_num_queries
):
    small_p1 = raise_(org_a, world["support"], [world["renewing"]], title="Small P1")
    big_p1 = raise_(org_a, world["support"], [world["beta"], world["gamma"]], title="Big P1")
    p2 = raise_(
        org_a,
        world["support"],
        AccountFactory.create_batch(5, organization=org_a, arr=Decimal("1000")),
        title="Wide P2",
    )
    raise_(org_a, world["support"], [world["acme"]], title="Lonely P3")
    resolved = raise_(org_a, world["support"], [world["renewing"]], title="Done P1")
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=resolved, status=EscalationStatus.RESOLVED
        )
    assert p2.severity == "P2"
    client = client_for(pm_a)

    with django_assert_max_num_queries(20):
        response = client.get(url("escalation-review", org_a))

    review = response.context["review"]
    assert [e.pk for e in review.escalations] == [big_p1.pk, small_p1.pk, p2.pk]
    assert review.totals.count == 3
    assert review.totals.arr == Decimal("275000")
    assert review.totals.by_severity["P1"] == {"count": 2, "arr": Decimal("270000")}
    assert b"Lonely P3" not in response.content and b"Done P1" not in response.content


def test_the_weekly_review_query_count_does_not_grow(
    org_a, pm_a, world, client_for, django_assert_max_num_queries
):
    raise_(org_a, world["support"], [world["renewing"]])
    client = client_for(pm_a)
    with django_assert_max_num_queries(20) as few:
        client.get(url("escalation-review", org_a))
    for i in range(6):
        raise_(org_a, world["support"], [world["gamma"], world["beta"]], title=f"Big {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("escalation-review", org_a))


def test_the_detail_page_explains_the_clock_and_accounts(org_a, pm_a, world, client_for):
    escalation = raise_(org_a, world["support"], [world["acme"]])
    with time_machine.travel(datetime.datetime(2026, 3, 16, 15, 0, tzinfo=UTC), tick=False):
        due_soon = client_for(pm_a).get(url("escalation-detail", org_a, escalation.pk))
    with time_machine.travel(datetime.datetime(2026, 3, 19, 15, 0, tzinfo=UTC), tick=False):
        late = client_for(pm_a).get(url("escalation-detail", org_a, escalation.pk))
    assert b"due in 2 business days" in due_soon.content
    assert b"overdue by 1 business day" in late.content
    assert b"$40,000" in late.content


def test_the_demo_seed_creates_escalations_once(org_a, csm_a, pm_a, world):
    members = {"support": world["support"], "csm": csm_a, "pm": pm_a, "hop": world["head"]}
    with tenant_context(org_a):
        first = seed(org=org_a, members=members, rng=random.Random(1))
        again = seed(org=org_a, members=members, rng=random.Random(1))
        statuses = set(Escalation.objects.for_org(org_a).values_list("status", flat=True))
    assert (first, again) == (5, 0)
    assert statuses == {"open", "acknowledged", "in_development", "resolved"}


def test_the_detail_page_explains_on_todays_figures_and_tells_the_history(
    org_a, pm_a, world, client_for
):
    escalation = raise_(org_a, world["support"], [world["renewing"]])
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.IN_DEVELOPMENT
        )
    ten_days_later = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
    sixty_days_later = datetime.datetime(2026, 5, 3, 15, 0, tzinfo=UTC)
    with time_machine.travel(ten_days_later, tick=False):
        soon = client_for(pm_a).get(url("escalation-detail", org_a, escalation.pk))
    with time_machine.travel(sixty_days_later, tick=False):
        past = client_for(pm_a).get(url("escalation-detail", org_a, escalation.pk))

    assert b"Renewco renews in 32 days" in soon.content
    assert b"Moved from open to in development" in soon.content
    assert b"Raised as P1" in soon.content
    assert b"On today's figures the rules say <strong>P3</strong>" in past.content

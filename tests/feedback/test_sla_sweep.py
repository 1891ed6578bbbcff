import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections

from alignment.models import Notification, Role
from alignment.tenancy import cross_tenant_system_context, tenant_context
from feedback import services
from feedback.sla_sweep import triage_sla_sweep
from tests.factories import AccountFactory, ProductAreaFactory

UTC = datetime.UTC
LOGGED = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # Wed 10:00 New York: due Wed 11th


@pytest.fixture
def setup(org_a, csm_a, pm_a, make_member):
    head = make_member(org_a, Role.HEAD_OF_PRODUCT)
    area = ProductAreaFactory(pm=pm_a, name="Integrations")
    account = AccountFactory(csm=csm_a, arr=Decimal("90000"))
    with tenant_context(org_a):
        feedback = services.feedback_log(
            org=org_a,
            actor=csm_a,
            account=account,
            verbatim="Need SF",
            product_area=area,
            logged_at=LOGGED,
        )
    return feedback, head


def _kinds(org):
    with tenant_context(org):
        return sorted(Notification.objects.values_list("kind", "recipient__role"))


def test_nothing_is_sent_before_the_reminder_moment(org_a, setup):
    result = triage_sla_sweep(now=datetime.datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    assert (result.reminders, result.breaches) == (0, 0)


def test_the_owning_pm_is_reminded_once_a_business_day_before(org_a, setup):
    moment = datetime.datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert triage_sla_sweep(now=moment).reminders == 1
    assert triage_sla_sweep(now=moment + datetime.timedelta(minutes=5)).reminders == 0
    assert _kinds(org_a) == [("sla.reminder", "pm")]


def test_at_breach_the_pm_and_the_head_of_product_are_told_once(org_a, setup):
    moment = datetime.datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    first = triage_sla_sweep(now=moment)
    again = triage_sla_sweep(now=moment)
    assert (first.reminders, first.breaches) == (1, 1)
    assert (again.reminders, again.breaches) == (0, 0)
    assert _kinds(org_a) == [
        ("sla.breach", "head_of_product"),
        ("sla.breach", "pm"),
        ("sla.reminder", "pm"),
    ]


def test_triaged_feedback_is_never_chased(org_a, pm_a, setup):
    feedback, _ = setup
    with tenant_context(org_a):
        services.feedback_triage(
            org=org_a, actor=pm_a, feedback=feedback, new_theme=services.NewTheme(title="SF")
        )
    result = triage_sla_sweep(now=datetime.datetime(2026, 4, 1, tzinfo=UTC))
    assert (result.reminders, result.breaches) == (0, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent claims need real row locks"
)
def test_two_sweeps_running_at_once_send_each_notice_exactly_once(org_a, csm_a, pm_a, make_member):
    make_member(org_a, Role.HEAD_OF_PRODUCT)
    area = ProductAreaFactory(pm=pm_a, name="Integrations")
    with tenant_context(org_a):
        for i in range(20):
            services.feedback_log(
                org=org_a,
                actor=csm_a,
                account=AccountFactory(csm=csm_a),
                verbatim=f"ask {i}",
                product_area=area,
                logged_at=LOGGED,
            )
    moment = datetime.datetime(2026, 3, 12, tzinfo=UTC)
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(triage_sla_sweep(now=moment))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    with time_machine.travel(moment, tick=True):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(r.reminders for r in results) == 20
    assert sum(r.breaches for r in results) == 20
    with cross_tenant_system_context():
        # 20 reminders to the PM, 20 breaches each to the PM and the Head of Product.
        assert Notification.objects.filter(kind="sla.reminder").count() == 20
        assert Notification.objects.filter(kind="sla.breach").count() == 40

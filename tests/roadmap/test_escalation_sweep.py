import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections

from alignment.models import Account, Notification, Role
from alignment.tenancy import cross_tenant_system_context, tenant_context
from roadmap import services_escalations as services
from roadmap.escalation_sweep import escalation_breach_sweep
from roadmap.models import EscalationStatus
from tests.factories import AccountFactory, ProductAreaFactory

UTC = datetime.UTC
RAISED = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # Wed 10:00 New York
# P3 (default 10 business days): due Wed 18 March 10:00 New York = 14:00 UTC (DST from 8th).
P3_DUE = datetime.datetime(2026, 3, 18, 14, 0, tzinfo=UTC)


@pytest.fixture
def head(org_a, make_member):
    return make_member(org_a, Role.HEAD_OF_PRODUCT)


def _raise(org, actor, area=None, **kwargs):
    with tenant_context(org):
        existing = Account.objects.for_org(org).count()
    if existing < 20:  # a customer base, so one affected account is isolated (P3)
        AccountFactory.create_batch(20 - existing, organization=org, arr=Decimal("1000"))
    account = kwargs.pop("account", None) or AccountFactory(organization=org, arr=Decimal("40000"))
    with tenant_context(org):
        return services.escalation_raise(
            org=org,
            actor=actor,
            title="Exports time out",
            accounts=[account],
            product_area=area,
            now=RAISED,
            **kwargs,
        )


def _breaches(org):
    with tenant_context(org):
        return sorted(
            Notification.objects.for_org(org)
            .filter(kind="escalation.breach")
            .values_list("recipient__role", flat=True)
        )


def test_nothing_is_sent_before_the_response_is_due(org_a, csm_a, pm_a, head):
    escalation = _raise(org_a, csm_a, ProductAreaFactory(pm=pm_a))
    assert escalation.due_at == P3_DUE

    result = escalation_breach_sweep(now=P3_DUE - datetime.timedelta(minutes=1))

    assert result.breaches == 0
    assert _breaches(org_a) == []


def test_at_breach_the_pm_and_the_head_of_product_are_told_once(org_a, csm_a, pm_a, head):
    _raise(org_a, csm_a, ProductAreaFactory(pm=pm_a))

    first = escalation_breach_sweep(now=P3_DUE)
    again = escalation_breach_sweep(now=P3_DUE + datetime.timedelta(minutes=5))

    assert (first.breaches, again.breaches) == (1, 0)
    assert _breaches(org_a) == ["head_of_product", "pm"]


def test_without_an_owning_pm_the_head_of_product_alone_is_told(org_a, csm_a, head):
    _raise(org_a, csm_a)

    escalation_breach_sweep(now=P3_DUE)

    assert _breaches(org_a) == ["head_of_product"]


def test_an_acknowledged_escalation_is_never_chased(org_a, csm_a, pm_a, head):
    escalation = _raise(org_a, csm_a, ProductAreaFactory(pm=pm_a))
    with tenant_context(org_a):
        services.escalation_acknowledge(org=org_a, actor=pm_a, escalation=escalation)

    assert escalation_breach_sweep(now=P3_DUE + datetime.timedelta(days=30)).breaches == 0
    assert _breaches(org_a) == []


def test_a_p1_is_due_after_one_business_day(org_a, csm_a, pm_a, head):
    _raise(org_a, csm_a, ProductAreaFactory(pm=pm_a), customer_cited=True)
    thursday = datetime.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)

    assert escalation_breach_sweep(now=thursday - datetime.timedelta(seconds=1)).breaches == 0
    assert escalation_breach_sweep(now=thursday).breaches == 1


def test_each_organization_hears_only_about_its_own(org_a, org_b, csm_a, csm_b, make_member):
    head_a = make_member(org_a, Role.HEAD_OF_PRODUCT)
    head_b = make_member(org_b, Role.HEAD_OF_PRODUCT)
    _raise(org_a, csm_a)
    _raise(org_b, csm_b)

    assert escalation_breach_sweep(now=P3_DUE).breaches == 2

    with cross_tenant_system_context():
        recipients = set(
            Notification.objects.filter(kind="escalation.breach").values_list(
                "organization_id", "recipient_id"
            )
        )
    assert recipients == {(org_a.pk, head_a.pk), (org_b.pk, head_b.pk)}


def test_the_breach_notice_explains_the_severity(org_a, csm_a, pm_a, head):
    account = AccountFactory(organization=org_a, name="Initech", arr=Decimal("40000"))
    _raise(org_a, csm_a, ProductAreaFactory(pm=pm_a), account=account, customer_cited=True)

    escalation_breach_sweep(now=datetime.datetime(2026, 3, 6, tzinfo=UTC))

    with tenant_context(org_a):
        notice = Notification.objects.for_org(org_a).get(kind="escalation.breach", recipient=pm_a)
    assert notice.title == "P1 escalation overdue: Exports time out"
    assert "The customer cited it" in notice.body
    assert "within 1 business day" in notice.body


def test_resolving_without_acknowledging_also_stops_the_clock(org_a, csm_a, pm_a, head):
    escalation = _raise(org_a, csm_a, ProductAreaFactory(pm=pm_a))
    with tenant_context(org_a):
        services.escalation_set_status(
            org=org_a, actor=pm_a, escalation=escalation, status=EscalationStatus.RESOLVED
        )

    assert escalation_breach_sweep(now=P3_DUE).breaches == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent claims need real row locks"
)
def test_two_sweeps_running_at_once_send_each_notice_exactly_once(org_a, csm_a, pm_a, head):
    area = ProductAreaFactory(pm=pm_a)
    for _ in range(15):
        _raise(org_a, csm_a, area)
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(escalation_breach_sweep(now=P3_DUE))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    with time_machine.travel(P3_DUE, tick=True):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(r.breaches for r in results) == 15
    with cross_tenant_system_context():
        # 15 breaches, each to the PM and the Head of Product.
        assert Notification.objects.filter(kind="escalation.breach").count() == 30

"""The escalation breach sweep: when an escalation's response time passes with no response
from Product, its owning PM and the organization's Heads of Product are told, exactly once,
however often or concurrently the sweep runs.

Cost follows the number of escalations that are due, not how many exist: the candidates come
from the partial index on ``due_at`` that holds only escalations nobody has responded to and
whose breach notice has not gone out (``escalation_breach_due_idx``). Each escalation is
claimed with a conditional UPDATE before anything is written; a second sweep racing the first
finds the claim taken and moves on, and the notifications' dedupe keys would refuse a
duplicate even then. Modelled on feedback/sla_sweep.py.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from alignment.models import Membership, Organization, Role
from alignment.services.audit import audit_source
from alignment.services.notifications import notification_create
from alignment.tenancy import cross_tenant_system_context, tenant_context
from roadmap.models import Escalation
from roadmap.services_escalations import response_days

BATCH = 500


@dataclass
class SweepResult:
    breaches: int = 0


def _candidates(now: datetime.datetime) -> list[tuple[int, int]]:
    # A system job across organizations: the one place it reads them all, and only ids.
    with cross_tenant_system_context():
        return list(
            Escalation.objects.filter(
                due_at__lte=now, responded_at__isnull=True, breach_notified_at__isnull=True
            )
            .order_by("due_at")
            .values_list("organization_id", "pk")[:BATCH]
        )


def _claim(org_id: int, pk: int, now: datetime.datetime) -> Escalation | None:
    # Only the sweep whose UPDATE flips breach_notified_at from NULL sends; a response that
    # landed since the candidates were read (responded_at set) is not chased.
    claimed = (
        Escalation.objects.for_org(org_id)
        .filter(pk=pk, responded_at__isnull=True, breach_notified_at__isnull=True)
        .update(breach_notified_at=now)
    )
    if not claimed:
        return None
    return (
        Escalation.objects.for_org(org_id)
        .select_related("pm__user", "product_area", "organization")
        .get(pk=pk)
    )


def _recipients(org: Organization, escalation: Escalation) -> list[Membership]:
    recipients: dict[int, Membership] = {
        m.pk: m
        for m in Membership.objects.for_org(org).filter(role=Role.HEAD_OF_PRODUCT, is_active=True)
    }
    if escalation.pm is not None and escalation.pm.is_active:
        recipients[escalation.pm.pk] = escalation.pm
    return list(recipients.values())


def escalation_breach_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    with audit_source("task", label="Escalation sweep"):
        for org_id, pk in _candidates(now):
            with tenant_context(org_id):
                escalation = _claim(org_id, pk, now)
                if escalation is None:
                    continue
                org = escalation.organization
                days = response_days(org, escalation.severity)
                owner = escalation.pm.display_name if escalation.pm else "no owning PM"
                body = (
                    f"Not responded to within {days} business day{'s' if days != 1 else ''} "
                    f"({escalation.severity}, {owner}).\n"
                    + "\n".join(f"- {reason}" for reason in escalation.severity_reasons)
                    + "\n\nAcknowledge it to stop the clock."
                )
                for member in _recipients(org, escalation):
                    notification_create(
                        org=org,
                        recipient=member,
                        kind="escalation.breach",
                        title=f"{escalation.severity} escalation overdue: {escalation.title}"[:200],
                        body=body,
                        url=reverse(
                            "roadmap:escalation-detail",
                            kwargs={"org_slug": org.slug, "pk": escalation.pk},
                        ),
                        dedupe_key=f"esc-breach:{escalation.pk}:{member.pk}",
                    )
                result.breaches += 1
    return result

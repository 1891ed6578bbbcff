"""The triage SLA sweep: a reminder one business day before the due moment, and a breach
notice when it passes. Each is sent exactly once, however often or concurrently it runs.

Cost follows the number of items that are due, not the backlog: the candidates come from
partial indexes on ``remind_at`` and ``due_at`` that contain only untriaged feedback whose
notice has not gone out. Each item is claimed with a conditional UPDATE before anything is
written; a second sweep racing the first finds the claim taken and moves on, and the
notifications' dedupe keys would refuse a duplicate even then.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alignment.models import Membership, Organization, Role
from alignment.services.audit import audit_source
from alignment.services.notifications import notification_create
from alignment.tenancy import cross_tenant_system_context, tenant_context
from feedback.models import Feedback
from feedback.services import calendar_for

BATCH = 500


@dataclass
class SweepResult:
    reminders: int = 0
    breaches: int = 0


def _candidates(field: str, sent_field: str, now: datetime.datetime) -> list[tuple[int, int]]:
    # A system job across organizations: the one place it reads them all, and only ids.
    with cross_tenant_system_context():
        return list(
            Feedback.objects.filter(
                Q(**{f"{field}__lte": now}),
                triaged_at__isnull=True,
                archived_at__isnull=True,
                **{f"{sent_field}__isnull": True},
            )
            .order_by(field)
            .values_list("organization_id", "pk")[:BATCH]
        )


def _heads_of_product(org: Organization) -> list[Membership]:
    return list(Membership.objects.for_org(org).filter(role=Role.HEAD_OF_PRODUCT, is_active=True))


def _claim(org_id: int, pk: int, sent_field: str, now: datetime.datetime) -> Feedback | None:
    claimed = (
        Feedback.objects.for_org(org_id)
        .filter(pk=pk, triaged_at__isnull=True, **{f"{sent_field}__isnull": True})
        .update(**{sent_field: now})
    )
    if not claimed:
        return None
    return (
        Feedback.objects.for_org(org_id)
        .select_related("account", "product_area__pm__user", "organization")
        .get(pk=pk)
    )


def _describe(feedback: Feedback) -> str:
    area = feedback.product_area.name if feedback.product_area else "no product area"
    return (
        f"{feedback.account.name} ({area}): “{feedback.verbatim[:160]}”\n"
        f"Put it into a theme to acknowledge it."
    )


def triage_sla_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    with audit_source("task", label="SLA sweep"):
        for org_id, pk in _candidates("remind_at", "reminder_sent_at", now):
            with tenant_context(org_id):
                feedback = _claim(org_id, pk, "reminder_sent_at", now)
                if feedback is None:
                    continue
                org = feedback.organization
                recipients = (
                    [feedback.product_area.pm]
                    if feedback.product_area and feedback.product_area.pm
                    else _heads_of_product(org)
                )
                label = calendar_for(org).describe(feedback.due_at, now).label
                for member in recipients:
                    notification_create(
                        org=org,
                        recipient=member,
                        kind="sla.reminder",
                        title=f"Triage {label}: {feedback.account.name}",
                        body=_describe(feedback),
                        url=reverse("feedback:triage-queue", kwargs={"org_slug": org.slug}),
                        dedupe_key=f"sla-remind:{feedback.pk}:{member.pk}",
                    )
                result.reminders += 1
        for org_id, pk in _candidates("due_at", "breach_notified_at", now):
            with tenant_context(org_id):
                feedback = _claim(org_id, pk, "breach_notified_at", now)
                if feedback is None:
                    continue
                org = feedback.organization
                recipients = {m.pk: m for m in _heads_of_product(org)}
                if feedback.product_area and feedback.product_area.pm:
                    recipients[feedback.product_area.pm.pk] = feedback.product_area.pm
                for member in recipients.values():
                    notification_create(
                        org=org,
                        recipient=member,
                        kind="sla.breach",
                        title=f"Triage SLA breached: {feedback.account.name}",
                        body=f"Not acknowledged within {org.triage_sla_days} business days.\n\n"
                        + _describe(feedback),
                        url=reverse("feedback:triage-queue", kwargs={"org_slug": org.slug}),
                        dedupe_key=f"sla-breach:{feedback.pk}:{member.pk}",
                    )
                result.breaches += 1
    return result

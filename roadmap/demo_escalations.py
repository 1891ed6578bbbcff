"""Demo escalations for ``seed_demo``: one of each severity, at different points of their
life (open and overdue, acknowledged, in development, resolved, overridden). Idempotent: an
escalation whose title already exists is left alone. Created through the services, so the
severities, reasons, clocks and notifications are the real ones."""

from __future__ import annotations

import datetime
import math
import random

from django.utils import timezone

from alignment.models import Account, LifecycleStage, Membership, Organization, ProductArea
from roadmap import services_escalations as services
from roadmap.models import Escalation, EscalationStatus


def _area(org: Organization, name: str) -> ProductArea | None:
    return ProductArea.objects.for_org(org).filter(name=name).first()


def seed(*, org: Organization, members: dict[str, Membership], rng: random.Random) -> int:
    """Create the demo escalations that are missing; returns how many were created."""
    existing = set(Escalation.objects.for_org(org).values_list("title", flat=True))
    now = timezone.now()
    today = timezone.localdate(now, org.tzinfo)
    accounts = list(
        Account.objects.for_org(org)
        .exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .order_by("-arr", "pk")
    )
    if len(accounts) < 4:
        return 0
    window_end = today + datetime.timedelta(days=90)
    renewing = [a for a in accounts if a.renewal_date and today <= a.renewal_date <= window_end]
    quiet = [
        a
        for a in reversed(accounts)
        if not (a.renewal_date and today <= a.renewal_date <= window_end)
    ]
    if len(quiet) < 2:
        return 0
    widespread = quiet[: min(len(quiet), math.floor(len(accounts) / 10) + 1)]
    support, csm = members["support"], members["csm"]
    hop = members["hop"]

    plans = [
        {
            "title": "SSO logins fail after the IdP certificate rotation",
            "ticket_ref": "ZD-48211",
            "accounts": renewing[:1] or accounts[:1],
            "area": "Permissions & Admin",
            "raised_by": support,
            "days_ago": 3,
            "description": "Users get 'invalid signature' on login since Monday. Support "
            "re-uploaded the certificate; the error persists for SAML users only.",
        },
        {
            "title": "Scheduled reports arrive empty for large workspaces",
            "ticket_ref": "ZD-48302",
            "accounts": accounts[:2],
            "area": "Reporting & Analytics",
            "raised_by": csm,
            "days_ago": 6,
            "status": EscalationStatus.IN_DEVELOPMENT,
            "description": "Reports with more than 50k rows are sent as an empty CSV.",
        },
        {
            "title": "Salesforce sync drops custom fields",
            "ticket_ref": "ZD-48377",
            "accounts": widespread,
            "area": "Integrations",
            "raised_by": support,
            "days_ago": 2,
            "status": EscalationStatus.ACKNOWLEDGED,
            "description": "Custom picklist fields are blank after each nightly sync.",
        },
        {
            "title": "Mobile app crashes when opening an approval",
            "ticket_ref": "ZD-48410",
            "accounts": quiet[:1],
            "area": "Mobile",
            "raised_by": support,
            "days_ago": 1,
            "override": (
                "P2",
                "Crash reports show it on every Android 15 device, not one customer.",
            ),
        },
        {
            "title": "Invoice PDF shows the wrong tax line",
            "ticket_ref": "ZD-47990",
            "accounts": quiet[1:2],
            "area": "Billing & Usage",
            "raised_by": csm,
            "days_ago": 12,
            "cited": True,
            "status": EscalationStatus.RESOLVED,
            "description": "The customer's finance team raised it on the renewal call.",
        },
    ]
    created = 0
    for plan in plans:
        if plan["title"] in existing or not plan["accounts"]:
            continue
        raised_at = now - datetime.timedelta(days=plan["days_ago"], hours=rng.randint(0, 5))
        escalation = services.escalation_raise(
            org=org,
            actor=plan["raised_by"],
            title=plan["title"],
            ticket_ref=plan["ticket_ref"],
            description=plan.get("description", ""),
            customer_cited=plan.get("cited", False),
            product_area=_area(org, plan["area"]),
            accounts=plan["accounts"],
            now=raised_at,
        )
        actor = escalation.pm or hop
        if "override" in plan:
            severity, reason = plan["override"]
            if severity != escalation.computed_severity:
                services.escalation_override_severity(
                    org=org, actor=actor, escalation=escalation, severity=severity, reason=reason
                )
        target = plan.get("status")
        if target:
            for status in services.allowed_next_statuses(EscalationStatus.OPEN):
                services.escalation_set_status(
                    org=org,
                    actor=actor,
                    escalation=escalation,
                    status=status,
                    now=raised_at + datetime.timedelta(hours=4),
                )
                if status == target:
                    break
        created += 1
    return created

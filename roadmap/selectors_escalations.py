"""Reads of escalations: the list with its filters, one escalation with its accounts, the
weekly review of open P1 and P2, and the live severity preview of the raise form. Every
selector takes the organization; another organization's escalation is simply missing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from alignment.models import Account, AuditEvent, Membership, Organization
from roadmap.models import Escalation, EscalationAccount, EscalationStatus, Severity
from roadmap.services_escalations import severity_for
from roadmap.severity import SeverityResult, renewal_days

REVIEW_SEVERITIES = (Severity.P1, Severity.P2)
OPEN_STATUSES = (
    EscalationStatus.OPEN,
    EscalationStatus.ACKNOWLEDGED,
    EscalationStatus.IN_DEVELOPMENT,
)
PICK_LIMIT = 200


def _with_accounts(org: Organization, queryset: QuerySet[Escalation]) -> QuerySet[Escalation]:
    return queryset.prefetch_related(
        Prefetch(
            "escalation_accounts",
            queryset=EscalationAccount.objects.for_org(org)
            .select_related("account__csm__user")
            .order_by("-account__arr", "account__name"),
        )
    )


def escalation_list(
    *,
    org: Organization,
    status: str = "",
    severity: str = "",
    mine_for: Membership | None = None,
) -> QuerySet[Escalation]:
    """Escalations, most severe first, then the soonest due. ``status`` may be "open" (every
    unresolved status) or one status; ``mine_for`` keeps those the member owns as PM, raised,
    or holds an affected account of as CSM."""
    queryset = Escalation.objects.for_org(org).select_related(
        "pm__user", "raised_by__user", "product_area"
    )
    if status == "open":
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status in EscalationStatus.values:
        queryset = queryset.filter(status=status)
    if severity in Severity.values:
        queryset = queryset.filter(severity=severity)
    if mine_for is not None:
        owns_account = Exists(
            EscalationAccount.objects.for_org(org).filter(
                escalation=OuterRef("pk"), account__csm=mine_for
            )
        )
        queryset = queryset.filter(Q(pm=mine_for) | Q(raised_by=mine_for) | owns_account)
    return _with_accounts(org, queryset).order_by("severity", "due_at", "pk")


def escalation_get(*, org: Organization, pk: int) -> Escalation | None:
    return (
        _with_accounts(
            org,
            Escalation.objects.for_org(org).select_related(
                "pm__user", "raised_by__user", "product_area", "overridden_by__user"
            ),
        )
        .filter(pk=pk)
        .first()
    )


def escalation_history(*, org: Organization, escalation: Escalation) -> list[AuditEvent]:
    """What happened to it, newest first, from the audit log."""
    return list(
        AuditEvent.objects.for_org(org)
        .filter(target_type="escalation", target_id=str(escalation.pk))
        .order_by("-created_at", "-pk")[:50]
    )


@dataclass
class ReviewTotals:
    count: int = 0
    arr: Decimal = Decimal("0")
    by_severity: dict[str, dict[str, object]] = field(default_factory=dict)


@dataclass
class WeeklyReview:
    escalations: list[Escalation]
    totals: ReviewTotals


def escalation_weekly_review(*, org: Organization) -> WeeklyReview:
    """Open P1 and P2 escalations, P1 first and the largest affected ARR first within each,
    with totals per severity. Three queries whatever the size: the rows, their accounts,
    the totals. The ARR is the stored affected ARR (each distinct account once, churned
    accounts excluded), refreshed whenever the severity is recomputed."""
    base = Escalation.objects.for_org(org).filter(
        status__in=OPEN_STATUSES, severity__in=REVIEW_SEVERITIES
    )
    rows = list(
        _with_accounts(org, base.select_related("pm__user", "product_area")).order_by(
            "severity", "-affected_arr", "due_at", "pk"
        )
    )
    totals = ReviewTotals()
    for row in base.values("severity").annotate(n=Count("pk"), arr=Sum("affected_arr")):
        totals.by_severity[row["severity"]] = {"count": row["n"], "arr": row["arr"]}
        totals.count += row["n"]
        totals.arr += row["arr"] or Decimal("0")
    for severity in REVIEW_SEVERITIES:
        totals.by_severity.setdefault(severity, {"count": 0, "arr": Decimal("0")})
    return WeeklyReview(escalations=rows, totals=totals)


def _ids(values: object) -> list[int]:
    ids: list[int] = []
    for value in values if isinstance(values, list | tuple) else [values]:
        try:
            pk = int(str(value))
        except (TypeError, ValueError):
            continue
        if pk > 0 and pk not in ids:
            ids.append(pk)
    return ids[:PICK_LIMIT]


def accounts_for_pick(*, org: Organization, ids: object) -> list[Account]:
    """The accounts a picker names, in the order picked; unknown or foreign ids are dropped."""
    wanted = _ids(ids)
    if not wanted:
        return []
    found = {
        a.pk: a
        for a in Account.objects.for_org(org).filter(pk__in=wanted).select_related("csm__user")
    }
    return [found[pk] for pk in wanted if pk in found]


@dataclass
class Preview:
    result: SeverityResult | None
    accounts: list[Account]


def escalation_severity_preview(
    *,
    org: Organization,
    accounts: list[Account],
    customer_cited: bool,
    now: datetime.datetime | None = None,
) -> Preview:
    """What the rules would say for this pick, before anything is saved."""
    if not accounts:
        return Preview(result=None, accounts=[])
    return Preview(
        result=severity_for(org=org, accounts=accounts, customer_cited=customer_cited, now=now),
        accounts=accounts,
    )


def account_renewal_days(
    org: Organization, account: Account, now: datetime.datetime | None = None
) -> int | None:
    """Days to the account's renewal when inside the 90-day window, for display."""
    today = timezone.localdate(now or timezone.now(), org.tzinfo)
    return renewal_days(account.renewal_date, today)

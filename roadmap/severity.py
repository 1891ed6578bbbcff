"""Escalation severity. Pure computation: no database, no clock (``today`` is passed in).

The rules, first match wins:

- ``P1`` (revenue at risk) when any of these holds:
  an affected account renews within 90 days (today through day 90 inclusive; a renewal date
  already past is stale CRM data and does not count), the customer cited the issue, or the
  affected ARR is strictly above the organization's threshold;
- ``P2`` (widespread) when strictly more than 10% of the organization's accounts are
  affected;
- ``P3`` (isolated) otherwise.

Churned accounts are not part of the customer base: they are left out of the denominator
(the organization's account count, which the caller passes without them) and, for the same
reason, out of everything else — a churned account has no ARR at risk, its renewal date is
moot, and it does not count towards the share of accounts affected. It is still listed on
the escalation, just not weighed. Affected ARR sums each distinct account once.

Every result explains itself: ``reasons`` are sentences a PM can read in a meeting ("Acme
renews in 42 days", "12 of 100 accounts affected (12%)"), and they also say why a higher
severity did not apply.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from alignment.templatetags.seam import money, money_short

RENEWAL_WINDOW_DAYS = 90
WIDESPREAD_SHARE = Decimal("0.10")  # "more than 10%" of the organization's accounts
CHURNED = "churned"
MAX_RENEWALS_LISTED = 3

P1, P2, P3 = "P1", "P2", "P3"


@dataclass(frozen=True)
class AffectedAccount:
    account_id: int
    name: str
    arr: Decimal
    renewal_date: datetime.date | None
    lifecycle_stage: str


@dataclass(frozen=True)
class SeverityResult:
    severity: str
    reasons: tuple[str, ...]
    affected_arr: Decimal
    affected_count: int  # distinct accounts, churned ones included (what the page lists)
    weighed_count: int  # distinct accounts that count towards the share (not churned)
    renewing: tuple[tuple[str, int], ...] = field(default=())  # (name, days) soonest first


def renewal_days(renewal_date: datetime.date | None, today: datetime.date) -> int | None:
    """Days until the renewal when it falls inside the window (0 = today), else None."""
    if renewal_date is None:
        return None
    days = (renewal_date - today).days
    return days if 0 <= days <= RENEWAL_WINDOW_DAYS else None


def is_widespread(affected: int, total: int) -> bool:
    """Strictly more than 10% of ``total``, in exact integer arithmetic (10 of 100 is not)."""
    return total > 0 and affected * 10 > total


def share_label(affected: int, total: int) -> str:
    if total <= 0:
        return "0%"
    percent = (Decimal(affected * 100) / Decimal(total)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    text = f"{percent:f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _renews_phrase(name: str, days: int) -> str:
    if days == 0:
        return f"{name} renews today"
    if days == 1:
        return f"{name} renews tomorrow"
    return f"{name} renews in {days} days"


def compute_severity(
    *,
    accounts: Iterable[AffectedAccount],
    customer_cited: bool,
    org_account_count: int,
    arr_threshold: Decimal,
    today: datetime.date,
    currency: str = "USD",
) -> SeverityResult:
    """Apply the rules above. ``org_account_count`` excludes churned accounts."""
    distinct: dict[int, AffectedAccount] = {}
    for account in accounts:
        distinct.setdefault(account.account_id, account)
    weighed = [a for a in distinct.values() if a.lifecycle_stage != CHURNED]
    affected_arr = sum((a.arr for a in weighed), Decimal("0"))
    renewing = sorted(
        (
            (a.name, days)
            for a in weighed
            if (days := renewal_days(a.renewal_date, today)) is not None
        ),
        key=lambda pair: (pair[1], pair[0]),
    )
    above_threshold = affected_arr > arr_threshold
    widespread = is_widespread(len(weighed), org_account_count)

    arr_text, threshold_text = _amounts(affected_arr, arr_threshold, currency)
    share_text = (
        f"{len(weighed)} of {org_account_count} account{'s' if org_account_count != 1 else ''} "
        f"affected ({share_label(len(weighed), org_account_count)})"
    )

    reasons: list[str] = []
    if renewing or customer_cited or above_threshold:
        severity = P1
        reasons.extend(_renews_phrase(name, days) for name, days in renewing[:MAX_RENEWALS_LISTED])
        if len(renewing) > MAX_RENEWALS_LISTED:
            more = len(renewing) - MAX_RENEWALS_LISTED
            reasons.append(
                f"{more} more affected account{'s' if more != 1 else ''} "
                f"renew{'s' if more == 1 else ''} within {RENEWAL_WINDOW_DAYS} days"
            )
        if customer_cited:
            reasons.append("The customer cited it")
        if above_threshold:
            reasons.append(f"Affected ARR {arr_text} is above the {threshold_text} threshold")
    elif widespread:
        severity = P2
        reasons.append(f"{share_text}: more than 10% of the customer base")
        reasons.append(_no_p1_reason(arr_text, threshold_text))
    else:
        severity = P3
        reasons.append(f"{share_text}: not more than 10% of the customer base")
        reasons.append(_no_p1_reason(arr_text, threshold_text))
    churned = len(distinct) - len(weighed)
    if churned:
        reasons.append(
            f"{churned} churned account{'s' if churned != 1 else ''} not weighed "
            "(no ARR at risk, not part of the customer base)"
        )
    return SeverityResult(
        severity=severity,
        reasons=tuple(reasons),
        affected_arr=affected_arr,
        affected_count=len(distinct),
        weighed_count=len(weighed),
        renewing=tuple(renewing),
    )


def _amounts(arr: Decimal, threshold: Decimal, currency: str) -> tuple[str, str]:
    """Compact amounts ($310K), or whole ones when compact would hide the difference."""
    short = money_short(arr, currency), money_short(threshold, currency)
    if short[0] == short[1] and arr != threshold:
        return money(arr, currency), money(threshold, currency)
    return short


def _no_p1_reason(arr_text: str, threshold_text: str) -> str:
    return (
        f"No affected account renews within {RENEWAL_WINDOW_DAYS} days, the customer did not "
        f"cite it, and affected ARR {arr_text} is not above the {threshold_text} threshold"
    )

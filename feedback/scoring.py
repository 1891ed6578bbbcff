"""The Customer Impact Score. Pure computation: no database, no clock.

    score = ARR at risk + per-account weight x distinct affected accounts

ARR at risk sums each distinct account's ARR once (two requests from one customer are one
customer), multiplied up when the account renews within the renewal window or is flagged at
risk (the larger multiplier applies; they do not compound). Churned accounts carry no ARR.
The per-account weight is small next to real ARR on purpose: one $300K account must outrank
five $40K accounts, so the weight has to stay below a quarter of that $100K gap per account.
Every score explains itself through ``lines`` (one per account) and ``as_dict()``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class ImpactWeights:
    per_account: Decimal = Decimal("5000")
    renewal_multiplier: Decimal = Decimal("1.5")
    at_risk_multiplier: Decimal = Decimal("2")
    renewal_window_days: int = 90


@dataclass(frozen=True)
class AccountSignal:
    account_id: int
    name: str
    arr: Decimal
    renewal_date: datetime.date | None
    lifecycle_stage: str


@dataclass(frozen=True)
class AccountLine:
    account_id: int
    name: str
    arr: Decimal
    multiplier: Decimal
    reason: str
    weighted_arr: Decimal


@dataclass(frozen=True)
class ImpactScore:
    score: Decimal
    arr_at_risk: Decimal
    account_count: int
    account_component: Decimal
    lines: tuple[AccountLine, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """The breakdown stored beside the score and shown on hover."""
        return {
            "score": str(self.score),
            "arr_at_risk": str(self.arr_at_risk),
            "account_count": self.account_count,
            "account_component": str(self.account_component),
            "accounts": [
                {
                    "id": line.account_id,
                    "name": line.name,
                    "arr": str(line.arr),
                    "multiplier": str(line.multiplier),
                    "reason": line.reason,
                    "weighted_arr": str(line.weighted_arr),
                }
                for line in self.lines[:25]
            ],
        }


def _multiplier(
    signal: AccountSignal, weights: ImpactWeights, today: datetime.date
) -> tuple[Decimal, str]:
    candidates: list[tuple[Decimal, str]] = [(Decimal("1"), "")]
    if signal.lifecycle_stage == "at_risk":
        candidates.append((weights.at_risk_multiplier, "at risk"))
    if signal.renewal_date is not None:
        days = (signal.renewal_date - today).days
        if 0 <= days <= weights.renewal_window_days:
            candidates.append((weights.renewal_multiplier, f"renews in {days} days"))
    return max(candidates, key=lambda item: item[0])


def impact_score(
    accounts: Iterable[AccountSignal], *, weights: ImpactWeights, today: datetime.date
) -> ImpactScore:
    distinct: dict[int, AccountSignal] = {}
    for signal in accounts:
        distinct.setdefault(signal.account_id, signal)
    lines = []
    for signal in distinct.values():
        if signal.lifecycle_stage == "churned":
            lines.append(
                AccountLine(signal.account_id, signal.name, signal.arr, ZERO, "churned", ZERO)
            )
            continue
        multiplier, reason = _multiplier(signal, weights, today)
        weighted = (signal.arr * multiplier).quantize(CENTS)
        lines.append(
            AccountLine(signal.account_id, signal.name, signal.arr, multiplier, reason, weighted)
        )
    lines.sort(key=lambda line: (-line.weighted_arr, line.account_id))
    arr_at_risk = sum((line.weighted_arr for line in lines), ZERO)
    account_component = (weights.per_account * len(distinct)).quantize(CENTS)
    return ImpactScore(
        score=(arr_at_risk + account_component).quantize(CENTS),
        arr_at_risk=arr_at_risk.quantize(CENTS),
        account_count=len(distinct),
        account_component=account_component,
        lines=tuple(lines),
    )

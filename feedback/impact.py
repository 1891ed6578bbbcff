"""Keeping stored impact figures current. Called by services whenever an input changes:
feedback attached to or detached from a theme, a theme merged, an account's ARR, renewal
date or lifecycle stage changed (the account form, the CSV import, the API).

Each recompute touches only what changed: one feedback, the themes an account's feedback
sits in. Nothing is recomputed on page views.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from alignment.models import Account, Organization
from feedback.models import Feedback, Theme
from feedback.scoring import AccountSignal, ImpactScore, ImpactWeights, impact_score

# The account fields the score reads: a change to any of them refreshes the scores.
IMPACT_FIELDS = frozenset({"arr", "renewal_date", "lifecycle_stage"})


def weights_for(org: Organization) -> ImpactWeights:
    return ImpactWeights(
        per_account=org.impact_per_account_weight,
        renewal_multiplier=org.impact_renewal_multiplier,
        at_risk_multiplier=org.impact_at_risk_multiplier,
        renewal_window_days=org.impact_renewal_window_days,
    )


def _signal(account: Account) -> AccountSignal:
    return AccountSignal(
        account_id=account.pk,
        name=account.name,
        arr=account.arr,
        renewal_date=account.renewal_date,
        lifecycle_stage=account.lifecycle_stage,
    )


def score_accounts(org: Organization, accounts: Iterable[Account]) -> ImpactScore:
    today = timezone.localdate(timezone=org.tzinfo)
    return impact_score((_signal(a) for a in accounts), weights=weights_for(org), today=today)


def feedback_refresh_impact(*, org: Organization, feedback: Feedback) -> None:
    score = score_accounts(org, [feedback.account])
    feedback.impact_score = score.score
    feedback.impact_breakdown = score.as_dict()
    Feedback.objects.for_org(org).filter(pk=feedback.pk).update(
        impact_score=score.score, impact_breakdown=feedback.impact_breakdown
    )


def themes_refresh_impact(*, org: Organization, theme_ids: Iterable[int]) -> None:
    """Recompute the stored impact of these themes from their distinct accounts."""
    ids = sorted({pk for pk in theme_ids if pk})
    if not ids:
        return
    live = Feedback.objects.for_org(org).filter(theme_id__in=ids, archived_at__isnull=True)
    counts = dict(live.values_list("theme_id").annotate(n=Count("id")).values_list("theme_id", "n"))
    pairs = set(live.values_list("theme_id", "account_id").distinct())
    account_ids = {account_id for _, account_id in pairs}
    accounts = {a.pk: a for a in Account.objects.for_org(org).filter(pk__in=account_ids)}
    for theme_id in ids:
        members = [accounts[a] for t, a in pairs if t == theme_id and a in accounts]
        score = score_accounts(org, members)
        Theme.objects.for_org(org).filter(pk=theme_id).update(
            impact_score=score.score,
            arr_at_risk=score.arr_at_risk,
            account_count=score.account_count,
            feedback_count=counts.get(theme_id, 0),
            impact_breakdown=score.as_dict(),
        )


def account_refresh_impact(*, org: Organization, account_ids: Iterable[int]) -> None:
    """An account's ARR, renewal date or stage changed: refresh its feedback and themes."""
    ids = list({pk for pk in account_ids if pk})
    if not ids:
        return
    # Only accounts that raised feedback carry any score: the rest cost one query in all.
    ids = list(
        Feedback.objects.for_org(org)
        .filter(account_id__in=ids)
        .values_list("account_id", flat=True)
        .distinct()
    )
    if not ids:
        return
    accounts = Account.objects.for_org(org).filter(pk__in=ids)
    for account in accounts:
        score = score_accounts(org, [account])
        Feedback.objects.for_org(org).filter(account=account).update(
            impact_score=score.score, impact_breakdown=score.as_dict()
        )
    theme_ids = (
        Feedback.objects.for_org(org)
        .filter(account_id__in=ids, theme__isnull=False)
        .values_list("theme_id", flat=True)
        .distinct()
    )
    themes_refresh_impact(org=org, theme_ids=list(theme_ids))

"""Keeping stored impact figures current. Called by services whenever an input changes:
feedback attached to or detached from a theme, a theme merged, an account's ARR, renewal
date or lifecycle stage changed (the account form, the CSV import, the API).

Each recompute touches only what changed: one feedback, the themes an account's feedback
sits in. Nothing is recomputed on page views.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from alignment.errors import ApplicationError
from alignment.models import Account, Membership, Organization
from alignment.services.audit import audit_record, diff, snapshot
from alignment.tenancy import tenant_context
from feedback.models import Feedback, Theme
from feedback.scoring import ZERO, AccountSignal, ImpactScore, ImpactWeights, impact_score

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


WEIGHT_FIELDS = (
    "impact_per_account_weight",
    "impact_renewal_multiplier",
    "impact_at_risk_multiplier",
    "impact_renewal_window_days",
)
# ARR must dominate count: one $300K account has to outrank five $40K accounts, which holds
# only while four extra accounts are worth less than the $100K ARR gap.
MAX_PER_ACCOUNT_WEIGHT = Decimal("25000")


def impact_weights_update(
    *,
    org: Organization,
    actor: Membership,
    per_account: Decimal,
    renewal_multiplier: Decimal,
    at_risk_multiplier: Decimal,
    renewal_window_days: int,
) -> Organization:
    """Change the organization's impact weights, then rescore everything after commit."""
    errors: dict[str, list[str]] = {}
    if not ZERO <= per_account < MAX_PER_ACCOUNT_WEIGHT:
        errors["impact_per_account_weight"] = [
            "Keep the per-account weight between 0 and 24,999 so ARR outweighs account count "
            "(one $300K account must outrank five $40K accounts)."
        ]
    for name, value in (
        ("impact_renewal_multiplier", renewal_multiplier),
        ("impact_at_risk_multiplier", at_risk_multiplier),
    ):
        if not Decimal("1") <= value <= Decimal("10"):
            errors[name] = ["A multiplier is between 1 (no effect) and 10."]
    if not 0 <= renewal_window_days <= 365:
        errors["impact_renewal_window_days"] = ["The renewal window is 0 to 365 days."]
    if errors:
        raise ApplicationError("Some weights are not valid.", field_errors=errors)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=org.pk)
        before = snapshot(org, WEIGHT_FIELDS)
        org.impact_per_account_weight = per_account
        org.impact_renewal_multiplier = renewal_multiplier
        org.impact_at_risk_multiplier = at_risk_multiplier
        org.impact_renewal_window_days = renewal_window_days
        changes = diff(before, snapshot(org, WEIGHT_FIELDS))
        if changes:
            org.save(update_fields=list(changes))
            audit_record(
                org=org,
                actor=actor.user,
                action="organization.impact_weights",
                target=org,
                changes=changes,
            )
            from feedback.tasks import rescore_organization_task

            org_id = org.pk
            transaction.on_commit(lambda: rescore_organization_task.delay(org_id=org_id))
    return org


def organization_rescore(*, org_id: int, batch: int = 1000) -> int:
    """Recompute every stored score of one organization (after its weights changed).

    Idempotent: running it twice writes the same figures. Works in batches of accounts,
    each in its own transaction, so a large organization never holds one long lock.
    """
    with tenant_context(org_id):
        org = Organization.objects.get(pk=org_id)
        account_ids = list(
            Feedback.objects.for_org(org_id).values_list("account_id", flat=True).distinct()
        )
    for start in range(0, len(account_ids), batch):
        with tenant_context(org_id):
            account_refresh_impact(org=org, account_ids=account_ids[start : start + batch])
    return len(account_ids)

import datetime
from decimal import Decimal

from feedback.scoring import AccountSignal, ImpactWeights, impact_score

TODAY = datetime.date(2026, 6, 1)
W = ImpactWeights()


def acct(i, arr, *, renews=None, stage="onboarded"):
    return AccountSignal(i, f"Account {i}", Decimal(arr), renews, stage)


def test_one_300k_account_outranks_five_40k_accounts():
    big = impact_score([acct(1, 300_000)], weights=W, today=TODAY)
    many = impact_score([acct(i, 40_000) for i in range(2, 7)], weights=W, today=TODAY)
    assert big.score > many.score


def test_each_distinct_account_counts_once():
    score = impact_score(
        [acct(1, 100_000), acct(1, 100_000), acct(2, 10_000)], weights=W, today=TODAY
    )
    assert score.account_count == 2
    assert score.arr_at_risk == Decimal("110000.00")
    assert score.score == Decimal("120000.00")  # + 2 x 5,000


def test_renewal_within_the_window_multiplies_arr_up_and_says_why():
    soon = impact_score(
        [acct(1, 100_000, renews=TODAY + datetime.timedelta(days=30))], weights=W, today=TODAY
    )
    later = impact_score(
        [acct(1, 100_000, renews=TODAY + datetime.timedelta(days=120))], weights=W, today=TODAY
    )
    assert soon.arr_at_risk == Decimal("150000.00") and later.arr_at_risk == Decimal("100000.00")
    assert soon.lines[0].reason == "renews in 30 days"


def test_the_larger_multiplier_applies_without_compounding():
    both = impact_score([acct(1, 100_000, renews=TODAY, stage="at_risk")], weights=W, today=TODAY)
    assert both.arr_at_risk == Decimal("200000.00")
    assert both.lines[0].reason == "at risk"


def test_churned_accounts_carry_no_arr_but_still_count_as_affected():
    score = impact_score([acct(1, 500_000, stage="churned")], weights=W, today=TODAY)
    assert score.arr_at_risk == 0 and score.account_count == 1


def test_breakdown_is_serialisable_and_ordered_by_weight():
    score = impact_score([acct(1, 10_000), acct(2, 90_000)], weights=W, today=TODAY)
    data = score.as_dict()
    assert [a["id"] for a in data["accounts"]] == [2, 1]
    assert data["score"] == "110000.00"


def test_no_accounts_scores_zero():
    assert impact_score([], weights=W, today=TODAY).score == 0

"""Escalation severity rules at each boundary: 90 days, 10%, the ARR threshold."""

import datetime
from decimal import Decimal

import pytest

from roadmap.severity import AffectedAccount, compute_severity, share_label

TODAY = datetime.date(2026, 3, 4)
THRESHOLD = Decimal("250000")


def account(pk=1, *, name="Acme", arr="10000", renews_in=None, stage="onboarded"):
    renewal = TODAY + datetime.timedelta(days=renews_in) if renews_in is not None else None
    return AffectedAccount(pk, name, Decimal(arr), renewal, stage)


def severity(accounts, *, cited=False, total=100, threshold=THRESHOLD):
    return compute_severity(
        accounts=accounts,
        customer_cited=cited,
        org_account_count=total,
        arr_threshold=threshold,
        today=TODAY,
    )


# --- renewal within 90 days -------------------------------------------------------------------


def test_an_account_renewing_on_day_90_makes_it_p1():
    result = severity([account(renews_in=90)])
    assert result.severity == "P1"
    assert result.reasons == ("Acme renews in 90 days",)


def test_an_account_renewing_on_day_91_does_not():
    assert severity([account(renews_in=91)]).severity == "P3"


def test_a_renewal_today_counts_and_says_so():
    result = severity([account(renews_in=0)])
    assert (result.severity, result.reasons[0]) == ("P1", "Acme renews today")


def test_a_renewal_date_already_past_is_stale_and_does_not_count():
    assert severity([account(renews_in=-1)]).severity == "P3"


def test_renewals_are_listed_soonest_first():
    result = severity(
        [account(1, name="Late", renews_in=80), account(2, name="Soon", renews_in=42)]
    )
    assert result.reasons[:2] == ("Soon renews in 42 days", "Late renews in 80 days")


def test_many_renewals_are_summarised_after_three():
    accounts = [account(i, name=f"A{i}", renews_in=10 + i) for i in range(5)]
    assert severity(accounts).reasons[3] == "2 more affected accounts renew within 90 days"


# --- the customer cited it --------------------------------------------------------------------


def test_a_customer_citation_alone_makes_it_p1():
    result = severity([account()], cited=True)
    assert result.severity == "P1"
    assert result.reasons == ("The customer cited it",)


# --- affected ARR above the threshold ---------------------------------------------------------


def test_arr_one_cent_above_the_threshold_makes_it_p1():
    result = severity([account(arr="250000.01")])
    assert result.severity == "P1"
    assert result.reasons == ("Affected ARR $250,000 is above the $250,000 threshold",)


def test_arr_exactly_at_the_threshold_does_not():
    assert severity([account(arr="250000")]).severity == "P3"


def test_the_reason_reads_like_the_issue():
    result = severity([account(1, arr="200000"), account(2, name="Beta", arr="110000")])
    assert result.reasons == ("Affected ARR $310K is above the $250K threshold",)
    assert result.affected_arr == Decimal("310000")


def test_an_account_listed_twice_counts_once():
    result = severity([account(1, arr="200000"), account(1, arr="200000")])
    assert (result.severity, result.affected_arr, result.affected_count) == (
        "P3",
        Decimal("200000"),
        1,
    )


def test_all_p1_reasons_are_given_together():
    result = severity([account(arr="300000", renews_in=42)], cited=True)
    assert result.reasons == (
        "Acme renews in 42 days",
        "The customer cited it",
        "Affected ARR $300K is above the $250K threshold",
    )


# --- more than 10% of the customer base -------------------------------------------------------


def test_eleven_of_a_hundred_accounts_is_widespread():
    result = severity([account(i) for i in range(11)], total=100)
    assert result.severity == "P2"
    assert (
        result.reasons[0] == "11 of 100 accounts affected (11%): more than 10% of the customer base"
    )


def test_exactly_ten_percent_is_not_more_than_ten_percent():
    result = severity([account(i) for i in range(10)], total=100)
    assert result.severity == "P3"
    assert result.reasons[0].startswith("10 of 100 accounts affected (10%)")


def test_the_share_is_exact_and_not_rounded_into_p2():
    # 21 of 210 is exactly 10%; 22 of 210 is 10.5%.
    assert severity([account(i) for i in range(21)], total=210).severity == "P3"
    assert severity([account(i) for i in range(22)], total=210).severity == "P2"
    assert share_label(22, 210) == "10.5%"


def test_p1_wins_over_p2():
    accounts = [account(i) for i in range(50)] + [account(99, name="Soon", renews_in=5)]
    assert severity(accounts, total=100).severity == "P1"


def test_churned_accounts_count_neither_in_the_share_nor_the_arr():
    # The caller's total excludes churned accounts; a churned affected account is not weighed.
    accounts = [account(i) for i in range(10)] + [
        account(50, name="Gone", arr="900000", renews_in=10, stage="churned")
    ]
    result = severity(accounts, total=100)
    assert result.severity == "P3"
    assert result.affected_arr == Decimal("100000")
    assert (result.affected_count, result.weighed_count) == (11, 10)
    assert "1 churned account not weighed" in result.reasons[-1]


def test_an_organization_with_no_countable_accounts_is_never_widespread():
    result = severity([account(stage="churned")], total=0)
    assert result.severity == "P3"
    assert result.reasons[0].startswith("0 of 0 accounts affected (0%)")


@pytest.mark.parametrize(
    ("renews_in", "cited", "arr", "count", "expected"),
    [
        (90, False, "1000", 1, "P1"),
        (91, False, "1000", 1, "P3"),
        (None, True, "1000", 1, "P1"),
        (None, False, "250000.01", 1, "P1"),
        (None, False, "250000", 1, "P3"),
        (None, False, "1000", 11, "P2"),
        (None, False, "1000", 10, "P3"),
    ],
)
def test_each_boundary(renews_in, cited, arr, count, expected):
    accounts = [account(0, arr=arr, renews_in=renews_in)]
    accounts += [account(i, arr="0") for i in range(1, count)]
    assert severity(accounts, cited=cited, total=100).severity == expected


def test_p3_explains_why_nothing_higher_applied():
    result = severity([account(arr="40000")])
    assert result.reasons == (
        "1 of 100 accounts affected (1%): not more than 10% of the customer base",
        "No affected account renews within 90 days, the customer did not cite it, and "
        "affected ARR $40K is not above the $250K threshold",
    )

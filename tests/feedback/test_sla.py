import datetime
import zoneinfo

import pytest

from feedback.sla import BusinessCalendar

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC
US = BusinessCalendar("America/New_York", "US")


def ny(*args):
    return datetime.datetime(*args, tzinfo=NY)


def test_five_business_days_skip_the_weekend():
    # Wednesday 2026-03-04 10:00 -> Wednesday 2026-03-11 10:00.
    assert US.due_at(ny(2026, 3, 4, 10), 5) == ny(2026, 3, 11, 10)


def test_feedback_logged_on_saturday_starts_its_clock_on_monday_morning():
    assert US.due_at(ny(2026, 3, 7, 15), 5) == ny(2026, 3, 14, 0).replace(day=16)  # Mon 16th 00:00


def test_public_holidays_are_skipped_like_weekends():
    # Logged Wed 2026-11-25; Thu 26 is Thanksgiving: Fri 27, Mon 30, Tue 1, Wed 2, Thu 3.
    assert US.due_at(ny(2026, 11, 25, 9), 5) == ny(2026, 12, 3, 9)


def test_a_different_holiday_country_has_its_own_calendar():
    germany = BusinessCalendar("Europe/Berlin", "DE")
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # Thanksgiving is a normal day in Germany; 2026-12-25/26 are not.
    assert germany.due_at(
        datetime.datetime(2026, 11, 25, 9, tzinfo=berlin), 5
    ) == datetime.datetime(2026, 12, 2, 9, tzinfo=berlin)
    assert germany.due_at(
        datetime.datetime(2026, 12, 23, 9, tzinfo=berlin), 2
    ) == datetime.datetime(2026, 12, 28, 9, tzinfo=berlin)


def test_due_moment_can_fall_on_another_utc_day_than_the_local_one():
    # Logged Friday 20:00 in New York = Saturday 01:00 UTC. Counted in New York time it is
    # a Friday (business day), so it is due the next Friday 20:00 local, which is Saturday
    # in UTC. Counting in UTC would have started the clock on Monday instead.
    logged = datetime.datetime(2026, 3, 21, 0, 0, tzinfo=UTC)  # Fri 2026-03-20 20:00 NY
    due = US.due_at(logged, 5)
    assert due == ny(2026, 3, 27, 20)
    assert due.astimezone(UTC).date() == datetime.date(2026, 3, 28)


def test_daylight_saving_change_keeps_the_local_time_of_day():
    # DST starts 2026-03-08 in New York: 10:00 local stays 10:00 local, the UTC hour moves.
    due = US.due_at(ny(2026, 3, 5, 10), 5)
    assert due.astimezone(NY).hour == 10
    assert due.astimezone(UTC).hour == 14


def test_reminder_falls_one_business_day_before_due():
    due = ny(2026, 3, 16, 10)  # Monday
    assert US.remind_at(due) == ny(2026, 3, 13, 10)  # the Friday before


def test_describe_counts_business_days_not_calendar_days():
    due = ny(2026, 3, 16, 10)  # Monday
    assert US.describe(due, ny(2026, 3, 13, 9)).label == "due in 1 business day"
    assert US.describe(due, ny(2026, 3, 11, 9)).label == "due in 3 business days"
    assert US.describe(due, ny(2026, 3, 16, 8)).label == "due today"
    assert US.describe(due, ny(2026, 3, 16, 11)).label == "overdue today"
    assert US.describe(due, ny(2026, 3, 17, 11)).label == "overdue by 1 business day"
    assert US.describe(due, ny(2026, 3, 20, 11)).label == "overdue by 4 business days"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        US.due_at(datetime.datetime(2026, 3, 4, 10), 5)

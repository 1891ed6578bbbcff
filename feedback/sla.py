"""Business-day arithmetic for the triage SLA. Pure: no database, no clock.

The rule: feedback is due ``n`` business days after it was logged, at the same local time
of day, counted in the organization's timezone and skipping weekends and the public
holidays of its holiday country. Feedback logged outside business days (a Saturday, a
holiday) starts its clock at the beginning of the next business day. The reminder falls
one business day before the due moment.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import holidays

WEEKEND = {5, 6}  # Saturday, Sunday


@lru_cache(maxsize=256)
def _holiday_dates(country: str, year: int) -> frozenset[datetime.date]:
    if not country:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:
        return frozenset()


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekends plus one country's public holidays, in one timezone."""

    timezone: str
    holiday_country: str

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def is_business_day(self, day: datetime.date) -> bool:
        return day.weekday() not in WEEKEND and day not in _holiday_dates(
            self.holiday_country, day.year
        )

    def next_business_day(self, day: datetime.date) -> datetime.date:
        day += datetime.timedelta(days=1)
        while not self.is_business_day(day):
            day += datetime.timedelta(days=1)
        return day

    def previous_business_day(self, day: datetime.date) -> datetime.date:
        day -= datetime.timedelta(days=1)
        while not self.is_business_day(day):
            day -= datetime.timedelta(days=1)
        return day

    def add_business_days(self, day: datetime.date, n: int) -> datetime.date:
        for _ in range(n):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Business days after ``start`` up to and including ``end`` (negative if end < start)."""
        if end == start:
            return 0
        sign = 1 if end > start else -1
        low, high = (start, end) if sign > 0 else (end, start)
        count = 0
        day = low
        while day < high:
            day += datetime.timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return sign * count

    def _local(self, moment: datetime.datetime) -> datetime.datetime:
        if moment.tzinfo is None:
            raise ValueError("SLA arithmetic needs an aware datetime.")
        return moment.astimezone(self.tz)

    def _at(self, day: datetime.date, time: datetime.time) -> datetime.datetime:
        # Local wall-clock time on that day; zoneinfo resolves DST gaps and folds.
        return datetime.datetime.combine(day, time, tzinfo=self.tz).astimezone(datetime.UTC)

    def clock_start(self, logged_at: datetime.datetime) -> datetime.datetime:
        local = self._local(logged_at)
        if self.is_business_day(local.date()):
            return local
        start_day = self.next_business_day(local.date())
        return datetime.datetime.combine(start_day, datetime.time.min, tzinfo=self.tz)

    def due_at(self, logged_at: datetime.datetime, business_days: int) -> datetime.datetime:
        start = self.clock_start(logged_at)
        due_day = self.add_business_days(start.date(), business_days)
        return self._at(due_day, start.timetz().replace(tzinfo=None))

    def remind_at(self, due_at: datetime.datetime) -> datetime.datetime:
        """One business day before the due moment, same local time."""
        local = self._local(due_at)
        return self._at(self.previous_business_day(local.date()), local.time())

    def describe(self, due_at: datetime.datetime, now: datetime.datetime) -> SlaState:
        """Where a clock stands: due in N business days, due today, or overdue by N."""
        due_local, now_local = self._local(due_at), self._local(now)
        days = self.business_days_between(now_local.date(), due_local.date())
        overdue = now >= due_at
        if overdue:
            if due_local.date() == now_local.date():
                return SlaState(overdue=True, business_days=0, label="overdue today")
            late = max(1, -days)
            plural = "s" if late != 1 else ""
            return SlaState(
                overdue=True, business_days=-late, label=f"overdue by {late} business day{plural}"
            )
        if days == 0:
            return SlaState(overdue=False, business_days=0, label="due today")
        plural = "s" if days != 1 else ""
        return SlaState(
            overdue=False, business_days=days, label=f"due in {days} business day{plural}"
        )


@dataclass(frozen=True)
class SlaState:
    overdue: bool
    business_days: int
    label: str

    @property
    def urgent(self) -> bool:
        return self.overdue or self.business_days <= 1

"""Filters shared by the API's list endpoints."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import QuerySet
from django.utils import timezone


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """``updated_since=<ISO 8601>``: rows changed at or after that moment (naive = UTC)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault(
            "help_text",
            "Only rows changed at or after this moment (ISO 8601, e.g. "
            "2026-03-01T00:00:00Z; without an offset it is read as UTC).",
        )
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def filter(self, qs: QuerySet, value: datetime.datetime | None) -> QuerySet:
        if value is not None:
            if timezone.is_naive(value):
                value = timezone.make_aware(value, datetime.UTC)
            # Sent to the database in UTC: any valid ISO offset (even +18:48) is accepted,
            # and a moment before year 1 in UTC means "since the beginning".
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError:
                value = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        return super().filter(qs, value)

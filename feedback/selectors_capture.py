"""Reads behind the log-feedback form: account type-ahead, similar themes and feedback, and the
category list. Every selector takes the organization."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable

from alignment.models import Account, Membership, Organization
from feedback.models import Category, Feedback, Theme, ThemeStatus

SEARCH_LIMIT = 10
SIMILAR_LIMIT = 5
MAX_WORDS = 8
OPEN_STATUSES = (ThemeStatus.UNDER_REVIEW, ThemeStatus.ON_ROADMAP)
TRIGRAM_THRESHOLD = 0.15


def account_search(*, org: Organization, csm: Membership, q: str) -> list[Account]:
    """Up to ten accounts whose name or external id matches, the member's own accounts first.

    With no query, the member's own accounts (a CSM usually logs for one of theirs)."""
    q = " ".join(q.split())
    queryset = Account.objects.for_org(org).select_related("csm__user")
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(external_id__icontains=q))
    else:
        queryset = queryset.filter(csm=csm)
    mine = Case(When(csm=csm, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(queryset.annotate(mine=mine).order_by("mine", "name", "pk")[:SEARCH_LIMIT])


def account_for_pick(*, org: Organization, pk: object) -> Account | None:
    """The account a picker names, if it is one of this organization's."""
    try:
        pk = int(str(pk))
    except (TypeError, ValueError):
        return None
    return Account.objects.for_org(org).filter(pk=pk).first()


def open_theme_for_pick(*, org: Organization, pk: object) -> Theme | None:
    try:
        pk = int(str(pk))
    except (TypeError, ValueError):
        return None
    return open_themes(org=org).filter(pk=pk).first()


def open_themes(*, org: Organization) -> QuerySet[Theme]:
    """Themes new feedback may be attached to: open, not merged away."""
    return Theme.objects.for_org(org).filter(status__in=OPEN_STATUSES, merged_into__isnull=True)


def query_words(q: str) -> list[str]:
    """The words worth matching on: four letters or more, lower-cased, at most eight, unique."""
    words: list[str] = []
    for word in re.findall(r"\w+", q.lower()):
        if len(word) >= 4 and not word.isdigit() and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def trigram_available() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def _word_overlap(
    queryset: QuerySet, words: list[str], fields: tuple[str, ...]
) -> tuple[Q, Combinable]:
    """A filter matching any word in any field, and a score counting the words that match."""
    match = Q()
    score: Combinable = Value(0)
    for word in words:
        word_q = Q()
        for field in fields:
            word_q |= Q(**{f"{field}__icontains": word})
        match |= word_q
        score = score + Case(When(word_q, then=Value(1)), default=Value(0))
    return match, score


def _similar(queryset: QuerySet, q: str, fields: tuple[str, ...], order: tuple[str, ...]):
    words = query_words(q)
    if not words:
        return queryset.none()
    match, score = _word_overlap(queryset, words, fields)
    queryset = queryset.annotate(score=score)
    if trigram_available():
        # How well the theme title (or earlier verbatim) matches some stretch of the query.
        similarity = Func(
            F(fields[0]), Value(q[:500]), function="WORD_SIMILARITY", output_field=FloatField()
        )
        queryset = queryset.annotate(similarity=similarity)
        return queryset.filter(match | Q(similarity__gt=TRIGRAM_THRESHOLD)).order_by(
            "-similarity", "-score", *order
        )
    return queryset.filter(match).order_by("-score", *order)


def similar_themes(*, org: Organization, q: str) -> list[Theme]:
    """Up to five open themes whose title or description looks like what the customer said."""
    queryset = open_themes(org=org).select_related("product_area")
    return list(
        _similar(queryset, q, ("title", "description"), ("-impact_score", "pk"))[:SIMILAR_LIMIT]
    )


def similar_feedback(*, org: Organization, q: str) -> list[Feedback]:
    """Up to five recent feedback items whose verbatim shares words with this one."""
    queryset = (
        Feedback.objects.for_org(org)
        .filter(archived_at__isnull=True)
        .select_related("account", "theme")
    )
    return list(_similar(queryset, q, ("verbatim",), ("-created_at", "-pk"))[:SIMILAR_LIMIT])


def category_list(*, org: Organization) -> QuerySet[Category]:
    """Categories in their order, each with how many feedback items are filed under it."""
    return (
        Category.objects.for_org(org)
        .annotate(feedback_total=Count("feedback", filter=Q(feedback__archived_at__isnull=True)))
        .order_by("position", "name")
    )

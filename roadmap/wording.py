"""What a CSM may say about a roadmap item, and the quarter arithmetic behind slips.

Pure functions: no database, no clock. The tier decides how certain the words may sound:

- ``committed``: someone is building it, by a quarter, and a PM signed that off; the
  quarter may be repeated to customers.
- ``planned``: prioritised, but no date leaves the building.
- ``exploring``: an idea under consideration; never something to lean on in a renewal.
"""

from __future__ import annotations

import re

from roadmap.models import Delivery, Tier, Visibility

QUARTER_RE = re.compile(r"^(?P<year>20\d\d)-Q(?P<q>[1-4])$")
# Wording that names a quarter or a date-like period ("Q3", "2027-Q1", "by March").
QUARTER_MENTION_RE = re.compile(r"\b(?:Q[1-4]|20\d\d-Q[1-4]|H[12]\s+20\d\d)\b", re.IGNORECASE)

TIER_RANK = {Tier.EXPLORING: 1, Tier.PLANNED: 2, Tier.COMMITTED: 3}

EXPLORING_WARNING = (
    "Exploring: not a retention lever. Do not bring this up in renewal or expansion "
    "conversations, and do not let a customer plan around it."
)
NDA_NOTE = "Strategic accounts under NDA only: share it only with accounts that signed one."
INTERNAL_NOTE = "Internal: not visible to CS; never mention it to a customer."


class QuarterError(ValueError):
    """A target quarter that is not written as YYYY-Qn."""


def quarter_parse(value: str) -> tuple[int, int]:
    """``"2027-Q1"`` → ``(2027, 1)``. Raises QuarterError for anything else."""
    match = QUARTER_RE.match((value or "").strip().upper())
    if not match:
        raise QuarterError("Write the quarter as YYYY-Qn, for example 2027-Q1.")
    return int(match["year"]), int(match["q"])


def quarter_normalize(value: str) -> str:
    """Blank stays blank; anything else must parse and comes back upper-cased."""
    value = (value or "").strip().upper()
    if not value:
        return ""
    year, q = quarter_parse(value)
    return f"{year}-Q{q}"


def quarter_is_later(new: str, old: str) -> bool:
    """True when ``new`` is a later quarter than ``old`` (both set and valid)."""
    if not new or not old:
        return False
    return quarter_parse(new) > quarter_parse(old)


def quarter_label(value: str) -> str:
    """``"2027-Q1"`` → ``"Q1 2027"``, the way people say it."""
    year, q = quarter_parse(value)
    return f"Q{q} {year}"


def tier_is_drop(old: str, new: str) -> bool:
    return TIER_RANK.get(Tier(new), 0) < TIER_RANK.get(Tier(old), 0)


def quarter_visible(tier: str, *, internal: bool) -> bool:
    """Product people see every quarter; CS sees a quarter only once it is committed."""
    return internal or tier == Tier.COMMITTED


def tier_sentence(tier: str, quarter: str = "") -> str:
    """The sentence a CSM may say to a customer about an item of this tier, as is."""
    if tier == Tier.COMMITTED:
        when = f" for {quarter_label(quarter)}" if quarter else ""
        return (
            f"This is committed{when}: a team is building it and Product has signed off on "
            "the timing. If that changes, I'll tell you as soon as I hear."
        )
    if tier == Tier.PLANNED:
        return (
            "This is planned: it's prioritised in Product's upcoming cycles. I can't share a "
            "date yet, so please don't plan around one."
        )
    if tier == Tier.EXPLORING:
        return (
            "Product is exploring this: it's being looked at, with no decision to build it. "
            "I'll let you know if that changes."
        )
    raise ValueError(f"unknown tier {tier!r}")


def delivery_sentence(delivery_status: str) -> str:
    """What may be said once delivery has moved past the plan (shipped, GA or cancelled)."""
    if delivery_status in (Delivery.SHIPPED, Delivery.GA):
        return "This is available now. I can walk you through it."
    if delivery_status == Delivery.CANCELLED:
        return (
            "Product has stopped work on this. I'll share what I know about alternatives; "
            "please don't plan around it."
        )
    return ""


def csm_sentence(tier: str, quarter: str, delivery_status: str) -> str:
    """The one sentence shown to CSMs: delivery news when it overrides the plan, else the
    tier's sentence (with the quarter only when committed)."""
    override = delivery_sentence(delivery_status)
    if override:
        return override
    return tier_sentence(tier, quarter if tier == Tier.COMMITTED else "")


def visibility_note(visibility: str) -> str:
    if visibility == Visibility.NDA:
        return NDA_NOTE
    if visibility == Visibility.INTERNAL:
        return INTERNAL_NOTE
    return ""


def wording_names_a_quarter(text: str) -> bool:
    return bool(QUARTER_MENTION_RE.search(text or ""))

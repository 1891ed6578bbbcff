"""Template filters for money and small display helpers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "AUD": "A$",
    "CAD": "C$",
    "INR": "₹",
}


def _to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


def _symbol(currency: str) -> tuple[str, str]:
    symbol = CURRENCY_SYMBOLS.get((currency or "USD").upper())
    return (symbol, "") if symbol else ("", f" {currency.upper()}")


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    """Whole units with thousands separators: 1234567.89 -> $1,234,568."""
    amount = _to_decimal(value)
    if amount is None:
        return "—"
    prefix, suffix = _symbol(currency)
    whole = amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{prefix}{whole:,}{suffix}"


@register.filter
def money_short(value: Any, currency: str = "USD") -> str:
    """Compact money for dense places: $840K, $1.2M."""
    amount = _to_decimal(value)
    if amount is None:
        return "—"
    prefix, suffix = _symbol(currency)
    for threshold, unit in ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "K")):
        if abs(amount) >= threshold:
            scaled = (amount / threshold).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{scaled:f}".rstrip("0").rstrip(".")
            return f"{prefix}{text}{unit}{suffix}"
    return f"{prefix}{amount.quantize(Decimal('1'), rounding=ROUND_HALF_UP)}{suffix}"


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (sorting, paging links)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    if "page" not in changes:
        params.pop("page", None)
    encoded = urlencode(list(params.lists()), doseq=True)
    return f"?{encoded}" if encoded else "?"


@register.filter
def audit_change(change: Any) -> str:
    """An audit change as text: ``[old, new]`` reads "old → new"; a plain value as itself."""

    def show(value: Any) -> str:
        return "—" if value in (None, "") else str(value)

    if isinstance(change, list) and len(change) == 2:
        return f"{show(change[0])} → {show(change[1])}"
    return show(change)

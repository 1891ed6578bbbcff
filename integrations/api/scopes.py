"""What an API key may do: ``<resource>:read`` or ``<resource>:write`` per resource.

Write implies read for the same resource. A key's scopes are chosen when it is created and
never widened afterwards (revoke it and create another).
"""

from __future__ import annotations

from collections.abc import Iterable

# resource -> (label, the levels it offers)
RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "accounts": ("Accounts", ("read", "write")),
    "feedback": ("Feedback", ("read", "write")),
    "themes": ("Themes", ("read",)),
    "roadmap": ("Roadmap items, commitments and releases (CS view)", ("read",)),
}

ALL_SCOPES: tuple[str, ...] = tuple(
    f"{resource}:{level}" for resource, (_, levels) in RESOURCES.items() for level in levels
)


def scope_allows(scopes: Iterable[str], resource: str, level: str) -> bool:
    """True when the scopes grant ``level`` on ``resource`` (write implies read)."""
    granted = set(scopes)
    if f"{resource}:{level}" in granted:
        return True
    return level == "read" and f"{resource}:write" in granted


def scopes_normalize(scopes: Iterable[str]) -> list[str]:
    """Known scopes only, in a stable order, without a read that a write already implies."""
    chosen = set(scopes)
    return [
        scope
        for scope in ALL_SCOPES
        if scope in chosen
        and not (scope.endswith(":read") and scope.replace(":read", ":write") in chosen)
    ]

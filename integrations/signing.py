"""Webhook signatures: how a receiver knows a request came from Seam and was not altered.

The scheme (documented for integrators in docs/webhooks.md):

    Seam-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The timestamp is inside the signed message, so a captured request cannot be replayed later
with a fresh timestamp, and a receiver rejects timestamps outside a tolerance window. During
a secret rotation the header may carry several ``v1=`` values; any one of them may match.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Seam-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale, or does not match the body."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Seam-Signature`` header value for ``body`` signed now (or at ``timestamp``)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> int:
    """Check a ``Seam-Signature`` header against the raw request body.

    Returns the signed timestamp; raises ``SignatureError`` when the header is missing or
    malformed, when the timestamp is further than ``tolerance`` seconds from now (replays),
    or when no ``v1`` signature matches (tampered body or wrong secret). The comparison is
    constant-time so a receiver does not leak how much of a guess was right.
    """
    if not header:
        raise SignatureError("No Seam-Signature header.")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise SignatureError("The signature timestamp is not a number.") from exc
        elif key == SCHEME and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("The Seam-Signature header has no timestamp or no v1 signature.")
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise SignatureError("The signature timestamp is outside the tolerance window.")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("The signature does not match the body.")
    return timestamp

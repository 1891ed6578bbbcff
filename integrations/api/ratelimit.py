"""Per-key rate limits: a fixed one-minute window counted in the Django cache.

Every authenticated response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the window ends); a request over the limit is answered
429 with ``Retry-After``. With Redis configured the count is shared by every process; on a
bare machine (locmem) each process counts on its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


def rate_limit_hit(*, key_prefix: str, limit: int, now: float | None = None) -> RateLimitState:
    """Count one request of this key in the current window and say whether it is allowed.

    The bucket is named by the key's public prefix, which is unique across every database
    sharing the cache (row ids are not: two deployments, or two test databases, on one
    Redis would otherwise count each other's requests)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    bucket = f"seam:api-rate:{key_prefix}:{window}"
    # add() is atomic and does nothing if the bucket exists; incr() is atomic in Redis and
    # under locmem's lock, so concurrent requests never lose a count.
    cache.add(bucket, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:  # the bucket expired between add() and incr()
        cache.add(bucket, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    return RateLimitState(
        limit=limit, remaining=max(0, limit - count), reset=reset, exceeded=count > limit
    )

"""A token bucket per API token: `rate_limit_per_s` requests a second, bursts of as many.

Per API process: with several workers behind a balancer a token gets this rate from each.
"""

import math
from collections.abc import Callable
from time import monotonic

from app.errors import TooManyRequests


class TokenBucket:
    """Holds up to `burst` tokens, refilled at `rate` a second; a request takes one."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when there was one, else the seconds until there will be."""
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class RateLimiter:
    """One bucket per API token (by digest), made at its first request."""

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self.clock = clock
        self._buckets: dict[bytes, TokenBucket] = {}

    def check(self, key: bytes, per_second: int) -> None:
        """Count one request of `key`; raise 429 with Retry-After when its bucket is empty."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(per_second, per_second, now)
        wait = bucket.take(now)
        if wait > 0:
            raise TooManyRequests(
                f"this token may send {per_second} requests a second; retry after the wait",
                retry_after=max(1, math.ceil(wait)),
            )

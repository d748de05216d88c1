"""Token buckets for per-connection rate limits (poses, control messages, chat lines).

`allow()` is O(1) and reads the clock it is given, so tests can drive time by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst
        self.stamp = clock()

    def allow(self, cost: float = 1.0) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class KeyedLimiter:
    """One token bucket per key (an account, a client address), in memory only and never logged; the table
    is bounded, so a flood of new keys cannot exhaust memory."""

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self.buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str) -> bool:
        if key not in self.buckets and len(self.buckets) >= self.max_keys:
            self.buckets.clear()
        bucket = self.buckets.setdefault(key, TokenBucket(self.rate, self.burst))
        return bucket.allow()

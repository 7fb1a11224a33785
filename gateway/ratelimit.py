"""Per-tenant rate limits: a token bucket each, answered with RateLimit-* headers (IETF draft)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """One take from a bucket. ``limit`` is the burst; times are whole seconds, rounded up."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # until one request is allowed (0 when allowed now)

    def headers(self) -> dict[str, str]:
        out = {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset_seconds),
        }
        if not self.allowed:
            out["retry-after"] = str(self.retry_after)
        return out


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each request takes one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> RateDecision:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        allowed = self.tokens >= 1
        if allowed:
            self.tokens -= 1
        return RateDecision(
            allowed=allowed,
            limit=self.burst,
            remaining=int(self.tokens),
            reset_seconds=math.ceil((self.burst - self.tokens) / self.rate),
            retry_after=0 if allowed else max(1, math.ceil((1 - self.tokens) / self.rate)),
        )


BucketKey = tuple[str, str]  # (tenant, bucket name)


class RateLimiter:
    """One bucket per (tenant, purpose), rebuilt when the tenant's rate or burst changes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[BucketKey, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, key: BucketKey, rate: float, burst: int) -> RateDecision:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.rate != rate or bucket.burst != burst:
                bucket = self._buckets[key] = TokenBucket(rate, burst, self.clock)
            return bucket.take()

    def forget(self, tenant: str) -> None:
        """Drop every bucket of ``tenant``."""
        with self._lock:
            for key in [key for key in self._buckets if key[0] == tenant]:
                del self._buckets[key]

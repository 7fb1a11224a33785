"""Per-tenant token buckets shared by every worker: one atomic Lua script per take in Redis.

The script reads Redis's own clock (``TIME``), so workers on hosts with skewed
clocks agree; a bucket is one hash (``tokens``, ``updated``) that expires once it
would be full again.

Leases: a round trip costs the gateway far more CPU than the take itself
(benches/README.md, "What Redis costs"), so a worker may take several tokens in
one trip and answer the next calls from that lease; a lease not used within
``LEASE_SECONDS`` lapses, and its tokens are lost. So a lease follows the
worker's own traffic: it starts at one token, doubles while leases are used up
in time, halves when one lapses, and never exceeds this worker's share of
``LEASE_SECONDS`` of the tenant's rate (nor of half the burst). A tenant whose
rate gives less than two tokens per lease (a low limit, where exactness matters
most) takes one token a trip: exact. Above that, the workers together may admit
at most one lease each beyond what the bucket held at that moment.

Redis unreachable (or slower than ``timeout_seconds``): the take falls back to a
local bucket holding this worker's share (rate and burst divided by
``workers``), so the host as a whole keeps roughly the tenant's limit; Redis is
tried again after ``retry_seconds``. Failing open per worker, not closed: a
Redis outage must not take every tenant's functions offline.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.ratelimit import BucketKey, RateDecision, RateLimiter

TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local granted = 0
if tokens >= 1 then
  granted = math.min(tonumber(ARGV[3]), math.floor(tokens))
  tokens = tokens - granted
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, tostring(tokens)}
"""


LEASE_SECONDS = 0.05


@dataclass
class _Lease:
    """Tokens a worker took from Redis in advance, usable until ``until`` (monotonic seconds)."""

    tokens: int
    remaining: float  # what the bucket held when the lease was taken (for the headers)
    until: float
    size: int  # what was asked for


class AsyncRateLimiter(Protocol):
    async def take(self, key: BucketKey, rate: float, burst: int) -> RateDecision: ...

    def forget(self, tenant: str) -> None: ...


class LocalRateLimiter:
    """The in-process limiter (gateway.ratelimit) behind the async interface: one worker's buckets."""

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter or RateLimiter()

    async def take(self, key: BucketKey, rate: float, burst: int) -> RateDecision:
        return self.limiter.take(key, rate, burst)

    def forget(self, tenant: str) -> None:
        self.limiter.forget(tenant)


def decision(allowed: bool, tokens: float, rate: float, burst: int) -> RateDecision:
    """The headers' view of a bucket after a take (the same arithmetic as gateway.ratelimit.TokenBucket)."""
    return RateDecision(
        allowed=allowed,
        limit=burst,
        remaining=int(tokens),
        reset_seconds=math.ceil((burst - tokens) / rate),
        retry_after=0 if allowed else max(1, math.ceil((1 - tokens) / rate)),
    )


class RedisRateLimiter:
    """Token buckets in Redis, exact across workers and hosts; a per-worker share when Redis fails."""

    def __init__(self, redis: Redis, *, workers: int = 1, prefix: str = "wasmtask:rate:",
                 timeout_seconds: float = 0.2, retry_seconds: float = 1.0) -> None:
        self.redis = redis
        self.workers = max(1, workers)
        self.prefix = prefix
        self.timeout_seconds = timeout_seconds
        self.retry_seconds = retry_seconds
        self.fallback = RateLimiter()
        self.fallbacks = 0  # takes answered locally because Redis failed (a /metrics counter)
        self._script = redis.register_script(TAKE)
        self._down_until = 0.0
        self._leases: dict[BucketKey, _Lease] = {}
        self.round_trips = 0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def lease_size(self, rate: float, burst: int) -> int:
        """The most one round trip takes: this worker's share of ``LEASE_SECONDS`` of the rate and of half the burst."""
        return max(1, min(int(rate * LEASE_SECONDS / self.workers), burst // (2 * self.workers)))

    async def take(self, key: BucketKey, rate: float, burst: int) -> RateDecision:
        now = time.monotonic()
        lease = self._leases.get(key)
        if lease is not None and lease.tokens >= 1 and now < lease.until:
            lease.tokens -= 1
            return decision(True, lease.remaining + lease.tokens, rate, burst)
        want = 1
        if lease is not None:  # used up in time: ask for more; lapsed with tokens left: for less
            want = lease.size * 2 if lease.tokens < 1 else lease.size // 2
        want = max(1, min(want, self.lease_size(rate, burst)))
        if self.available:
            try:
                self.round_trips += 1
                async with asyncio.timeout(self.timeout_seconds):
                    granted, tokens = await self._script(keys=[self.prefix + ":".join(key)],
                                                         args=[rate, burst, want])
                granted, remaining = int(granted), float(tokens)
                self._leases[key] = _Lease(max(0, granted - 1), remaining, now + LEASE_SECONDS, want)
                return decision(granted >= 1, remaining + max(0, granted - 1), rate, burst)
            except (RedisError, OSError, TimeoutError):
                self._down_until = time.monotonic() + self.retry_seconds
        self.fallbacks += 1
        share_rate = rate / self.workers
        share_burst = max(1, burst // self.workers)
        return self.fallback.take(key, share_rate, share_burst)

    def forget(self, tenant: str) -> None:
        """Local buckets and leases only: a re-created tenant's Redis bucket is keyed by the same name but
        starts where the old one was at most ``burst / rate`` seconds ago (then it expires)."""
        self.fallback.forget(tenant)
        for key in [key for key in self._leases if key[0] == tenant]:
            del self._leases[key]

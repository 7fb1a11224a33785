"""What the gateway's workers share, behind one small interface per kind, chosen by configuration.

    kind            memory (one worker, the default)        redis (several workers or hosts)
    rate limits     gateway.ratelimit.RateLimiter            RedisRateLimiter: one Lua token bucket a take
    live logs       gateway.logs.LogHub                      RedisLogBus: a Redis Stream per tenant

A Redis fault never stops a call: rate limits fall back to a per-worker share of
the tenant's bucket, log records are dropped and counted, and both recover by
themselves (see each module). Deploys, deletes and tenant changes reach every
worker through the registry's change feed (gateway/registry), not through Redis.
"""

from gateway.coordination.logs import RedisLogBus
from gateway.coordination.ratelimit import AsyncRateLimiter, LocalRateLimiter, RedisRateLimiter
from gateway.logs.bus import LogBus

__all__ = ["AsyncRateLimiter", "LocalRateLimiter", "LogBus", "RedisLogBus", "RedisRateLimiter"]

"""The shared token bucket, against a real redis-server."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from gateway.coordination import RedisRateLimiter
from gateway.coordination.redis_server import PrivateRedis


def test_a_burst_is_exact_across_limiters_sharing_redis(redis_server: PrivateRedis) -> None:
    async def scenario() -> list[bool]:
        clients = [Redis.from_url(redis_server.url) for _ in range(3)]  # three workers
        limiters = [RedisRateLimiter(client, workers=3) for client in clients]
        takes = [limiters[i % 3].take(("acme", "edge"), 0.001, 10) for i in range(30)]
        decisions = await asyncio.gather(*takes)
        for client in clients:
            await client.aclose()
        return [d.allowed for d in decisions]

    allowed = asyncio.run(scenario())
    assert allowed.count(True) == 10


def test_headers_count_down_and_refuse_with_retry_after(redis_server: PrivateRedis) -> None:
    async def scenario() -> list:
        client = Redis.from_url(redis_server.url)
        limiter = RedisRateLimiter(client)
        decisions = [await limiter.take(("acme", "api"), 0.5, 2) for _ in range(3)]
        await client.aclose()
        return decisions

    first, second, refused = asyncio.run(scenario())
    assert (first.remaining, second.remaining) == (1, 0)
    assert not refused.allowed and refused.headers()["retry-after"] == "2"


def test_without_redis_a_worker_keeps_its_share(redis_server: PrivateRedis) -> None:
    async def scenario() -> tuple[list[bool], int]:
        client = Redis.from_url(redis_server.url)
        limiter = RedisRateLimiter(client, workers=2, timeout_seconds=0.2)
        redis_server.stop()
        allowed = [(await limiter.take(("acme", "edge"), 0.001, 10)).allowed for _ in range(8)]
        await client.aclose()
        return allowed, limiter.fallbacks

    allowed, fallbacks = asyncio.run(scenario())
    assert allowed.count(True) == 5  # half of the burst: this worker's share
    assert fallbacks == 8


def test_a_high_rate_tenant_leases_tokens_instead_of_a_round_trip_per_call(redis_server: PrivateRedis) -> None:
    async def scenario() -> tuple[int, int]:
        client = Redis.from_url(redis_server.url)
        limiter = RedisRateLimiter(client)
        allowed = [(await limiter.take(("busy", "edge"), 1000.0, 1000)).allowed for _ in range(100)]
        await client.aclose()
        return allowed.count(True), limiter.round_trips

    allowed, round_trips = asyncio.run(scenario())
    assert allowed == 100
    assert round_trips == 7  # leases of 1, 2, 4, 8, 16, 32 and up to 50 (50 ms of a 1000/s rate)


def test_a_lease_follows_the_workers_own_traffic(redis_server: PrivateRedis) -> None:
    """A lapsed lease's tokens are lost: a worker that calls rarely must not keep taking big leases
    (two workers each taking 50 ms of the whole rate every 50 ms drained a bucket they barely used)."""

    async def scenario() -> list[int]:
        client = Redis.from_url(redis_server.url)
        limiter = RedisRateLimiter(client, workers=2)
        sizes = []
        for _ in range(6):  # busy: each lease is used up in time
            await limiter.take(("t", "edge"), 1000.0, 1000)
            sizes.append(limiter._leases[("t", "edge")].size)
        for _ in range(3):  # idle: each lease lapses with tokens left
            await asyncio.sleep(0.06)
            await limiter.take(("t", "edge"), 1000.0, 1000)
            sizes.append(limiter._leases[("t", "edge")].size)
        await client.aclose()
        return sizes

    sizes = asyncio.run(scenario())
    assert sizes[:2] == [1, 2] and max(sizes) <= 25  # this worker's share: 50 ms of 1000/s over 2 workers
    assert max(sizes[:6]) > 2 and min(sizes[6:]) == 1, sizes  # back to one token a trip once idle

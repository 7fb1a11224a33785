"""The token bucket, on a fake clock."""

from __future__ import annotations

from gateway.ratelimit import RateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_burst_passes_then_the_bucket_refuses() -> None:
    bucket = TokenBucket(rate=1.0, burst=3, clock=Clock())

    decisions = [bucket.take() for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].headers() == {
        "ratelimit-limit": "3", "ratelimit-remaining": "0", "ratelimit-reset": "3", "retry-after": "1",
    }


def test_the_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0.5, burst=1, clock=clock)
    bucket.take()

    refused = bucket.take()
    clock.now += 2
    allowed = bucket.take()

    assert (refused.allowed, refused.retry_after) == (False, 2)
    assert allowed.allowed


def test_tenants_have_their_own_buckets() -> None:
    limiter = RateLimiter(clock=Clock())

    assert limiter.take(("a", "edge"), 1.0, 1).allowed
    assert not limiter.take(("a", "edge"), 1.0, 1).allowed
    assert limiter.take(("b", "edge"), 1.0, 1).allowed


def test_a_tenants_buckets_are_separate_and_forgotten_together() -> None:
    limiter = RateLimiter(clock=Clock())
    assert limiter.take(("a", "edge"), 1.0, 1).allowed
    assert not limiter.take(("a", "edge"), 1.0, 1).allowed
    assert limiter.take(("a", "api"), 1.0, 1).allowed  # the edge bucket being empty costs the API nothing
    limiter.forget("a")
    assert limiter.take(("a", "edge"), 1.0, 1).allowed and limiter.take(("a", "api"), 1.0, 1).allowed

"""The hub alone: wake-ups, replay bounds, forgetting a tenant, the stream limit."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.errors import TooManyLogStreams
from gateway.logs import LogHub, LogStreamLimits


def test_readers_are_woken_once_per_batch_not_once_per_record() -> None:
    async def scenario() -> tuple[int, int, int]:
        hub = LogHub(LogStreamLimits(subscriber_records=100_000, subscriber_bytes=1 << 30))
        async with hub.subscribe("tenant-a") as subscription:
            wakes = 0
            wake = subscription._wake

            def counting_wake() -> None:
                nonlocal wakes
                wakes += 1
                wake()

            subscription._wake = counting_wake  # type: ignore[method-assign]
            thread = threading.Thread(target=lambda: [hub.publish("tenant-a", {"msg": str(i)}) for i in range(20_000)])
            thread.start()
            received = batches = 0
            while received < 20_000:
                batch = await subscription.next_batch(timeout=5)
                assert batch
                received += len(batch)
                batches += 1
            thread.join()
        return received, batches, wakes

    received, batches, wakes = asyncio.run(scenario())
    assert received == 20_000
    assert wakes <= batches


def test_replay_memory_is_bounded_across_tenants() -> None:
    hub = LogHub(LogStreamLimits(replay_records=10, replay_total_bytes=10_000))
    for tenant in range(100):
        for index in range(20):
            hub.publish(f"t{tenant}", {"msg": "z" * 100, "index": index})
    assert hub._replay_bytes <= 10_000
    assert all(len(stored.events) <= 10 for stored in hub._replays.values())
    assert "t99" in hub._replays and "t0" not in hub._replays


def test_forget_drops_the_replay_of_a_deleted_tenant() -> None:
    async def scenario() -> list[object]:
        hub = LogHub()
        hub.publish("gone", {"msg": "old line"})
        hub.forget("gone")
        subscription = hub.subscribe("gone")
        try:
            return await subscription.next_batch(timeout=0.05)
        finally:
            subscription.close()

    assert asyncio.run(scenario()) == []


def test_a_stream_beyond_the_tenants_limit_is_refused_with_a_429_gateway_error() -> None:
    async def scenario() -> None:
        hub = LogHub(LogStreamLimits(subscribers_per_tenant=1))
        async with hub.subscribe("tenant-a"):
            with pytest.raises(TooManyLogStreams) as refused:
                hub.subscribe("tenant-a")
            async with hub.subscribe("tenant-b"):  # the limit is per tenant
                pass
        assert (refused.value.code, refused.value.status) == ("too_many_log_streams", 429)
        assert refused.value.message == "tenant 'tenant-a' already has 1 open log streams"
        assert hub.subscriber_count() == 0

    asyncio.run(scenario())

"""Live logs through Redis Streams, against a real redis-server."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from gateway.coordination import RedisLogBus
from gateway.coordination.redis_server import PrivateRedis


def test_a_record_published_by_one_worker_reaches_a_reader_on_another(redis_server: PrivateRedis) -> None:
    async def scenario() -> list[str]:
        writer_client, reader_client = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
        writer, reader = RedisLogBus(writer_client), RedisLogBus(reader_client)
        writer.start()
        subscription = reader.subscribe("acme", replay=False)
        first = await subscription.next_batch(timeout=0.05)  # nothing yet: sets the stream position
        writer.publish("acme", {"msg": "hello"})
        writer.publish("other", {"msg": "not yours"})
        batch = await subscription.next_batch(timeout=5)
        subscription.close()
        await writer.stop()
        await writer_client.aclose()
        await reader_client.aclose()
        return [*first, *batch]

    events = asyncio.run(scenario())
    assert [event.record["msg"] for event in events] == ["hello"]
    assert events[0].id and "-" in events[0].id


def test_replay_and_last_event_id_resume(redis_server: PrivateRedis) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        client = Redis.from_url(redis_server.url)
        bus = RedisLogBus(client)
        bus.start()
        for n in range(5):
            bus.publish("acme", {"msg": f"line {n}"})
        await bus.stop()
        replayed = await bus.subscribe("acme").next_batch(timeout=1)
        resumed = await bus.subscribe("acme", last_event_id=replayed[2].id).next_batch(timeout=1)
        bus.close_subscriptions()
        await client.aclose()
        return [e.record["msg"] for e in replayed], [e.record["msg"] for e in resumed]

    replayed, resumed = asyncio.run(scenario())
    assert replayed == [f"line {n}" for n in range(5)]
    assert resumed == ["line 3", "line 4"]


def test_records_are_dropped_and_counted_while_redis_is_away(redis_server: PrivateRedis) -> None:
    async def scenario() -> tuple[int, int]:
        client = Redis.from_url(redis_server.url, socket_timeout=0.2)
        bus = RedisLogBus(client, write_timeout_seconds=0.3)
        bus.start()
        redis_server.stop()
        for n in range(3):
            bus.publish("acme", {"msg": f"line {n}"})
        await asyncio.sleep(0.5)
        await bus.stop()
        await client.aclose()
        return bus.dropped, bus.written

    dropped, written = asyncio.run(scenario())
    assert (dropped, written) == (3, 0)

"""Live logs shared by every worker: one Redis Stream per tenant (``XADD ... MAXLEN ~``, ``XREAD BLOCK``).

Publishing is off the response path: ``publish`` (from any thread) appends to
an in-process queue, and one task per worker writes what has queued in one
pipelined batch. When Redis is unreachable, or the queue is over
``max_queued``, records are dropped and counted (``dropped``: a /metrics
counter); a call never waits for Redis. A reader (the SSE endpoint, on any
worker of any host) reads the stream with ``XREAD BLOCK``; a record's event id
is its stream id, so ``Last-Event-ID`` resumes anywhere, and the replay is the
stream's tail (capped with ``MAXLEN ~ stream_records``).

It provides ``gateway.logs.bus.LogBus``, as gateway.logs.LogHub does for one worker.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.errors import TooManyLogStreams
from gateway.logs.bus import LogEvent, Record
from gateway.logs.hub import LogStreamLimits
from host_api.log import LogRecord, LogSink

_STREAM_ID = re.compile(r"^\d+-\d+$")


class RedisLogBus:
    """Per-tenant Redis Streams. Start it on the event loop (``start``); ``publish`` is safe from any thread."""

    def __init__(self, redis: Redis, *, prefix: str = "wasmtask:logs:", stream_records: int = 1000,
                 limits: LogStreamLimits = LogStreamLimits(), max_queued: int = 10_000,
                 batch_records: int = 256, write_timeout_seconds: float = 1.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.stream_records = stream_records
        self.limits = limits
        self.max_queued = max_queued
        self.batch_records = batch_records
        self.write_timeout_seconds = write_timeout_seconds
        self.dropped = 0  # records never written (Redis down, or the queue full)
        self.written = 0
        self._queue: deque[tuple[str, bytes]] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._wake: asyncio.Event | None = None
        self._wake_pending = False
        self._writer: asyncio.Task[None] | None = None
        self._subscribers: dict[str, list[RedisSubscription]] = {}

    # writing

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._writer = self._loop.create_task(self._write_forever(), name="wasmtask-log-writer")

    async def stop(self) -> None:
        """Write what is queued (bounded by the write timeout), then stop."""
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
            self._writer = None
        await self._flush()
        self.close_subscriptions()

    def publish(self, tenant: str, record: Record) -> None:
        """Queue ``record`` for ``tenant``'s stream; never waits."""
        data = orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)
        with self._lock:
            if len(self._queue) >= self.max_queued:
                self.dropped += 1
                return
            self._queue.append((tenant, data))
            wake = not self._wake_pending
            self._wake_pending = True
        if wake and self._loop is not None and self._wake is not None:
            try:
                if threading.get_ident() == self._loop_thread:
                    self._wake.set()
                else:
                    self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop is closed: nothing will write these
                pass

    def publish_many(self, tenant: str, records: Sequence[Record]) -> None:
        for record in records:
            self.publish(tenant, record)

    def sink(self, tenant: str) -> LogSink:
        def publish_record(record: LogRecord) -> None:
            self.publish(tenant, record.to_dict())

        return publish_record

    async def _write_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            with self._lock:
                self._wake_pending = False
            await self._flush()

    async def _flush(self) -> None:
        while True:
            with self._lock:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.batch_records))]
            if not batch:
                return
            try:
                async with asyncio.timeout(self.write_timeout_seconds):
                    pipe = self.redis.pipeline(transaction=False)
                    for tenant, data in batch:
                        pipe.xadd(self.prefix + tenant, {"r": data}, maxlen=self.stream_records, approximate=True)
                    await pipe.execute()
                self.written += len(batch)
            except (RedisError, OSError, TimeoutError):
                self.dropped += len(batch)

    # reading

    def subscribe(self, tenant: str, *, last_event_id: str | None = None, replay: bool = True) -> RedisSubscription:
        subscribers = self._subscribers.setdefault(tenant, [])
        if len(subscribers) >= self.limits.subscribers_per_tenant:
            raise TooManyLogStreams(tenant, self.limits.subscribers_per_tenant)
        after = last_event_id.strip() if last_event_id and _STREAM_ID.match(last_event_id.strip()) else None
        subscription = RedisSubscription(self, tenant, after=after, replay=replay)
        subscribers.append(subscription)
        return subscription

    def forget(self, tenant: str) -> int:
        """End ``tenant``'s streams here and delete its stream (a re-created tenant starts empty)."""
        closed = self.close_subscriptions(tenant)
        if self._loop is not None:
            self._loop.create_task(self._delete(tenant))
        return closed

    async def _delete(self, tenant: str) -> None:
        try:
            await self.redis.delete(self.prefix + tenant)
        except (RedisError, OSError):
            pass

    def close_subscriptions(self, tenant: str | None = None) -> int:
        subscriptions = [s for t, group in self._subscribers.items() if tenant in (None, t) for s in group]
        for subscription in subscriptions:
            subscription.close()
        return len(subscriptions)

    def _remove(self, subscription: RedisSubscription) -> None:
        group = self._subscribers.get(subscription.tenant)
        if group and subscription in group:
            group.remove(subscription)
            if not group:
                del self._subscribers[subscription.tenant]


class RedisSubscription:
    """One reader of one tenant's stream (the SSE endpoint's view, like gateway.logs.hub.Subscription)."""

    def __init__(self, bus: RedisLogBus, tenant: str, *, after: str | None, replay: bool) -> None:
        self.bus = bus
        self.tenant = tenant
        self.key = bus.prefix + tenant
        self._after = after  # the last stream id delivered
        self._replay = replay and after is None
        self._closed = False
        self._closed_event = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed

    async def next_batch(self, timeout: float | None = None) -> list[LogEvent]:
        if self._closed:
            return []
        try:
            if self._replay:
                self._replay = False
                tail: Any = await self.bus.redis.xrevrange(self.key, count=self.bus.limits.replay_records)
                if tail:
                    self._after = _text(tail[0][0])
                    return [_event(entry) for entry in reversed(tail)]
            if self._after is None:
                newest: Any = await self.bus.redis.xrevrange(self.key, count=1)
                self._after = _text(newest[0][0]) if newest else "0-0"
            block_ms = 0 if timeout is None else max(1, int(timeout * 1000))
            read = asyncio.ensure_future(self.bus.redis.xread({self.key: self._after}, count=500, block=block_ms))
            closing = asyncio.ensure_future(self._closed_event.wait())
            done, _ = await asyncio.wait({read, closing}, return_when=asyncio.FIRST_COMPLETED)
            if read not in done:
                read.cancel()
                return []
            closing.cancel()
            answer: Any = read.result()  # [[key, [(id, fields), ...]]]
        except (RedisError, OSError):
            if timeout:
                await asyncio.sleep(min(timeout, 1.0))  # Redis is away: the stream idles, the reader stays
            return []
        events = [_event(entry) for _, entries in (answer or []) for entry in entries]
        if events:
            self._after = events[-1].id
        return events

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._closed_event.set()
            self.bus._remove(self)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _event(entry: tuple[Any, dict[Any, Any]]) -> LogEvent:
    stream_id, fields = entry
    data = fields.get(b"r", fields.get("r", b"{}"))
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        record = {"level": "error", "msg": "unreadable log record"}
    return LogEvent(_text(stream_id), record)

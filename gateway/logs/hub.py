"""The live-log hub: per-tenant topics, a replay buffer per tenant, bounded subscriptions.

Records (console.* lines of a guest, platform events) are published to the
tenant's topic from worker threads and from the event loop. Publishing never
waits for a reader: each subscriber has a bounded buffer that drops its
*oldest* records when full, counts them, and tells the reader in-band
(``{"level": "warn", "msg": "N log records dropped (slow reader)", "dropped": N}``)
just before the records that survived.

The hub is asyncio-only on the reading side (uvicorn's loop): readers are woken
from other threads with ``loop.call_soon_threadsafe``, at most one pending
wake-up per subscriber however many records arrive.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import TooManyLogStreams
from gateway.logs.bus import LogEvent, Record
from host_api.log import LogRecord, LogSink

# A record's buffer cost: the length of its string values plus this much for the
# dict and the rest. Only used to bound memory, so an estimate is enough.
RECORD_OVERHEAD_BYTES = 128


@dataclass(frozen=True)
class LogStreamLimits:
    """Bounds of the hub's memory and fan-out. Every field names its unit.

    subscriber_records, subscriber_bytes
        one reader's buffer between two reads: records and approximate bytes
        (string lengths + ``RECORD_OVERHEAD_BYTES`` each). Beyond either, the
        oldest records are dropped for that reader only. 1024 records hold four
        calls that each hit the per-call cap (``Limits.log_lines`` = 256) while
        the reader is descheduled; 1 MiB bounds what one stalled ``curl`` costs.
    replay_records, replay_bytes
        per tenant, the most recent records a new subscriber gets first, so that
        ``curl -N`` started just after a call still sees it.
    replay_total_bytes
        all tenants' replay buffers together; the least recently published
        tenant's buffer is forgotten first.
    subscribers_per_tenant
        open streams per tenant. Publishing is O(subscribers of that tenant),
        so this keeps a publisher's cost bounded.
    """

    subscriber_records: int = 1024
    subscriber_bytes: int = 1024 * 1024
    replay_records: int = 100
    replay_bytes: int = 64 * 1024
    replay_total_bytes: int = 32 * 1024 * 1024
    subscribers_per_tenant: int = 32


def _record_size(record: Record) -> int:
    return RECORD_OVERHEAD_BYTES + sum(len(value) for value in record.values() if isinstance(value, str))


class _Replay:
    __slots__ = ("bytes", "events")

    def __init__(self) -> None:
        self.events: deque[tuple[int, LogEvent, int]] = deque()  # (sequence, event, size)
        self.bytes = 0


class LogHub:
    """In-process pub/sub of log records keyed by tenant. ``publish`` is safe from any thread."""

    def __init__(self, limits: LogStreamLimits = LogStreamLimits()) -> None:
        self.limits = limits
        # Ids are "<epoch>-<sequence>": a Last-Event-ID from another hub (a restarted
        # process) has another epoch and gets the whole replay instead of a wrong cut.
        self.epoch = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._sequence = 0
        self._subscribers: dict[str, list[Subscription]] = {}
        self._replays: OrderedDict[str, _Replay] = OrderedDict()  # least recently published first
        self._replay_bytes = 0

    def publish(self, tenant: str, record: Record) -> None:
        """Hand ``record`` to the tenant's current readers and replay buffer. Never waits for a reader.

        The hub keeps a reference: do not mutate ``record`` afterwards.
        """
        size = _record_size(record)
        to_wake: list[Subscription] = []
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
            event = LogEvent(f"{self.epoch}-{sequence}", record)
            self._remember(tenant, sequence, event, size)
            for subscription in self._subscribers.get(tenant, ()):
                if subscription._offer(event, size):
                    to_wake.append(subscription)
        for subscription in to_wake:
            subscription._schedule_wake()

    def publish_many(self, tenant: str, records: Sequence[Record]) -> None:
        """``publish`` each of ``records``, in order, under one lock and with one wake-up per reader."""
        to_wake: set[Subscription] = set()
        with self._lock:
            subscribers = self._subscribers.get(tenant, ())
            for record in records:
                size = _record_size(record)
                self._sequence += 1
                sequence = self._sequence
                event = LogEvent(f"{self.epoch}-{sequence}", record)
                self._remember(tenant, sequence, event, size)
                for subscription in subscribers:
                    if subscription._offer(event, size):
                        to_wake.add(subscription)
        for subscription in to_wake:
            subscription._schedule_wake()

    def sink(self, tenant: str) -> LogSink:
        """A ``CallLog`` sink that publishes each record of a call to ``tenant``'s topic."""

        def publish_record(record: LogRecord) -> None:
            self.publish(tenant, record.to_dict())

        return publish_record

    def subscribe(self, tenant: str, *, last_event_id: str | None = None, replay: bool = True) -> Subscription:
        """Start receiving ``tenant``'s records; call from the event loop that will read them.

        The subscription starts with the replay buffer (only the records after
        ``last_event_id`` if it names one of this hub's records), then live records.
        Close it with ``async with`` or ``close()``. ``TooManyLogStreams`` when the
        tenant already has ``limits.subscribers_per_tenant`` open.
        """
        loop = asyncio.get_running_loop()
        after = self._sequence_of(last_event_id)
        with self._lock:
            subscribers = self._subscribers.setdefault(tenant, [])
            if len(subscribers) >= self.limits.subscribers_per_tenant:
                raise TooManyLogStreams(tenant, self.limits.subscribers_per_tenant)
            subscription = Subscription(self, tenant, loop)
            stored = self._replays.get(tenant)
            if replay and stored is not None:
                for sequence, event, size in stored.events:
                    if after is None or sequence > after:
                        subscription._offer(event, size)
            subscribers.append(subscription)
        return subscription

    def subscriber_count(self, tenant: str | None = None) -> int:
        """Open subscriptions of ``tenant``, or of all tenants."""
        with self._lock:
            if tenant is not None:
                return len(self._subscribers.get(tenant, ()))
            return sum(len(subscribers) for subscribers in self._subscribers.values())

    def close_subscriptions(self, tenant: str | None = None) -> int:
        """End the open subscriptions of ``tenant`` (or all): their readers drain and stop. For shutdown."""
        with self._lock:
            subscriptions = [s for t, group in self._subscribers.items() if tenant in (None, t) for s in group]
        for subscription in subscriptions:
            subscription.close()
        return len(subscriptions)

    def forget(self, tenant: str) -> int:
        """End ``tenant``'s subscriptions and drop its replay buffer (a deleted tenant's
        records must not reach a later tenant of the same name). Returns the streams closed."""
        closed = self.close_subscriptions(tenant)
        with self._lock:
            stored = self._replays.pop(tenant, None)
            if stored is not None:
                self._replay_bytes -= stored.bytes
        return closed

    def _remember(self, tenant: str, sequence: int, event: LogEvent, size: int) -> None:
        limits = self.limits
        if limits.replay_records <= 0 or size > limits.replay_bytes:
            return
        stored = self._replays.get(tenant)
        if stored is None:
            stored = self._replays[tenant] = _Replay()
        else:
            self._replays.move_to_end(tenant)
        stored.events.append((sequence, event, size))
        stored.bytes += size
        self._replay_bytes += size
        while len(stored.events) > limits.replay_records or stored.bytes > limits.replay_bytes:
            _, _, forgotten = stored.events.popleft()
            stored.bytes -= forgotten
            self._replay_bytes -= forgotten
        while self._replay_bytes > limits.replay_total_bytes:
            _, oldest = self._replays.popitem(last=False)
            self._replay_bytes -= oldest.bytes

    def _sequence_of(self, event_id: str | None) -> int | None:
        epoch, _, sequence = (event_id or "").strip().partition("-")
        if epoch != self.epoch or not (sequence.isascii() and sequence.isdigit()):
            return None
        return int(sequence)

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            subscribers = self._subscribers.get(subscription.tenant)
            if subscribers and subscription in subscribers:
                subscribers.remove(subscription)
                if not subscribers:
                    del self._subscribers[subscription.tenant]


class Subscription:
    """One reader of one tenant's topic. Iterate it (``async for batch in subscription``) for lists of ``LogEvent``.

    Bound to the event loop it was created on. Buffer state is guarded by the hub's lock.
    """

    def __init__(self, hub: LogHub, tenant: str, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.tenant = tenant
        self.dropped_total = 0
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._buffer: deque[tuple[LogEvent, int]] = deque()
        self._buffer_bytes = 0
        self._dropped = 0  # since the last read
        self._closed = False
        self._waiting = False  # the reader is parked (or about to park) on _waiter
        self._wake_pending = False  # a _wake callback is scheduled and has not run yet
        self._waiter: asyncio.Future[None] | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    async def next_batch(self, timeout: float | None = None) -> list[LogEvent]:
        """Everything buffered, waiting up to ``timeout`` seconds for something to arrive.

        An empty list means the timeout passed, or the subscription is closed and drained (see ``closed``).
        A notice of dropped records comes first in the batch when the buffer overflowed.
        """
        deadline = None if timeout is None else self._loop.time() + timeout
        timed_out = False
        while True:
            with self.hub._lock:
                if self._buffer or self._dropped:
                    taken, dropped = self._take()
                elif self._closed or timed_out:
                    return []
                else:
                    taken, dropped = None, 0
                    self._waiting = True
            if taken is not None:
                return self._batch(taken, dropped)
            # Any publish from here on sees _waiting and schedules _wake, which
            # cannot run before we park on the waiter: it runs on this loop.
            waiter = self._waiter = self._loop.create_future()
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except TimeoutError:
                timed_out = True  # one more look: a record may have raced the deadline
            finally:
                self._waiter = None
                with self.hub._lock:
                    self._waiting = False

    def close(self) -> None:
        """Stop receiving; the reader gets what is buffered, then the end. Safe from any thread, idempotent."""
        self.hub._remove(self)
        with self.hub._lock:
            self._closed = True
            wake = self._claim_wake()
        if wake:
            self._schedule_wake()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[list[LogEvent]]:
        return self

    async def __anext__(self) -> list[LogEvent]:
        batch = await self.next_batch()
        if not batch:
            raise StopAsyncIteration
        return batch

    def _offer(self, event: LogEvent, size: int) -> bool:
        """Buffer ``event`` (hub lock held), dropping the oldest when full; True if the reader needs a wake-up."""
        limits = self.hub.limits
        self._buffer.append((event, size))
        self._buffer_bytes += size
        while len(self._buffer) > limits.subscriber_records or self._buffer_bytes > limits.subscriber_bytes:
            _, forgotten = self._buffer.popleft()
            self._buffer_bytes -= forgotten
            self._dropped += 1
        return self._claim_wake()

    def _claim_wake(self) -> bool:
        if self._waiting and not self._wake_pending:
            self._wake_pending = True
            return True
        return False

    def _schedule_wake(self) -> None:
        try:
            if threading.get_ident() == self._loop_thread:
                self._loop.call_soon(self._wake)
            else:
                self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the loop is closed: nobody is left to wake
            self._wake_pending = False

    def _wake(self) -> None:
        with self.hub._lock:  # no further wake-ups until the reader parks again
            self._wake_pending = False
            self._waiting = False
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _take(self) -> tuple[deque[tuple[LogEvent, int]], int]:
        """Swap the buffer out (hub lock held): O(1), so a publisher never waits behind a long drain."""
        taken, self._buffer = self._buffer, deque()
        self._buffer_bytes = 0
        dropped, self._dropped = self._dropped, 0
        self.dropped_total += dropped
        return taken, dropped

    def _batch(self, taken: deque[tuple[LogEvent, int]], dropped: int) -> list[LogEvent]:
        batch = [LogEvent(None, _dropped_notice(self.tenant, dropped))] if dropped else []
        batch.extend(event for event, _ in taken)
        return batch


def _dropped_notice(tenant: str, dropped: int) -> dict[str, Any]:
    return {
        "time": time.time(),
        "level": "warn",
        "tenant": tenant,
        "msg": f"{dropped} log records dropped (slow reader)",
        "dropped": dropped,
    }

"""Live per-tenant log streaming: an in-process hub, its SSE endpoint, a terminal follower.

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
import datetime
import random
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, NamedTuple, TextIO
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from host_api.log import LogRecord, LogSink

Record = Mapping[str, Any]

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


class LogEvent(NamedTuple):
    """One item delivered to a subscriber: a record and its stream id (None for the hub's own notices)."""

    id: str | None
    record: Record


class TooManySubscribers(Exception):
    """The tenant already has ``LogStreamLimits.subscribers_per_tenant`` open log streams."""

    code = "too_many_log_streams"

    def __init__(self, tenant: str, limit: int) -> None:
        super().__init__(f"tenant {tenant!r} already has {limit} open log streams")
        self.tenant = tenant
        self.limit = limit


def _record_size(record: Record) -> int:
    return RECORD_OVERHEAD_BYTES + sum(len(value) for value in record.values() if isinstance(value, str))


class _Replay:
    __slots__ = ("events", "bytes")

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

    def sink(self, tenant: str) -> LogSink:
        """A ``CallLog`` sink that publishes each record of a call to ``tenant``'s topic."""

        def publish_record(record: LogRecord) -> None:
            self.publish(tenant, record.to_dict())

        return publish_record

    def subscribe(self, tenant: str, *, last_event_id: str | None = None, replay: bool = True) -> Subscription:
        """Start receiving ``tenant``'s records; call from the event loop that will read them.

        The subscription starts with the replay buffer (only the records after
        ``last_event_id`` if it names one of this hub's records), then live records.
        Close it with ``async with`` or ``close()``.
        """
        loop = asyncio.get_running_loop()
        after = self._sequence_of(last_event_id)
        with self._lock:
            subscribers = self._subscribers.setdefault(tenant, [])
            if len(subscribers) >= self.limits.subscribers_per_tenant:
                raise TooManySubscribers(tenant, self.limits.subscribers_per_tenant)
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


# --- the SSE endpoint -------------------------------------------------------

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
SSE_PREAMBLE = b": subscribed\n\n"  # sent once subscribed: flushes the headers for curl -N
SSE_PING = b": ping\n\n"


def encode_events(events: Iterable[LogEvent]) -> bytes:
    """Server-sent events, one ``id:`` + ``data: <json>`` event per record (orjson never emits a raw newline)."""
    chunks: list[bytes] = []
    for event in events:
        if event.id is not None:
            chunks.append(b"id: " + event.id.encode() + b"\n")
        chunks.append(b"data: " + _json(event.record) + b"\n\n")
    return b"".join(chunks)


def _json(record: Record) -> bytes:
    try:
        return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as exc:
        return orjson.dumps({"time": time.time(), "level": "error", "msg": f"unserializable log record: {exc}"})


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` of one subscription; the subscription is closed however the response ends."""

    media_type = "text/event-stream"

    def __init__(self, subscription: Subscription, heartbeat_seconds: float) -> None:
        self.subscription = subscription
        self.heartbeat_seconds = heartbeat_seconds
        super().__init__(self._stream(), headers=SSE_HEADERS)

    async def _stream(self) -> AsyncIterator[bytes]:
        yield SSE_PREAMBLE
        while True:
            batch = await self.subscription.next_batch(timeout=self.heartbeat_seconds)
            if batch:
                yield encode_events(batch)
            elif self.subscription.closed:
                return
            else:
                yield SSE_PING

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette (ASGI spec < 2.4, as uvicorn reports) cancels the stream when the
        # client disconnects; closing here also covers a body that never started.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.subscription.close()


def logs_endpoint(hub: LogHub, *, heartbeat_seconds: float = 15.0) -> Callable[[Request], Awaitable[Response]]:
    """``GET /api/logs/{tenant}``: the tenant's records as server-sent events. Authenticate before calling it.

    Honours ``Last-Event-ID`` (resume after that record) and ``?replay=0`` (live records only).
    """

    async def stream_logs(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        try:
            subscription = hub.subscribe(
                tenant,
                last_event_id=request.headers.get("last-event-id"),
                replay=request.query_params.get("replay", "1") not in ("0", "false", "no"),
            )
        except TooManySubscribers as exc:
            return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=429)
        return EventStreamResponse(subscription, heartbeat_seconds)

    return stream_logs


# --- the terminal side ------------------------------------------------------

_KNOWN_FIELDS = frozenset({"time", "level", "msg", "tenant", "function", "version", "request_id"})
_LEVEL_COLORS = {"debug": "\x1b[2m", "info": "\x1b[36m", "warn": "\x1b[33m", "error": "\x1b[31m"}
_RESET = "\x1b[0m"
# C0 controls (except tab and newline), DEL and C1 controls: a guest must not drive the reader's terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(code) not in "\t\n"}
_CONTROL[ord("\n")] = "\n    "  # continuation lines are indented, so a message cannot forge a record line


def _clean(text: object) -> str:
    return str(text).translate(_CONTROL)


def _format_time(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return _clean(value) if value else "-"


def _format_value(value: object) -> str:
    if isinstance(value, str):
        return value if value and not any(c.isspace() or c in "\"=" for c in value) else orjson.dumps(value).decode()
    return orjson.dumps(value, default=str).decode()


def format_record(record: Record, *, color: bool = False) -> str:
    """One line for a terminal: ``time level [function@version request_id] msg key=value...``.

    Control characters from the record are escaped; extra fields (event, duration_ms,
    fuel, code, dropped, ...) follow the message as ``key=value``.
    """
    level = str(record.get("level") or "info")
    level_text = f"{level.upper():5}"
    if color and level in _LEVEL_COLORS:
        level_text = _LEVEL_COLORS[level] + level_text + _RESET
    where = str(record.get("function") or "")
    if where and record.get("version") not in (None, ""):
        where += f"@{record['version']}"
    context = " ".join(part for part in (where, str(record.get("request_id") or "")) if part)
    parts = [_format_time(record.get("time")), level_text]
    if context:
        parts.append(f"[{_clean(context)}]")
    parts.append(_clean(record.get("msg", "")))
    parts.extend(_clean(f"{key}={_format_value(value)}") for key, value in record.items() if key not in _KNOWN_FIELDS)
    return " ".join(parts)


class _ServerSentEvents:
    """The parts of the SSE parsing rules a log follower needs: data and id; comments and retry ignored."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Take one line; return the event's data when the line ends an event."""
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        return None


class _Unrecoverable(Exception):
    """The gateway refused the stream in a way that retrying will not fix (auth, unknown tenant)."""


def follow_logs(
    url: str,
    tenant: str,
    token: str,
    out: TextIO = sys.stdout,
    *,
    err: TextIO = sys.stderr,
    color: bool | None = None,
    stop: threading.Event | None = None,
    min_backoff: float = 0.5,
    max_backoff: float = 30.0,
    read_timeout: float = 45.0,
) -> int:
    """Print ``tenant``'s live records from the gateway at ``url`` (its base URL) until interrupted.

    Reconnects on drops and server errors with exponential backoff (``min_backoff``
    doubling up to ``max_backoff`` seconds, jittered), resuming after the last record
    seen (``Last-Event-ID``), so a reconnect neither repeats nor, within the replay
    buffer, skips records. ``read_timeout`` (seconds) must exceed the server's
    heartbeat interval (15 s). Returns the exit status: 1 when the gateway refuses
    (401, 403, 404), 130 on Ctrl-C, 0 when ``stop`` is set (checked at each line
    and while waiting to reconnect).
    """
    import httpx

    stream_url = f"{url.rstrip('/')}/api/logs/{quote(tenant, safe='')}"
    color = out.isatty() if color is None else color
    timeout = httpx.Timeout(10.0, read=read_timeout)
    parser = _ServerSentEvents()
    backoff = min_backoff
    try:
        with httpx.Client(timeout=timeout) as client:
            while stop is None or not stop.is_set():
                headers = {"authorization": f"Bearer {token}", "accept": "text/event-stream"}
                if parser.last_event_id:
                    headers["last-event-id"] = parser.last_event_id
                try:
                    with client.stream("GET", stream_url, headers=headers) as response:
                        _check_status(response)
                        backoff = min_backoff
                        for line in response.iter_lines():
                            data = parser.feed(line)
                            if data is not None:
                                _print_event(data, out, color)
                            if stop is not None and stop.is_set():
                                return 0
                    reason = "stream ended"
                except _Unrecoverable as exc:
                    print(f"error: {exc}", file=err)
                    return 1
                except (httpx.TransportError, _Retryable) as exc:
                    reason = str(exc) or type(exc).__name__
                delay = backoff * random.uniform(0.8, 1.2)
                print(f"(log stream: {reason}; reconnecting in {delay:.1f}s)", file=err, flush=True)
                if stop is not None and stop.wait(delay):
                    break
                if stop is None:
                    time.sleep(delay)
                backoff = min(max_backoff, backoff * 2)
    except KeyboardInterrupt:
        return 130
    return 0


class _Retryable(Exception):
    """The gateway answered with a status worth retrying (429, 5xx)."""


def _check_status(response: Any) -> None:
    if response.status_code == 200:
        return
    response.read()
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    text = f"HTTP {response.status_code}: {message}"
    if response.status_code in (401, 403, 404):
        raise _Unrecoverable(text)
    raise _Retryable(text)


def _print_event(data: str, out: TextIO, color: bool) -> None:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        record = {"level": "info", "msg": data}
    if not isinstance(record, dict):
        record = {"level": "info", "msg": data}
    print(format_record(record, color=color), file=out, flush=True)

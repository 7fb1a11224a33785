"""What the gateway needs of a live log, whoever provides it.

``gateway.logs.hub.LogHub`` (one worker, in memory) and
``gateway.coordination.RedisLogBus`` (every worker, a Redis Stream per tenant)
both do; the SSE endpoint (sse.py) reads a ``Subscription`` of either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from host_api.log import LogSink

Record = Mapping[str, Any]


class LogEvent(NamedTuple):
    """One item delivered to a subscriber: a record and its stream id (None for notices of the bus itself)."""

    id: str | None
    record: Record


class Subscription(Protocol):
    """One reader of one tenant's records."""

    @property
    def closed(self) -> bool: ...

    async def next_batch(self, timeout: float | None = None) -> list[LogEvent]:
        """What arrived, waiting up to ``timeout`` seconds; [] on timeout, or once closed and drained."""
        ...

    def close(self) -> None: ...


class LogBus(Protocol):
    def publish(self, tenant: str, record: Record) -> None:
        """Hand ``record`` to the tenant's readers; never waits for them. Safe from any thread."""
        ...

    def publish_many(self, tenant: str, records: Sequence[Record]) -> None:
        """``publish`` each of ``records``, in order (one call's events and lines in one batch)."""
        ...

    def sink(self, tenant: str) -> LogSink: ...

    def subscribe(self, tenant: str, *, last_event_id: str | None = None, replay: bool = True) -> Subscription:
        """Start reading ``tenant``'s records (after ``last_event_id``, or the recent ones with ``replay``)."""
        ...

    def forget(self, tenant: str) -> int:
        """End the tenant's subscriptions and drop its records (a deleted tenant)."""
        ...

    def close_subscriptions(self, tenant: str | None = None) -> int: ...

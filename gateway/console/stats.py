"""Per-function call statistics for the console: calls, errors, duration and fuel per minute, for an hour.

Where the numbers come from: the tenant's live log (gateway/logs), which carries an
``invocation_end`` event for every call with its ``code``, ``duration_ms`` and
``fuel_used``. The first time the console asks for a tenant's statistics, this
worker subscribes to that tenant's log (with its replay, the last records) and from
then on folds every ``invocation_end`` into per-minute buckets kept for an hour.
With several workers the log is the shared Redis stream, so whichever worker answers
counts the calls of *every* worker; it counts from the moment it first subscribed
(plus the replay), and a worker that restarts starts counting again. Nothing is
written anywhere: these are a dashboard's numbers, not billing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from gateway.logs.bus import LogBus, Record

WINDOW_MINUTES = 60
MAX_SAMPLES_PER_MINUTE = 512  # durations and fuel kept per function and minute for the percentiles


@dataclass
class Minute:
    calls: int = 0
    errors: int = 0
    durations_ms: list[float] = field(default_factory=list)
    fuel: list[int] = field(default_factory=list)


EMPTY = Minute()


def _point(minute: int, bucket: Minute) -> dict[str, Any]:
    """One minute of the chart (every minute of the window has one; a quiet one has zeros and no percentiles)."""
    return {"minute": minute * 60, "calls": bucket.calls, "errors": bucket.errors,
            "p50_ms": percentile(bucket.durations_ms, 0.5), "p99_ms": percentile(bucket.durations_ms, 0.99),
            "fuel_p50": percentile([float(f) for f in bucket.fuel], 0.5)}


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class TenantStats:
    """One tenant's buckets: function -> minute (epoch // 60) -> ``Minute``."""

    def __init__(self) -> None:
        self.functions: dict[str, dict[int, Minute]] = defaultdict(dict)
        self.since = time.time()

    def add(self, record: Record) -> None:
        function = record.get("function")
        if record.get("event") != "invocation_end" or not isinstance(function, str) or not function:
            return
        minute = int(float(record.get("time") or time.time()) // 60)
        buckets = self.functions[function]
        bucket = buckets.setdefault(minute, Minute())
        bucket.calls += 1
        if record.get("code") != "ok" or int(record.get("status") or 200) >= 500:
            bucket.errors += 1
        if len(bucket.durations_ms) < MAX_SAMPLES_PER_MINUTE:
            bucket.durations_ms.append(float(record.get("duration_ms") or 0.0))
            bucket.fuel.append(int(record.get("fuel_used") or 0))
        for old in [m for m in buckets if m <= minute - WINDOW_MINUTES]:
            del buckets[old]

    def summary(self, now: float | None = None) -> dict[str, Any]:
        current = int((now or time.time()) // 60)
        first = current - WINDOW_MINUTES + 1
        out: dict[str, Any] = {}
        for function, buckets in self.functions.items():
            minutes = [(m, b) for m, b in sorted(buckets.items()) if m >= first]
            durations = [d for _, b in minutes for d in b.durations_ms]
            fuel = [float(f) for _, b in minutes for f in b.fuel]
            out[function] = {
                "calls": sum(b.calls for _, b in minutes),
                "errors": sum(b.errors for _, b in minutes),
                "p50_ms": percentile(durations, 0.5),
                "p99_ms": percentile(durations, 0.99),
                "fuel_p50": percentile(fuel, 0.5),
                "series": [_point(m, buckets.get(m, EMPTY)) for m in range(first, current + 1)],
            }
        return out


class CallStats:
    """Every tenant the console looked at, each fed by its own log subscription (a task on the event loop)."""

    def __init__(self, logs: LogBus) -> None:
        self.logs = logs
        self.tenants: dict[str, TenantStats] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def follow(self, tenant: str) -> TenantStats:
        """The tenant's statistics, subscribing to its log on the first ask (or again if that subscription ended)."""
        stats = self.tenants.setdefault(tenant, TenantStats())
        task = self.tasks.get(tenant)
        if task is None or task.done():
            subscription = self.logs.subscribe(tenant, replay=True)
            self.tasks[tenant] = asyncio.get_running_loop().create_task(self._fold(subscription, stats))
        return stats

    async def settle(self, tenant: str, seconds: float = 0.05) -> None:
        """Give a just-started subscription a moment to fold the replay in."""
        await asyncio.sleep(seconds if self.tasks.get(tenant) is not None else 0)

    @staticmethod
    async def _fold(subscription: Any, stats: TenantStats) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            try:
                while not subscription.closed:
                    for event in await subscription.next_batch(timeout=30.0):
                        stats.add(event.record)
            finally:
                subscription.close()

    def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()

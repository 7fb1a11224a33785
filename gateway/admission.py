"""Fair admission to isolates: a per-tenant concurrency cap with a short bounded queue, then a global cap.

A call first takes one of its tenant's slots (``concurrency``, never more than
``max_isolates - 1`` so another tenant always finds one free), then one of the
server's ``max_isolates`` slots, then runs on a worker thread. A call that cannot
get its tenant slot within ``queue_timeout_ms`` (or finds ``queue_depth`` calls
already waiting) fails with ``concurrency_limit``; one that cannot get a server
slot in time fails with ``overloaded``.

Between tenants the queues are FIFO (anyio's ``CapacityLimiter`` admits its
waiters in arrival order), and a tenant's waiting calls never hold a server slot.
The CPU is shared the same way: a call on a worker thread runs at a lower CPU
priority (``WORKER_NICENESS``) than the event loop, where every request is read
and answered and short edge calls run inline (gateway/inline.py). So a tenant
whose calls burn CPU at its concurrency cap takes the cores the loop leaves idle,
not the loop's turn: another tenant's short calls keep their latency.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import anyio.to_thread

from gateway.errors import ConcurrencyLimited
from isolates import Overloaded

T = TypeVar("T")

# Linux nice values are per thread: +10 gives a worker thread about a tenth of the
# event loop's CPU weight while both want the CPU (and all the CPU the loop leaves).
WORKER_NICENESS = 10


def at_lower_priority(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` on this thread at ``WORKER_NICENESS`` more than it had, then as before.

    Raising a thread's nice value needs no privilege; lowering it back does for an
    unprivileged process, so a thread that cannot go back stays lowered (it only runs calls)."""
    thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, thread)
    os.setpriority(os.PRIO_PROCESS, thread, min(19, before + WORKER_NICENESS))
    try:
        return function(*args)
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, thread, before)
        except PermissionError:
            pass


@dataclass
class TenantGate:
    limiter: anyio.CapacityLimiter
    waiting: int = 0
    in_flight: int = field(default=0)


class Admission:
    def __init__(self, *, max_isolates: int, queue_depth: int, queue_timeout_ms: int) -> None:
        self.max_isolates = max_isolates
        self.queue_depth = queue_depth
        self.queue_timeout = queue_timeout_ms / 1000
        self.isolates = anyio.CapacityLimiter(max_isolates)
        # the worker threads: as many as isolate slots, so run_sync never queues on its own
        self.threads = anyio.CapacityLimiter(max_isolates)
        self._gates: dict[str, TenantGate] = {}

    def tenant_capacity(self, concurrency: int) -> int:
        return max(1, min(concurrency, self.max_isolates - 1))

    def in_flight(self) -> int:
        return int(self.isolates.borrowed_tokens)

    def _gate(self, tenant: str, concurrency: int) -> TenantGate:
        capacity = self.tenant_capacity(concurrency)
        gate = self._gates.get(tenant)
        if gate is None:
            gate = self._gates[tenant] = TenantGate(anyio.CapacityLimiter(capacity))
        elif gate.limiter.total_tokens != capacity:
            gate.limiter.total_tokens = capacity
        return gate

    @asynccontextmanager
    async def slot(self, tenant: str, concurrency: int) -> AsyncIterator[None]:
        """Hold one tenant slot and one server slot for the body of the ``async with``."""
        gate = self._gate(tenant, concurrency)
        borrower = object()
        if gate.limiter.available_tokens < 1 and gate.waiting >= self.queue_depth:
            raise ConcurrencyLimited(
                f"tenant {tenant!r} has {gate.limiter.borrowed_tokens} calls running and {gate.waiting} waiting",
                headers={"retry-after": "1"},
            )
        gate.waiting += 1
        try:
            with anyio.fail_after(self.queue_timeout):
                await gate.limiter.acquire_on_behalf_of(borrower)
        except TimeoutError:
            raise ConcurrencyLimited(
                f"tenant {tenant!r} is at its concurrency limit ({int(gate.limiter.total_tokens)} calls in flight)",
                headers={"retry-after": "1"},
            ) from None
        finally:
            gate.waiting -= 1
        try:
            try:
                with anyio.fail_after(self.queue_timeout):
                    await self.isolates.acquire_on_behalf_of(borrower)
            except TimeoutError:
                raise Overloaded("no isolate slot came free on this server") from None
            try:
                gate.in_flight += 1
                yield
            finally:
                gate.in_flight -= 1
                self.isolates.release_on_behalf_of(borrower)
        finally:
            gate.limiter.release_on_behalf_of(borrower)

    async def run(self, tenant: str, concurrency: int, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` on a worker thread at a lower CPU priority, inside a tenant slot and a server slot."""
        async with self.slot(tenant, concurrency):
            return await anyio.to_thread.run_sync(at_lower_priority, function, *args, limiter=self.threads)

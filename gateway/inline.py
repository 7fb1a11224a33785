"""Short calls on the event loop itself: no hand-off to a worker thread and back.

Measured here (Workers hello through the gateway, one connection): the thread
hand-off costs ~96 us in and ~89 us out, against ~530 us of work. Most edge
calls are that short, so a call may first run *inline*, on the event loop, with
its fuel capped at ``INLINE_FUEL`` (about 2 ms of guest code) and its deadline
at ``INLINE_WALL_CLOCK_MS``. That bounds how long one call can hold the loop
(and so every other tenant's requests) by a couple of milliseconds.

If the capped attempt runs out of fuel or time while the function's own limits
are higher, its outcome is dropped unseen (its log lines were only buffered)
and the call runs again on a worker thread with the real limits; the function
version is then marked slow and not tried inline again. Re-running is invisible
to the guest because an inline attempt has no side effects: only functions
with no allowed outbound hosts (so ``fetch`` can only be refused) run inline,
and a guest is otherwise deterministic but for clock and randomness. Storage
(``ctx.storage``, ``env.KV``) is a database round trip and a side effect: its
first operation in an inline attempt ends the attempt, unseen, before it reaches
the database, and the call runs on a worker thread (the version is marked, as
a slow one is, so this happens once per version and process).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import replace
from enum import Enum

from isolates import (
    CallSpec,
    CpuLimitExceeded,
    InvokeResult,
    Limits,
    ModuleProgram,
    Program,
    Timeout,
    run,
)

logger = logging.getLogger("wasmtask.gateway")

INLINE_FUEL = 3_000_000  # ~2 ms of QuickJS here; a Workers hello uses ~0.4 M
INLINE_WALL_CLOCK_MS = 20  # two epoch ticks: a guest blocked in a host call cannot hold the loop longer
SLOW_MARKS_REMEMBERED = 4096


class AfterResponse:
    """Work of inline calls that their responses do not wait for: dropping the Store (its
    pooling slot's reset, a good part of a short call), publishing the call's log batch,
    updating its metrics.

    It runs on the loop's next turn, or at the start of the next inline call if that
    comes first, in the order it was deferred. So at most one call's worth waits at
    any time, and the pooling slot just freed (its pages still in the cache) is the
    one the next call takes: a burst of inline calls in one loop turn never holds a
    slot each until the turn ends (back to back, with no turn between, slots would
    run out)."""

    def __init__(self) -> None:
        self._work: deque[Callable[[], object]] = deque()
        self._scheduled = False

    def __len__(self) -> int:
        return len(self._work)

    def defer(self, work: Callable[[], object]) -> None:
        """Run ``work`` after this call's response (``isolates.run``'s ``release`` for its Store's drop)."""
        self._work.append(work)
        if not self._scheduled:
            try:
                asyncio.get_running_loop().call_soon(self.drain)
            except RuntimeError:  # no loop to come back to: now
                self.drain()
                return
            self._scheduled = True

    def drain(self) -> None:
        """Run everything deferred so far, in order. An item that raises (a bug: a Store's close
        never does) is logged and the rest still run: it is no later call's error."""
        self._scheduled = False
        work = self._work
        while work:
            try:
                work.popleft()()
            except Exception:
                logger.exception("work deferred until after a response failed")


class InlinePolicy:
    """Which calls may run inline, and which function versions proved too slow for it."""

    def __init__(self) -> None:
        self._slow: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self.after_response = AfterResponse()  # what inline calls leave until their responses are out

    def eligible(self, program: Program, key: tuple[str, str, str], allowed_hosts: tuple[str, ...]) -> bool:
        """Core modules without egress, not marked slow (a component call alone takes ~1.5 ms)."""
        return isinstance(program, ModuleProgram) and not allowed_hosts and key not in self._slow

    def mark_slow(self, key: tuple[str, str, str]) -> None:
        self._slow[key] = None
        while len(self._slow) > SLOW_MARKS_REMEMBERED:
            self._slow.popitem(last=False)


@functools.lru_cache(maxsize=4096)
def inline_limits(limits: Limits) -> Limits:
    return limits.with_overrides(fuel=min(limits.fuel, INLINE_FUEL), wall_clock_ms=min(limits.wall_clock_ms,
                                                                                        INLINE_WALL_CLOCK_MS))


class Stopped(Enum):
    """Why an inline attempt was dropped: the version needs more fuel than the inline cap
    (mark it slow), or the loop was busy past the inline deadline (try inline again next time:
    a descheduled attempt says nothing about the function)."""

    FUEL = "fuel"
    TIME = "time"


def attempt_inline(program: Program, request: dict[str, object], spec: CallSpec,
                   after: AfterResponse | None = None) -> InvokeResult | Stopped:
    """Run the call under the inline caps; ``Stopped`` when the caps (not the function's
    limits) stopped it. The guest's log lines are not streamed: they come back in the
    result's (or the error's) ``logs``, for the caller to publish with the call's
    events in one batch, and only when the attempt counts. Other errors count and are raised.
    With ``after``, the Store is dropped after the response (``AfterResponse``)."""
    # storage is never touched on the loop: a first operation ends the attempt (out of fuel) before
    # it reaches the database, and the call runs on a worker thread (isolates/capabilities/storage.py)
    capped = replace(spec, limits=inline_limits(spec.limits), log_sink=None,
                     storage=None if spec.storage is None else spec.storage.on_the_loop())
    if after is not None:
        after.drain()  # what the previous inline call left, if the loop has not turned since
    try:
        # without ``after`` (no loop to come back to) the Store is dropped before ``run`` returns
        return run(program, request, capped, release=None if after is None else after.defer)
    except CpuLimitExceeded:
        if capped.limits.fuel < spec.limits.fuel or (capped.storage is not None and capped.storage.deferred):
            return Stopped.FUEL  # the version is not tried inline again
        raise
    except Timeout:
        if capped.limits.wall_clock_ms < spec.limits.wall_clock_ms:
            return Stopped.TIME
        raise


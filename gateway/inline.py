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
and a guest is otherwise deterministic but for clock and randomness.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
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

INLINE_FUEL = 3_000_000  # ~2 ms of QuickJS here; a Workers hello uses ~0.4 M
INLINE_WALL_CLOCK_MS = 20  # two epoch ticks: a guest blocked in a host call cannot hold the loop longer
SLOW_MARKS_REMEMBERED = 4096


class InlinePolicy:
    """Which calls may run inline, and which function versions proved too slow for it."""

    def __init__(self) -> None:
        self._slow: OrderedDict[tuple[str, str, str], None] = OrderedDict()

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


def attempt_inline(program: Program, request: dict[str, object], spec: CallSpec) -> InvokeResult | Stopped:
    """Run the call under the inline caps; ``Stopped`` when the caps (not the function's
    limits) stopped it. The guest's log lines are not streamed: they come back in the
    result's (or the error's) ``logs``, for the caller to publish with the call's
    events in one batch, and only when the attempt counts. Other errors count and are raised."""
    capped = replace(spec, limits=inline_limits(spec.limits), log_sink=None)
    try:
        # the Store's drop (the pooling slot's reset, a good part of a short call) runs on the
        # loop's next turn, after this call's response has been written
        return run(program, request, capped, release=_next_turn())
    except CpuLimitExceeded:
        if capped.limits.fuel < spec.limits.fuel:
            return Stopped.FUEL
        raise
    except Timeout:
        if capped.limits.wall_clock_ms < spec.limits.wall_clock_ms:
            return Stopped.TIME
        raise


def _next_turn() -> Callable[[Callable[[], None]], object] | None:
    """The loop's ``call_soon`` (None without a running loop: the Store is dropped at once)."""
    try:
        return asyncio.get_running_loop().call_soon
    except RuntimeError:
        return None

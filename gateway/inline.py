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

from collections import OrderedDict

from host_api.log import CallLog
from isolates import CpuLimitExceeded, InvokeResult, Limits, Program, Timeout, invoke

INLINE_FUEL = 3_000_000  # ~2 ms of QuickJS here; a Workers hello uses ~0.4 M
INLINE_WALL_CLOCK_MS = 20  # two epoch ticks: a guest blocked in a host call cannot hold the loop longer
SLOW_MARKS_REMEMBERED = 4096


class InlinePolicy:
    """Which calls may run inline, and which function versions proved too slow for it."""

    def __init__(self) -> None:
        self._slow: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def eligible(self, program: Program, key: tuple[str, str, str], allowed_hosts: tuple[str, ...]) -> bool:
        return program.language != "python" and not allowed_hosts and key not in self._slow

    def mark_slow(self, key: tuple[str, str, str]) -> None:
        self._slow[key] = None
        while len(self._slow) > SLOW_MARKS_REMEMBERED:
            self._slow.popitem(last=False)


def inline_limits(limits: Limits) -> Limits:
    return limits.with_overrides(fuel=min(limits.fuel, INLINE_FUEL), wall_clock_ms=min(limits.wall_clock_ms, INLINE_WALL_CLOCK_MS))


def attempt_inline(program: Program, request: dict[str, object], limits: Limits, log: CallLog) -> InvokeResult | None:
    """Run the call under the inline caps; ``None`` when the caps (not the function's
    limits) stopped it. The guest's log lines are kept in a buffer and handed to
    ``log`` only when the attempt counts. Other errors count and are raised."""
    capped = inline_limits(limits)
    buffered = CallLog(max_bytes=limits.log_bytes, max_lines=limits.log_lines, request_id=log.request_id, fields=log.fields,
                       mask=log.mask)
    try:
        result = invoke(program, request, capped, log=buffered)
    except CpuLimitExceeded:
        if capped.fuel < limits.fuel:
            return None
        _forward(buffered, log)
        raise
    except Timeout:
        if capped.wall_clock_ms < limits.wall_clock_ms:
            return None
        _forward(buffered, log)
        raise
    except BaseException:
        _forward(buffered, log)
        raise
    _forward(buffered, log)
    result.logs = log.records
    result.logs_dropped = log.dropped
    return result


def _forward(buffered: CallLog, log: CallLog) -> None:
    for record in buffered.records:
        log.keep(record)
    log.dropped += buffered.dropped

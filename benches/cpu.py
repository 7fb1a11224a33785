"""CPU time of the processes under test, from /proc: how the 2 cores were shared between servers and wrk.

A server's CPU is the user + system time of every process in its process group
(the harness starts each server as a group leader, so uvicorn's workers count
with their supervisor), with the children each has reaped (a Node server's
per-request processes), plus any extra PIDs it depends on (the bench's
redis-server). wrk's CPU is this process's reaped children's (``RUSAGE_CHILDREN``).
Clock ticks are 10 ms here: over a few seconds of load that is a few µs a request.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone (or never there)
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return text[text.rindex(")") + 2:].split()


def process_cpu_seconds(pid: int, *, reaped_children: bool = True) -> float:
    """utime + stime of one process, and of the children it has waited for, in seconds (0.0 if it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # fields[0] is the state (stat field 3): utime, stime, cutime, cstime are stat fields 14 to 17.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS_PER_SECOND


def group_pids(pgid: int) -> list[int]:
    """Every live process whose process group is ``pgid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[2]) == pgid:  # stat field 5: pgrp
            pids.append(int(entry.name))
    return pids


def group_cpu_seconds(pgid: int, extra_pids: Iterable[int] = ()) -> float:
    """CPU seconds used so far by the process group ``pgid`` and by ``extra_pids``."""
    return sum(process_cpu_seconds(pid) for pid in {*group_pids(pgid), *extra_pids})


def children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have been waited for (wrk, after each run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

"""Clocks: real wall-clock and monotonic time per call (never a snapshot's), for every guest kind.

Core modules: ``wasmtask.now_ms() -> f64`` and WASI ``clock_time_get`` /
``clock_res_get``. Components: ``wasi:clocks/wall-clock`` and
``wasi:clocks/monotonic-clock``.
"""

from __future__ import annotations

import struct
import time
from types import SimpleNamespace

from host_api import abi
from isolates import raw
from isolates.call_context import GuestMemoryError, current
from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction

ERRNO_SUCCESS = 0
ERRNO_FAULT = 21
ERRNO_INVAL = 28
CLOCK_REALTIME = 0
CLOCK_MONOTONIC_IDS = (1, 2, 3)  # monotonic, process and thread CPU time: all answered monotonic
RESOLUTION_NS = 1000


def wall_ns() -> int:
    return time.time_ns()


def monotonic_ns() -> int:
    return time.monotonic_ns()


def module_now_ms(_context_ptr: raw.RawContext) -> float:
    return wall_ns() / 1_000_000


def _write_u64(context_ptr: raw.RawContext, out_ptr: int, value: int) -> int:
    context = current()
    if context is None:
        return ERRNO_FAULT
    try:
        context.write(context_ptr, out_ptr, struct.pack("<Q", value))
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_clock_time_get(context_ptr: raw.RawContext, clock_id: int, _precision: int, out_ptr: int) -> int:
    if clock_id == CLOCK_REALTIME:
        return _write_u64(context_ptr, out_ptr, wall_ns())
    if clock_id in CLOCK_MONOTONIC_IDS:
        return _write_u64(context_ptr, out_ptr, monotonic_ns())
    return ERRNO_INVAL


def wasi_clock_res_get(context_ptr: raw.RawContext, _clock_id: int, out_ptr: int) -> int:
    return _write_u64(context_ptr, out_ptr, RESOLUTION_NS)


def _datetime(nanoseconds: int) -> SimpleNamespace:
    return SimpleNamespace(seconds=nanoseconds // 1_000_000_000, nanoseconds=nanoseconds % 1_000_000_000)


CLOCK = Capability(
    name="clock",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_NOW_MS, (), ("f64",), module_now_ms),
        ModuleFunction(abi.WASI_MODULE, "clock_time_get", ("i32", "i64", "i32"), ("i32",), wasi_clock_time_get),
        ModuleFunction(abi.WASI_MODULE, "clock_res_get", ("i32", "i32"), ("i32",), wasi_clock_res_get),
    ),
    component_functions=(
        ComponentFunction("wasi:clocks/wall-clock", "now", lambda _store: _datetime(wall_ns())),
        ComponentFunction("wasi:clocks/wall-clock", "resolution", lambda _store: _datetime(RESOLUTION_NS)),
        ComponentFunction("wasi:clocks/monotonic-clock", "now", lambda _store: monotonic_ns()),
        ComponentFunction("wasi:clocks/monotonic-clock", "resolution", lambda _store: RESOLUTION_NS),
    ),
)

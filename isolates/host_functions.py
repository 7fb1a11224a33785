"""Host functions a guest may import, wired into a wasmtime Linker.

The ``wasmtask`` module (host_api.abi) and a deny-by-default subset of
``wasi_snapshot_preview1``: no files, no environment, no arguments, no sockets;
stdout and stderr become log lines. Host functions never raise into wasmtime:
failures come back to the guest as error values, and the rare fatal case
(proc_exit) becomes a trap.
"""

from __future__ import annotations

import ctypes
import os
import struct
import threading
import time
from typing import Any, Callable

import orjson
import wasmtime
from wasmtime import _ffi as ffi

from host_api import abi
from isolates.call_context import CallContext, GuestMemoryError, current

RawContext = Any  # ctypes pointer to wasmtime_context_t (a store's or a caller's)

I32 = wasmtime.ValType.i32()
I64 = wasmtime.ValType.i64()
F64 = wasmtime.ValType.f64()

# WASI errno values
ERRNO_SUCCESS = 0
ERRNO_BADF = 8
ERRNO_FAULT = 21
ERRNO_INVAL = 28
ERRNO_NOSYS = 52

CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1
MAX_RANDOM_BYTES = 1 << 20
MAX_FETCH_REQUEST_BYTES = 8 << 20


class ProcExit(Exception):
    """A WASI guest called proc_exit."""

    def __init__(self, code: int) -> None:
        super().__init__(f"guest called proc_exit({code})")
        self.code = code


def _fetch_disabled(request: dict[str, Any]) -> dict[str, Any]:
    return {"ok": False, "error": {"code": "egress_denied", "message": "fetch is not enabled for this call"}}


# ---- wasmtask -------------------------------------------------------------------

def host_log(context_ptr: RawContext, level: int, ptr: int, length: int) -> None:
    context = current()
    if context is None:
        return
    try:
        message = context.read(context_ptr, ptr, min(length, context.log.max_bytes + 4)).decode("utf-8", "replace")
    except GuestMemoryError:
        return
    context.log.write(level if level in abi.LOG_LEVELS else 1, message)


def host_fetch(context_ptr: RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return -1
    try:
        if length > MAX_FETCH_REQUEST_BYTES:
            answer = {"ok": False, "error": {"code": "fetch_limit", "message": "fetch request too large"}}
        else:
            request = orjson.loads(context.read(context_ptr, ptr, length))
            if not isinstance(request, dict):
                raise ValueError("fetch request must be a JSON object")
            answer = (context.fetcher or _fetch_disabled)(request)
    except (GuestMemoryError, ValueError) as exc:
        answer = {"ok": False, "error": {"code": "fetch_failed", "message": str(exc)}}
    except Exception as exc:  # a host-side fault must not crash the process or the call
        answer = {"ok": False, "error": {"code": "fetch_failed", "message": f"internal error: {type(exc).__name__}"}}
    context.staged = orjson.dumps(answer)
    return len(context.staged)


def host_staged_read(context_ptr: RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return -1
    data = context.staged[: max(0, length)]
    try:
        context.write(context_ptr, ptr, data)
    except GuestMemoryError:
        return -1
    context.staged = b""
    return len(data)


def host_random_fill(context_ptr: RawContext, ptr: int, length: int) -> None:
    context = current()
    if context is None or length <= 0:
        return
    try:
        context.write(context_ptr, ptr, os.urandom(min(length, MAX_RANDOM_BYTES)))
    except GuestMemoryError:
        return


def host_out_of_memory(context_ptr: RawContext) -> None:
    """The guest's allocator failed at the memory limit (it may trap next: isolates.invoke)."""
    context = current()
    if context is not None:
        context.out_of_memory = True


def host_now_ms(context_ptr: RawContext) -> float:
    return time.time() * 1000.0


# ---- wasi_snapshot_preview1 (deny by default) -------------------------------------

def wasi_fd_write(context_ptr: RawContext, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
    context = current()
    if context is None:
        return ERRNO_FAULT
    if fd not in (1, 2):
        return ERRNO_BADF
    try:
        vectors = context.read(context_ptr, iovs, 8 * min(iovs_len, 1024))
        chunks = []
        total = 0
        for index in range(min(iovs_len, 1024)):
            buf, buf_len = struct.unpack_from("<II", vectors, 8 * index)
            chunks.append(context.read(context_ptr, buf, min(buf_len, context.log.max_bytes + 4)))
            total += buf_len
        text = b"".join(chunks).decode("utf-8", "replace").rstrip("\n")
        if text:
            context.log.write("info" if fd == 1 else "error", text, stream="stdout" if fd == 1 else "stderr")
        context.write(context_ptr, nwritten_ptr, struct.pack("<I", total))
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_clock_time_get(context_ptr: RawContext, clock_id: int, precision: int, out_ptr: int) -> int:
    context = current()
    if context is None:
        return ERRNO_FAULT
    if clock_id == CLOCK_REALTIME:
        now = time.time_ns()
    elif clock_id in (CLOCK_MONOTONIC, 2, 3):
        now = time.monotonic_ns()
    else:
        return ERRNO_INVAL
    try:
        context.write(context_ptr, out_ptr, struct.pack("<Q", now))
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_clock_res_get(context_ptr: RawContext, clock_id: int, out_ptr: int) -> int:
    context = current()
    if context is None:
        return ERRNO_FAULT
    try:
        context.write(context_ptr, out_ptr, struct.pack("<Q", 1000))
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_random_get(context_ptr: RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return ERRNO_FAULT
    try:
        context.write(context_ptr, ptr, os.urandom(min(length, MAX_RANDOM_BYTES)))
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_zero_sizes(context_ptr: RawContext, count_ptr: int, size_ptr: int) -> int:
    """environ_sizes_get / args_sizes_get: nothing, ever."""
    context = current()
    if context is None:
        return ERRNO_FAULT
    try:
        context.write(context_ptr, count_ptr, b"\0\0\0\0")
        context.write(context_ptr, size_ptr, b"\0\0\0\0")
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_empty_list(context_ptr: RawContext, list_ptr: int, buf_ptr: int) -> int:
    return ERRNO_SUCCESS


def wasi_proc_exit(context_ptr: RawContext, code: int) -> None:
    raise ProcExit(code)


def _badf(*_args: int) -> int:
    return ERRNO_BADF


def _nosys(*_args: int) -> int:
    return ERRNO_NOSYS


def _ty(params: list[wasmtime.ValType], results: list[wasmtime.ValType]) -> wasmtime.FuncType:
    return wasmtime.FuncType(params, results)


# (module, name, params, results, implementation(context_ptr, *params) -> result)
HostFunction = tuple[str, str, list[wasmtime.ValType], list[wasmtime.ValType], Callable[..., Any]]

HOST_FUNCTIONS: list[HostFunction] = [
    (abi.IMPORT_MODULE, abi.IMPORT_LOG, [I32, I32, I32], [], host_log),
    (abi.IMPORT_MODULE, abi.IMPORT_FETCH, [I32, I32], [I32], host_fetch),
    (abi.IMPORT_MODULE, abi.IMPORT_STAGED_READ, [I32, I32], [I32], host_staged_read),
    (abi.IMPORT_MODULE, abi.IMPORT_RANDOM_FILL, [I32, I32], [], host_random_fill),
    (abi.IMPORT_MODULE, abi.IMPORT_NOW_MS, [], [F64], host_now_ms),
    (abi.IMPORT_MODULE, abi.IMPORT_OUT_OF_MEMORY, [], [], host_out_of_memory),
    (abi.WASI_MODULE, "fd_write", [I32, I32, I32, I32], [I32], wasi_fd_write),
    (abi.WASI_MODULE, "clock_time_get", [I32, I64, I32], [I32], wasi_clock_time_get),
    (abi.WASI_MODULE, "clock_res_get", [I32, I32], [I32], wasi_clock_res_get),
    (abi.WASI_MODULE, "random_get", [I32, I32], [I32], wasi_random_get),
    (abi.WASI_MODULE, "environ_sizes_get", [I32, I32], [I32], wasi_zero_sizes),
    (abi.WASI_MODULE, "args_sizes_get", [I32, I32], [I32], wasi_zero_sizes),
    (abi.WASI_MODULE, "environ_get", [I32, I32], [I32], wasi_empty_list),
    (abi.WASI_MODULE, "args_get", [I32, I32], [I32], wasi_empty_list),
    (abi.WASI_MODULE, "proc_exit", [I32], [], wasi_proc_exit),
    (abi.WASI_MODULE, "fd_close", [I32], [I32], _badf),
    (abi.WASI_MODULE, "fd_seek", [I32, I64, I32, I32], [I32], _badf),
    (abi.WASI_MODULE, "fd_fdstat_get", [I32, I32], [I32], _badf),
    (abi.WASI_MODULE, "fd_read", [I32, I32, I32, I32], [I32], _badf),
    (abi.WASI_MODULE, "fd_prestat_get", [I32, I32], [I32], _badf),
    (abi.WASI_MODULE, "fd_prestat_dir_name", [I32, I32, I32], [I32], _badf),
    (abi.WASI_MODULE, "sched_yield", [], [I32], lambda context_ptr: ERRNO_SUCCESS),
    (abi.WASI_MODULE, "poll_oneoff", [I32, I32, I32, I32], [I32], _nosys),
]

PROVIDED_IMPORTS = frozenset((module, name) for module, name, *_ in HOST_FUNCTIONS)


def _raw_callback(implementation: Callable[..., Any], params: list[wasmtime.ValType], results: list[wasmtime.ValType]) -> Any:
    """A ctypes callback over raw values: no Caller or Val objects per call.

    Measured here: a host call through wasmtime-py's ``define_func`` trampoline
    costs ~9-13 us; through this raw callback ~2-3 us. A host call happens on
    every console line and every clock read.
    """
    param_fields = [_FIELDS[str(p)] for p in params]
    result_field = _FIELDS[str(results[0])] if results else None
    caller_context = ffi.wasmtime_caller_context

    def callback(env: Any, caller: Any, values: Any, count: int) -> int:
        try:
            context_ptr = caller_context(caller)
            arguments = [getattr(values[index], field) for index, field in enumerate(param_fields)]
            result = implementation(context_ptr, *arguments)
            if result_field is not None:
                setattr(values[0], result_field, result)
            return 0
        except ProcExit as exc:
            return _trap(str(exc))
        except BaseException as exc:  # never unwind into wasm; the guest's call fails instead
            return _trap(f"host function failed: {type(exc).__name__}")

    return ffi.wasmtime_func_unchecked_callback_t(callback)


_FIELDS = {"i32": "i32", "i64": "i64", "f64": "f64", "f32": "f32"}
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))
# One ctypes callback per host function for the whole process: every thread's
# Linker defines the same ones (worker threads come and go; their linkers with them).
_callbacks: list[tuple[str, str, list[wasmtime.ValType], list[wasmtime.ValType], Any]] = []
_callbacks_lock = threading.Lock()


def _host_callbacks() -> list[tuple[str, str, list[wasmtime.ValType], list[wasmtime.ValType], Any]]:
    with _callbacks_lock:
        if not _callbacks:
            for module, name, params, results, implementation in HOST_FUNCTIONS:
                _callbacks.append((module, name, params, results, _raw_callback(implementation, params, results)))
        return _callbacks


def _trap(message: str) -> int:
    encoded = message.encode()
    trap = ffi.wasmtime_trap_new(encoded, len(encoded))
    return ctypes.cast(trap, ctypes.c_void_p).value or 0


def new_linker(engine: wasmtime.Engine) -> wasmtime.Linker:
    """A Linker with every host function defined (store-independent)."""
    linker = wasmtime.Linker(engine)
    linker.allow_shadowing = True  # env.memory is redefined per call
    for module, name, params, results, callback in _host_callbacks():
        func_type = _ty(params, results)
        module_bytes, name_bytes = module.encode(), name.encode()
        error = ffi.wasmtime_linker_define_func_unchecked(
            linker.ptr(), module_bytes, len(module_bytes), name_bytes, len(name_bytes),
            func_type.ptr(), callback, None, _NO_FINALIZER,
        )
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
    return linker


_linkers = threading.local()


def thread_linker(engine: wasmtime.Engine) -> wasmtime.Linker:
    """This thread's Linker: each call redefines ``env.memory`` in it, so it is per thread."""
    linker = getattr(_linkers, "linker", None)
    if linker is None or getattr(_linkers, "engine", None) is not engine:
        linker = new_linker(engine)
        _linkers.linker = linker
        _linkers.engine = engine
    return linker


def unsupported_imports(module: wasmtime.Module) -> list[str]:
    """Imports a module needs that wasmtask does not provide (``env.memory`` aside)."""
    missing = []
    for item in module.imports:
        if (item.module, item.name) in PROVIDED_IMPORTS:
            continue
        if item.module == "env" and item.name == "memory" and isinstance(item.type, wasmtime.MemoryType):
            continue
        missing.append(f"{item.module}.{item.name}")
    return missing


__all__ = ["CallContext", "ProcExit", "new_linker", "thread_linker", "unsupported_imports", "PROVIDED_IMPORTS"]

"""Python guests: WebAssembly components (componentize-py), a fresh instance per call.

The component's world (guest_sdk/python/wit/wasmtask.wit) has the shape of the
core ABI: it exports ``handle(request: string) -> string`` (the request JSON in,
the response JSON out) and imports ``log(level, message)`` and ``fetch(request)
-> string``. Calls get the same Limits (fuel, the store's memory limit, the
epoch deadline) and end with the same error codes as core modules.

Measured here (wasmtime 50, a hello-world): compiling the ~19 MB component
takes ~5-8 s, so the compiled form is cached on disk (``Component.serialize``,
~41 MB, keyed by the build's key and the engine's settings) and loaded with
``deserialize_file`` (mmap, a few ms). A call costs ~0.6 ms to instantiate (no
component InstancePre in wasmtime-py) plus ~0.9 ms in ``handle``, and ~0.43 M fuel.
WASI is a host-implemented subset (below), not wasmtime's WASI p2.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable

import orjson
import wasmtime
import wasmtime.component as wc
from wasmtime import _ffi as ffi

from host_api import abi
from host_api.log import CallLog
from isolates.call_context import CallContext, Fetcher, current, set_current
from isolates.engine import Engine, deadline_ticks
from isolates.errors import (
    CpuLimitExceeded,
    GuestError,
    InvalidCode,
    IsolateError,
    OutputLimitExceeded,
    StackOverflow,
    Timeout,
)
from isolates.invoke import InvokeResult, instantiation_error, result_from_reply, trap_error
from isolates.limits import Limits
from isolates.module_cache import ModuleCache, default_cache_dir
from isolates.program import Program

EXPORT_HANDLE = "handle"
IMPORT_LOG = "log"
IMPORT_FETCH = "fetch"
MAX_FETCH_REQUEST_BYTES = 8 << 20


# ---- deploy time ----------------------------------------------------------------------


def load_component(engine: Engine, wasm: bytes, build_key: str) -> wc.Component:
    """The compiled component: from the on-disk cache, or compiled now (seconds) and stored."""
    digest = hashlib.sha256(f"{build_key}\0{engine.settings.fingerprint()}".encode()).hexdigest()
    path = default_cache_dir() / f"component-{digest[:40]}.cwasm"
    if path.exists():
        try:
            return wc.Component.deserialize_file(engine.wasmtime, str(path))
        except wasmtime.WasmtimeError:
            path.unlink(missing_ok=True)  # stale or corrupt: compile again
    try:
        component = wc.Component(engine.wasmtime, wasm)
    except wasmtime.WasmtimeError as exc:
        raise InvalidCode(f"invalid component: {str(exc).splitlines()[0]}") from exc
    ModuleCache(engine).store(path, component.serialize())
    return component


def prepare_component(language: str, wasm: bytes, build_key: str, *, engine: Engine | None = None) -> Program:
    """A Program for a component built from ``language`` source (the build is cached by ``build_key``)."""
    engine = engine or Engine.shared()
    started = time.perf_counter()
    component = load_component(engine, wasm, build_key)
    with component.type as component_type:
        exports = set(component_type.exports(engine.wasmtime))
    if EXPORT_HANDLE not in exports:
        raise InvalidCode(f"the component does not export {EXPORT_HANDLE} (see guest_sdk/python/wit)")
    return Program(
        language=language,
        code=component,  # type: ignore[arg-type]  # a component, not a core module: see invoke_component
        image=None,
        init_config=None,
        run_initialize=False,
        details={
            "component_bytes": len(wasm),
            "load_ms": round((time.perf_counter() - started) * 1000, 3),
            "imports": component_imports(engine, component),
        },
    )


# ---- host functions ---------------------------------------------------------------------
# Like isolates.host_functions: they never raise into wasmtime (wasmtime-py keeps the last
# host exception in a process-wide global); failures reach the guest as values.


def host_log(_store: Any, level: int, message: str) -> None:
    context = current()
    if context is not None:
        context.log.write(level if level in abi.LOG_LEVELS else 1, message)


def host_fetch(_store: Any, request_json: str) -> str:
    context = current()
    if context is None:
        return '{"ok":false,"error":{"code":"fetch_failed","message":"no call"}}'
    try:
        if len(request_json) > MAX_FETCH_REQUEST_BYTES:
            answer: dict[str, Any] = {"ok": False, "error": {"code": "fetch_limit", "message": "fetch request too large"}}
        elif context.fetcher is None:
            answer = {"ok": False, "error": {"code": "egress_denied", "message": "fetch is not enabled for this call"}}
        else:
            request = orjson.loads(request_json)
            if not isinstance(request, dict):
                raise ValueError("fetch request must be a JSON object")
            answer = context.fetcher(request)
    except ValueError as exc:
        answer = {"ok": False, "error": {"code": "fetch_failed", "message": str(exc)}}
    except Exception as exc:  # a host-side fault must not crash the process or the call
        answer = {"ok": False, "error": {"code": "fetch_failed", "message": f"internal error: {type(exc).__name__}"}}
    return orjson.dumps(answer).decode("utf-8")


# ---- the WASI a component gets ----------------------------------------------------------
# Not wasmtime's WASI p2 (Linker.add_wasip2): its blocking calls (poll, a clock's
# subscribe, blocking stream reads) run on the host, where the epoch deadline
# cannot interrupt them. Measured: time.sleep(5) under a 1 s deadline held the
# thread 5 s. So a component gets clocks, randomness and an empty environment
# from these host functions, and every other WASI import traps when called
# (define_unknown_imports_as_traps): no files, sockets, stdio, sleeping or polling.

MAX_RANDOM_BYTES = 1 << 20


def _raw_random_bytes(_env: Any, _context: Any, _type: Any, args: Any, nargs: int, results: Any, nresults: int) -> int:
    """``get-random-bytes(len: u64) -> list<u8>`` as a raw C callback.

    Through ``LinkerInstance.add_func`` wasmtime-py converts a ``list<u8>``
    element by element: CPython asks for 2,496 random bytes on every call, which
    cost ~2.3 ms of a ~3.2 ms hello-world call. Here the list is laid out with
    one memmove (~0.05 ms). Never raises: a failure is an error for the guest.
    """
    try:
        length = args[0].of.u64
        if nargs != 1 or nresults != 1 or length > MAX_RANDOM_BYTES:
            return _error_pointer(f"get-random-bytes of {length} bytes: the limit is {MAX_RANDOM_BYTES}")
        data = os.urandom(length)
        size = ctypes.sizeof(ffi.wasmtime_component_val_t)
        layout = bytearray(length * size)
        layout[0::size] = ffi.WASMTIME_COMPONENT_U8.value.to_bytes(1, "little") * length
        layout[ffi.wasmtime_component_val_t.of.offset :: size] = data
        values = ffi.wasmtime_component_vallist_t()
        ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(values), length)
        if length:
            ctypes.memmove(values.data, (ctypes.c_char * len(layout)).from_buffer(layout), len(layout))
        results[0].kind = ffi.WASMTIME_COMPONENT_LIST.value
        results[0].of.list = values
        return 0
    except Exception as exc:  # a fault here must reach the guest as an error, not unwind through C
        return _error_pointer(f"get-random-bytes failed: {type(exc).__name__}")


def _error_pointer(message: str) -> int:
    error = ffi.wasmtime_error_new(message.encode("utf-8"))
    return ctypes.cast(error, ctypes.c_void_p).value or 0


_RANDOM_BYTES_CALLBACK = ffi.wasmtime_component_func_callback_t(_raw_random_bytes)
_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda _data: None)


def _add_raw_func(interface: wc.LinkerInstance, name: str, callback: Any) -> None:
    encoded = name.encode("utf-8")
    error = ffi.wasmtime_component_linker_instance_add_func(
        interface.ptr(), ctypes.create_string_buffer(encoded), len(encoded), callback, None, _NO_FINALIZER
    )
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)


def _wall_clock_now(_store: Any) -> SimpleNamespace:
    now = time.time_ns()
    return SimpleNamespace(seconds=now // 1_000_000_000, nanoseconds=now % 1_000_000_000)


# interface (without its @version) -> {function: implementation}
WASI_FUNCTIONS: dict[str, dict[str, Callable[..., Any]]] = {
    "wasi:clocks/wall-clock": {
        "now": _wall_clock_now,
        "resolution": lambda _store: SimpleNamespace(seconds=0, nanoseconds=1000),
    },
    "wasi:clocks/monotonic-clock": {
        "now": lambda _store: time.monotonic_ns(),
        "resolution": lambda _store: 1000,
    },
    "wasi:random/random": {
        "get-random-u64": lambda _store: int.from_bytes(os.urandom(8), "little"),
    },
    "wasi:cli/environment": {
        "get-environment": lambda _store: [],
        "get-arguments": lambda _store: [],
        "initial-cwd": lambda _store: None,
    },
    "wasi:filesystem/preopens": {
        "get-directories": lambda _store: [],
    },
}

_linkers = threading.local()


def component_imports(engine: Engine, component: wc.Component) -> tuple[str, ...]:
    with component.type as component_type:
        return tuple(sorted(component_type.imports(engine.wasmtime)))


def new_linker(engine: Engine, component: wc.Component) -> wc.Linker:
    """A Linker with the world's imports, the WASI subset above, and traps for the rest."""
    linker = wc.Linker(engine.wasmtime)
    with linker.root() as root:
        root.add_func(IMPORT_LOG, host_log)
        root.add_func(IMPORT_FETCH, host_fetch)
        for name in component_imports(engine, component):
            functions = WASI_FUNCTIONS.get(name.split("@", 1)[0])
            if functions:
                with root.add_instance(name) as interface:
                    for function, implementation in functions.items():
                        interface.add_func(function, implementation)
                    if name.startswith("wasi:random/random@"):
                        _add_raw_func(interface, "get-random-bytes", _RANDOM_BYTES_CALLBACK)
    linker.define_unknown_imports_as_traps(component)
    return linker


def thread_linker(engine: Engine, program: Program) -> wc.Linker:
    """This thread's Linker for components with ``program``'s imports (all ours have the same)."""
    linkers = getattr(_linkers, "by_imports", None)
    if linkers is None or getattr(_linkers, "engine", None) is not engine:
        linkers = _linkers.by_imports = {}
        _linkers.engine = engine
    component: wc.Component = program.code  # type: ignore[assignment]
    key = program.details.get("imports") or component_imports(engine, component)
    linker = linkers.get(key)
    if linker is None:
        linker = linkers[key] = new_linker(engine, component)
    return linker


# ---- the call -----------------------------------------------------------------------------


def _mark(phases: dict[str, float], phase: str, started_ns: int) -> int:
    now = time.perf_counter_ns()
    phases[phase] = phases.get(phase, 0.0) + (now - started_ns) / 1000
    return now


def _fuel_used(store: wasmtime.Store, limits: Limits) -> int:
    try:
        return limits.fuel - store.get_fuel()
    except wasmtime.WasmtimeError:
        return limits.fuel


UNAVAILABLE_IMPORT = re.compile(r"unknown import: `([^`]+)` has not been defined")


def trap_code_of(error: wasmtime.WasmtimeError) -> wasmtime.TrapCode | None:
    """The trap code inside a component call's error, or None when it is not a trap.

    wasmtime-py raises component traps as a plain WasmtimeError (no trap code).
    In the C API ``wasmtime_error_t`` and ``wasm_trap_t`` are the same type (one
    anyhow error: ``wasmtime_error_delete`` and ``wasm_trap_delete`` are one
    symbol), so ``wasmtime_trap_code`` reads the code from the error's pointer.
    Measured: an exhausted-fuel call gives OUT_OF_FUEL.
    """
    code = ffi.wasmtime_trap_code_t()
    trap = ctypes.cast(error.ptr(), ctypes.POINTER(ffi.wasm_trap_t))
    if not ffi.wasmtime_trap_code(trap, ctypes.byref(code)):
        return None
    return wasmtime.TrapCode(code.value)


def call_error(error: wasmtime.WasmtimeError) -> IsolateError:
    """The typed error for a failed component call (isolates.invoke.trap_error's twin)."""
    code = trap_code_of(error)
    if code == wasmtime.TrapCode.OUT_OF_FUEL:
        return CpuLimitExceeded("the call ran out of fuel (CPU limit)")
    if code == wasmtime.TrapCode.INTERRUPT:
        return Timeout("the call passed its wall-clock deadline")
    if code == wasmtime.TrapCode.STACK_OVERFLOW:
        return StackOverflow("the guest overflowed the Wasm stack")
    message = str(error).strip()
    cause = message.rsplit("Caused by:", 1)[-1].strip().splitlines()[0] if "Caused by:" in message else message.splitlines()[0]
    unavailable = UNAVAILABLE_IMPORT.search(cause)
    if unavailable:
        return GuestError(
            f"the guest called {unavailable.group(1)}, which wasmtask does not provide"
            " (no files, sockets, stdio, sleeping or polling)"
        )
    return GuestError(f"the guest trapped: {cause}" if code is not None else f"wasm error: {cause}")


def invoke_component(
    program: Program,
    request: dict[str, Any] | bytes,
    limits: Limits,
    *,
    log: CallLog | None = None,
    fetcher: Fetcher | None = None,
    engine: Engine | None = None,
) -> InvokeResult:
    """``isolates.invoke`` for a component: a fresh Store and instance, ``handle``, drop."""
    engine = engine or Engine.shared()
    log = log or CallLog(max_bytes=limits.log_bytes, max_lines=limits.log_lines)
    payload = request if isinstance(request, bytes) else orjson.dumps(request)
    phases: dict[str, float] = {}
    started = time.perf_counter_ns()
    store = wasmtime.Store(engine.wasmtime)
    store.set_fuel(limits.fuel)
    store.set_limits(memory_size=limits.memory_bytes)
    store.set_epoch_deadline(deadline_ticks(limits.wall_clock_ms))
    started = _mark(phases, "store", started)
    set_current(CallContext(log=log, fetcher=fetcher))
    try:
        try:
            instance = thread_linker(engine, program).instantiate(store, program.code)  # type: ignore[arg-type]
        except wasmtime.Trap as trap:
            raise trap_error(trap) from trap
        except wasmtime.WasmtimeError as exc:
            raise (call_error(exc) if trap_code_of(exc) is not None else instantiation_error(exc, "component")) from exc
        handle = instance.get_func(store, EXPORT_HANDLE)
        if handle is None:
            raise InvalidCode(f"the component does not export {EXPORT_HANDLE}")
        started = _mark(phases, "instantiate", started)
        try:
            reply_text = handle(store, payload.decode("utf-8"))
            handle.post_return(store)
        except wasmtime.Trap as trap:
            raise trap_error(trap) from trap
        except wasmtime.WasmtimeError as exc:
            raise call_error(exc) from exc
        _mark(phases, "call", started)
        if not isinstance(reply_text, str):
            raise GuestError("the guest returned no response")
        if len(reply_text) > limits.output_bytes:
            raise OutputLimitExceeded(
                f"the response is {len(reply_text)} characters, over the output limit of {limits.output_bytes} bytes"
            )
        try:
            reply = orjson.loads(reply_text)
        except orjson.JSONDecodeError as exc:
            raise GuestError(f"the guest returned an unreadable response: {exc}") from exc
        if not isinstance(reply, dict):
            raise GuestError("the guest returned a response that is not a JSON object")
        result = result_from_reply(reply)
        if len(result.body) > limits.output_bytes:
            raise OutputLimitExceeded("the response body is over the output limit")
        result.fuel_used = _fuel_used(store, limits)
        result.phases_us = phases
        result.logs = log.records
        result.logs_dropped = log.dropped
        return result
    except IsolateError as error:
        error.fuel_used = _fuel_used(store, limits)  # type: ignore[attr-defined]
        raise
    finally:
        set_current(None)
        closing = time.perf_counter_ns()
        store.close()
        _mark(phases, "close", closing)

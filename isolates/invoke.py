"""The hot path: a fresh Store per call, instantiate, call ``wasmtask_handle``, read, drop.

Safe to call from several threads at once: each call has its own Store, the
GIL is released while wasm runs, and host functions find their call through a
thread-local (isolates.call_context).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import wasmtime

from host_api import abi
from host_api.log import CallLog, LogRecord
from isolates.call_context import CallContext, Fetcher, GuestMemoryError, set_current
from isolates.engine import Engine, deadline_ticks
from isolates.errors import (
    CpuLimitExceeded,
    GuestError,
    InvalidCode,
    InvalidRequest,
    IsolateError,
    MemoryLimitExceeded,
    OutputLimitExceeded,
    Overloaded,
    StackOverflow,
    Timeout,
    error_for_code,
)
from isolates import raw
from isolates.host_functions import thread_linker
from isolates.limits import Limits
from isolates.program import Program
from isolates.response import parse_response


@dataclass
class InvokeResult:
    """What a call returned: a JSON value or an HTTP-style response."""

    kind: str  # "json" | "response"
    value: Any = None
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    fuel_used: int = 0
    phases_us: dict[str, float] = field(default_factory=dict)
    logs: list[LogRecord] = field(default_factory=list)
    logs_dropped: int = 0


class Call:
    """One call's Store and instance. Create, use once, ``close``.

    Everything here is on the hot path and uses the raw C API (isolates.raw):
    export lookups by name and unchecked calls, on types ``program.abi_problems``
    verified once per module.
    """

    def __init__(self, engine: Engine, program: Program, limits: Limits, context: CallContext) -> None:
        self.engine = engine
        self.program = program
        self.limits = limits
        self.context = context
        self.phases_us: dict[str, float] = {}
        pooling = engine.settings.pooling
        if pooling is not None and limits.memory_bytes > pooling.max_memory_bytes:
            raise InvalidRequest(
                f"memory limit {limits.memory_bytes} bytes is above this engine's maximum of "
                f"{pooling.max_memory_bytes} (PoolingSettings.max_memory_bytes)"
            )
        started = time.perf_counter_ns()
        store = raw.RawStore(engine.wasmtime)
        store.set_fuel(limits.fuel)
        store.limit_memory(limits.memory_bytes)
        store.set_epoch_deadline(deadline_ticks(limits.wall_clock_ms))
        self.store = store
        self.raw = store.context
        self._mark("store", started)

    def _mark(self, phase: str, started_ns: int) -> None:
        self.phases_us[phase] = self.phases_us.get(phase, 0.0) + (time.perf_counter_ns() - started_ns) / 1000

    def instantiate(self) -> None:
        started = time.perf_counter_ns()
        raw_context = self.raw
        try:
            if self.program.image is not None:
                image = raw.instantiate(raw_context, self.program.image)
                memory = raw.export_memory(raw_context, image)
                linker = thread_linker(self.engine.wasmtime)
                raw.define_memory(linker, raw_context, b"env", b"memory", memory)
                instance = raw.linker_instantiate(linker, raw_context, self.program.code)
            else:
                instance = raw.linker_instantiate(thread_linker(self.engine.wasmtime), raw_context, self.program.code)
                memory = raw.export_memory(raw_context, instance)
        except wasmtime.Trap as trap:
            raise trap_error(trap) from trap
        except wasmtime.WasmtimeError as exc:
            raise instantiation_error(exc) from exc
        except raw.RawExportMissing as exc:
            raise InvalidCode(f"the module does not export {exc}") from exc
        self.context.memory = memory
        self.instance = instance
        self._alloc = raw.export_func(raw_context, instance, abi.EXPORT_ALLOC.encode())
        self._handle = raw.export_func(raw_context, instance, abi.EXPORT_HANDLE.encode())
        self._mark("instantiate", started)

    def initialize(self) -> None:
        """Run the guest's one-time set-up (skipped for snapshots)."""
        started = time.perf_counter_ns()
        if self.program.run_initialize:
            initialize = raw.export_func(self.raw, self.instance, abi.EXPORT_INITIALIZE.encode())
            if initialize is not None:
                self._call(raw.call_void, initialize)
        if self.program.init_config is not None:
            reply = self.call_json(abi.EXPORT_INIT, self.program.init_config)
            if not reply.get("ok"):
                error = reply.get("error") or {}
                code = error.get("code", "invalid_code")
                raise error_for_code(
                    code if code in abi.GUEST_REPORTABLE_CODES else "invalid_code",
                    str(error.get("message", "initialisation failed")),
                    name=error.get("name"),
                    stack=error.get("stack"),
                )
        self._mark("init", started)

    def handle(self, request: bytes) -> dict[str, Any]:
        started = time.perf_counter_ns()
        reply = self.call_json(abi.EXPORT_HANDLE, request)
        self._mark("call", started)
        return reply

    def call_json(self, export: str, payload: bytes) -> dict[str, Any]:
        """Write ``payload`` into the guest, call ``export(ptr, len)``, parse the JSON it returns."""
        function = self._handle if export == abi.EXPORT_HANDLE else raw.export_func(self.raw, self.instance, export.encode())
        if self._alloc is None or function is None:
            raise InvalidCode(f"the module does not export {abi.EXPORT_ALLOC} and {export}")
        ptr = self._call(raw.call_i32_to_i32, self._alloc, len(payload) + 1)
        if not ptr:
            raise MemoryLimitExceeded("the guest could not allocate the request")
        try:
            self.context.write(self.raw, ptr, payload + b"\0")
        except GuestMemoryError as exc:
            raise GuestError(f"bad allocation from the guest: {exc}") from exc
        out_ptr, out_len = abi.unpack_pointer(self._call(raw.call_i32_i32_to_i64, function, ptr, len(payload)))
        if out_len > self.limits.output_bytes:
            raise OutputLimitExceeded(
                f"the response is {out_len} bytes, over the output limit of {self.limits.output_bytes}"
            )
        try:
            reply = orjson.loads(self.context.read(self.raw, out_ptr, out_len))
        except (GuestMemoryError, orjson.JSONDecodeError) as exc:
            raise GuestError(f"the guest returned an unreadable response: {exc}") from exc
        if not isinstance(reply, dict):
            raise GuestError("the guest returned a response that is not a JSON object")
        return reply

    def _call(self, call: Any, *args: Any) -> Any:
        try:
            return call(self.raw, *args)
        except wasmtime.Trap as trap:
            error = trap_error(trap)
            if self.context.out_of_memory and isinstance(error, GuestError):
                # a guest that cannot recover from a failed allocation (Rust, AssemblyScript)
                # says so through wasmtask.out_of_memory, then traps
                raise MemoryLimitExceeded(f"the guest ran out of memory ({error.message})") from trap
            raise error from trap
        except wasmtime.WasmtimeError as exc:
            raise GuestError(f"wasm error: {exc}") from exc

    def memory_image(self) -> bytes:
        return self.context.image(self.raw)

    def fuel_used(self) -> int:
        try:
            return self.limits.fuel - self.store.get_fuel()
        except wasmtime.WasmtimeError:
            return self.limits.fuel

    def close(self) -> None:
        started = time.perf_counter_ns()
        self.store.close()  # frees the pooling slot: part of each call's cost
        self._mark("close", started)


def trap_error(trap: wasmtime.Trap) -> IsolateError:
    """Map a wasm trap to the typed error for it."""
    code = trap.trap_code
    if code == wasmtime.TrapCode.OUT_OF_FUEL:
        return CpuLimitExceeded("the call ran out of fuel (CPU limit)")
    if code == wasmtime.TrapCode.INTERRUPT:
        return Timeout("the call passed its wall-clock deadline")
    if code == wasmtime.TrapCode.STACK_OVERFLOW:
        return StackOverflow("the guest overflowed the Wasm stack")
    return GuestError(f"the guest trapped: {trap_cause(trap)}")


def trap_cause(trap: wasmtime.Trap) -> str:
    """The trap's cause ("wasm `unreachable` instruction executed"), not its backtrace header."""
    message = trap.message or ""
    _, found, cause = message.partition("Caused by:")
    text = (cause if found else message).strip()
    if text.startswith("wasm trap: "):
        text = text[len("wasm trap: "):]
    return text.splitlines()[0] if text else str(trap.trap_code)


def instantiation_error(exc: wasmtime.WasmtimeError, what: str = "module") -> IsolateError:
    message = str(exc)
    if "maximum concurrent" in message:
        return Overloaded(f"no free isolate slot: {message.splitlines()[0]}")
    if "memory" in message and ("limit" in message or "minimum" in message or "resource" in message):
        return MemoryLimitExceeded(f"the guest's initial memory is over the memory limit: {message.splitlines()[0]}")
    return InvalidCode(f"the {what} cannot be instantiated: {message.splitlines()[0]}")


def result_from_reply(reply: dict[str, Any]) -> InvokeResult:
    """The InvokeResult for a guest's response JSON, or the typed error it reports."""
    if not reply.get("ok"):
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        code = str(error.get("code", "guest_error"))
        if code not in abi.GUEST_REPORTABLE_CODES:
            code = "guest_error"
        raise error_for_code(
            code,
            str(error.get("message", "the guest failed")),
            name=str(error["name"]) if error.get("name") else None,
            stack=str(error["stack"]) if error.get("stack") else None,
        )
    result = reply.get("result")
    if not isinstance(result, dict):
        raise GuestError("the guest's response has no result")
    if result.get("type") == "response":
        return _response_result(result)
    return InvokeResult(kind="json", value=result.get("value"))


def _response_result(result: dict[str, Any]) -> InvokeResult:
    response = parse_response(result)
    return InvokeResult(kind="response", status=response.status, headers=response.headers, body=response.body)


def invoke(
    program: Program,
    request: dict[str, Any] | bytes,
    limits: Limits,
    *,
    log: CallLog | None = None,
    fetcher: Fetcher | None = None,
    engine: Engine | None = None,
) -> InvokeResult:
    """Run one request in a fresh Store; raise an ``IsolateError`` subclass on failure."""
    if program.language == "python":  # a component, not a core module (isolates.component)
        from isolates.component import invoke_component

        return invoke_component(program, request, limits, log=log, fetcher=fetcher, engine=engine)
    engine = engine or Engine.shared()
    log = log or CallLog(max_bytes=limits.log_bytes, max_lines=limits.log_lines)
    payload = request if isinstance(request, bytes) else orjson.dumps(request)
    context = CallContext(log=log, fetcher=fetcher)
    call = Call(engine, program, limits, context)
    set_current(context)
    try:
        call.instantiate()
        call.initialize()
        reply = call.handle(payload)
        result = result_from_reply(reply)
        if len(result.body) > limits.output_bytes:
            raise OutputLimitExceeded("the response body is over the output limit")
        result.fuel_used = call.fuel_used()
        result.phases_us = call.phases_us  # "close" is added when the Store is dropped, below
        result.logs = log.records
        result.logs_dropped = log.dropped
        return result
    except IsolateError as error:
        error.fuel_used = call.fuel_used()  # type: ignore[attr-defined]
        raise
    finally:
        set_current(None)
        call.close()

"""A core module's Store and instance for one call: create, ``start``, ``handle``, ``close``.

Everything here is on the hot path and uses the raw C API (isolates.raw):
export lookups by name and unchecked calls, on types ``abi_problems``
verified once per module.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import Any

import wasmtime

from host_api import abi
from isolates import raw
from isolates.call_context import CallContext, GuestMemoryError
from isolates.engine import Engine, deadline_ticks
from isolates.errors import GuestError, InvalidCode, MemoryLimitExceeded, UnsupportedLimits, error_for_code
from isolates.instance import Instance
from isolates.limits import Limits
from isolates.module_linker import thread_linker
from isolates.program import ModuleProgram
from isolates.response import check_output_size, parse_reply
from isolates.traps import call_error, instantiation_error

_ALLOC = abi.EXPORT_ALLOC.encode()
_HANDLE = abi.EXPORT_HANDLE.encode()


class ModuleInstance(Instance):
    """One call's Store and instance of a ``ModuleProgram``. Use once."""

    store: raw.RawStore
    memory_bytes: int | None = None  # the linear memory's size when the last call_json returned

    def __init__(self, engine: Engine, program: ModuleProgram, limits: Limits, context: CallContext) -> None:
        super().__init__(engine, limits, context)
        self.program = program
        pooling = engine.settings.pooling
        if pooling is not None and limits.memory_bytes > pooling.max_memory_bytes:
            raise UnsupportedLimits(
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

    def start(self) -> None:
        """Instantiate, then run the guest's one-time set-up (none for a snapshot)."""
        self.instantiate()
        self.initialize()

    def instantiate(self) -> None:
        started = time.perf_counter_ns()
        raw_context = self.raw
        try:
            linker = thread_linker(self.engine.wasmtime)
            if self.program.image is not None:
                image = raw.instantiate(raw_context, self.program.image)
                memory = raw.export_memory(raw_context, image)
                raw.define_memory(linker, raw_context, b"env", b"memory", memory)
                instance = raw.linker_instantiate(linker, raw_context, self.program.code)
            else:
                instance = raw.linker_instantiate(linker, raw_context, self.program.code)
                memory = raw.export_memory(raw_context, instance)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise instantiation_error(exc) from exc
        except raw.RawExportMissing as exc:
            raise InvalidCode(f"the module does not export {exc}") from exc
        self.context.memory = memory
        self.instance = instance
        self._alloc = raw.export_func(raw_context, instance, _ALLOC)
        self._handle = raw.export_func(raw_context, instance, _HANDLE)
        self._mark("instantiate", started)

    def initialize(self) -> None:
        if not self.program.run_initialize and self.program.init_config is None:
            return  # a snapshot: its init ran at deploy
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
        function = self._handle if export == abi.EXPORT_HANDLE else raw.export_func(self.raw, self.instance,
                                                                                      export.encode())
        if self._alloc is None or function is None:
            raise InvalidCode(f"the module does not export {abi.EXPORT_ALLOC} and {export}")
        ptr = self._call(raw.call_i32_to_i32, self._alloc, len(payload) + 1)
        if not ptr:
            raise MemoryLimitExceeded("the guest could not allocate the request")
        length = len(payload)
        try:
            address, _ = self.context.span(self.raw, ptr, length + 1)
        except GuestMemoryError as exc:
            raise GuestError(f"bad allocation from the guest: {exc}") from exc
        ctypes.memmove(address, payload, length)
        ctypes.memset(address + length, 0, 1)  # NUL-terminated, for guests that read a C string
        out_ptr, out_len = abi.unpack_pointer(self._call(raw.call_i32_i32_to_i64, function, ptr, length))
        check_output_size(out_len, self.limits)
        try:
            address, self.memory_bytes = self.context.span(self.raw, out_ptr, out_len)
        except GuestMemoryError as exc:
            raise GuestError(f"the guest returned an unreadable response: {exc}") from exc
        return parse_reply(ctypes.string_at(address, out_len))

    def _call(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(self.raw, *args)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            error = call_error(exc)
            if self.context.out_of_memory and isinstance(error, GuestError):
                # a guest that cannot recover from a failed allocation (Rust, AssemblyScript)
                # says so through wasmtask.out_of_memory, then traps
                raise MemoryLimitExceeded(f"the guest ran out of memory ({error.message})") from exc
            raise error from exc

    def memory_image(self) -> bytes:
        return self.context.image(self.raw)

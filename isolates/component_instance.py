"""A component's Store and instance for one call: create, ``start``, ``handle``, ``close``.

Every call instantiates the whole component afresh (wasmtime-py has no component
InstancePre), then runs ``handle``; ``post_return`` must follow each call. What
the two phases cost beside a JS call: benches/README.md, "Why the hot path is
shaped this way" (``python -m benches.micro``).
"""

from __future__ import annotations

import time
from typing import Any

import wasmtime
import wasmtime.component as wc

from host_api import abi
from isolates.call_context import CallContext
from isolates.component_linker import thread_linker
from isolates.engine import Engine, deadline_ticks
from isolates.errors import GuestError, InvalidCode
from isolates.instance import Instance
from isolates.limits import Limits
from isolates.program import ComponentProgram
from isolates.response import check_output_size, parse_reply
from isolates.traps import call_error, instantiation_error


class ComponentInstance(Instance):
    """One call's Store and instance of a ``ComponentProgram``. Use once."""

    def __init__(self, engine: Engine, program: ComponentProgram, limits: Limits, context: CallContext) -> None:
        super().__init__(engine, limits, context)
        self.program = program
        started = time.perf_counter_ns()
        store = self._store = wasmtime.Store(engine.wasmtime)
        store.set_fuel(limits.fuel)
        store.set_limits(memory_size=limits.memory_bytes)
        store.set_epoch_deadline(deadline_ticks(limits.wall_clock_ms))
        self.store = store
        self._mark("store", started)

    def start(self) -> None:
        started = time.perf_counter_ns()
        linker = thread_linker(self.engine, self.program.code, self.program.imports)
        try:
            instance = linker.instantiate(self._store, self.program.code)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise instantiation_error(exc, "component") from exc
        handle = instance.get_func(self._store, abi.COMPONENT_EXPORT_HANDLE)
        if handle is None:
            raise InvalidCode(f"the component does not export {abi.COMPONENT_EXPORT_HANDLE}")
        self._handle: wc.Func = handle
        self._mark("instantiate", started)

    def handle(self, request: bytes) -> dict[str, Any]:
        started = time.perf_counter_ns()
        try:
            reply = self._handle(self._store, request.decode("utf-8"))
            self._handle.post_return(self._store)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise call_error(exc) from exc
        self._mark("call", started)
        if not isinstance(reply, str):
            raise GuestError("the guest returned no response")
        check_output_size(len(reply), self.limits)
        return parse_reply(reply)

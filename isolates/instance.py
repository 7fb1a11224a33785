"""What a call's instance of either program kind shares: its limits, its phase timings, its fuel."""

from __future__ import annotations

import time
from typing import Protocol

import wasmtime

from isolates.call_context import CallContext
from isolates.engine import Engine
from isolates.limits import Limits


class FuelStore(Protocol):
    def get_fuel(self) -> int: ...

    def close(self) -> None: ...


class Instance:
    """One call's Store and instance: ``start``, ``handle``, ``close`` (subclasses per program kind)."""

    store: FuelStore

    def __init__(self, engine: Engine, limits: Limits, context: CallContext) -> None:
        self.engine = engine
        self.limits = limits
        self.context = context
        self.phases_us: dict[str, float] = {}

    def _mark(self, phase: str, started_ns: int) -> None:
        self.phases_us[phase] = self.phases_us.get(phase, 0.0) + (time.perf_counter_ns() - started_ns) / 1000

    def fuel_used(self) -> int:
        try:
            return self.limits.fuel - self.store.get_fuel()
        except wasmtime.WasmtimeError:  # fuel unreadable after some traps: count it all
            return self.limits.fuel

    def close(self) -> None:
        started = time.perf_counter_ns()
        self.store.close()  # frees the pooling slot: part of each call's cost
        self._mark("close", started)

    def close_later(self) -> DeferredClose:
        """A function that closes this instance's Store, once, from any thread (``isolates.run``'s ``release``)."""
        return DeferredClose(self)


class DeferredClose:
    """Closes one call's Store when called; later calls do nothing. Called from any thread.

    Until it is called the Store keeps its pooling slot, so call it soon: dropping the last
    reference to an uncalled one closes the Store too (a slot is never lost for good)."""

    __slots__ = ("_pending",)

    def __init__(self, instance: Instance) -> None:
        self._pending = [instance]

    def __call__(self) -> None:
        try:
            instance = self._pending.pop()  # atomic: one caller gets the instance
        except IndexError:
            return
        instance.store.close()

    def __del__(self) -> None:
        self()

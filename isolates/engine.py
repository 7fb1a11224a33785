"""One wasmtime Engine per process: fuel, epoch interruption, and its ticker."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import wasmtime

from isolates import raw

# The epoch advances every EPOCH_TICK_MS; a wall-clock deadline is rounded up
# to whole ticks. 10 ms keeps the ticker's GIL wake-ups (100/s) negligible.
EPOCH_TICK_MS = 10

# Above 2 MiB wasmtime aborts the process at Engine creation (measured).
MAX_WASM_STACK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class PoolingSettings:
    """The pooling instance allocator: pre-reserved slots, reused per call.

    Slots are reserved once, so instantiating maps no fresh memory per call, and
    a slot keeps the image of the snapshot it last held mapped (wasmtime gives a
    call a slot its image module used before), so a call maps nothing either.

    ``keep_resident_bytes``: when a call ends, wasmtime copies this much of the
    slot's memory (from address 0) back from the image and keeps it mapped; the
    rest it unmaps, to be faulted in again by the next call. The JS runtime's
    memory (about 3.3 MiB, its hot pages spread over all of it) fits, so a call
    takes no page faults; the copy costs every call, in proportion to
    min(this, the memory's size), when its Store is dropped (which
    ``isolates.run`` can leave until after the response: its ``release``). Each
    slot in use then holds that much memory resident. wasmtime's dirty-page
    scan (PAGEMAP_SCAN), which would copy only the pages a call wrote, is not
    exposed by wasmtime-py, and in wasmtime 50.0.1 it counts never-touched
    pages as written, so it would copy as much (benches/README.md, "In-process:
    a fresh isolate per call"). ``table_keep_resident_bytes`` does the same for
    tables (the JS runtime's: 549 entries, 4.4 KiB): reset in place rather than
    unmapped and faulted in again.

    Each beside its alternative: benches/README.md, "Why the hot path is shaped
    this way" (``python -m benches.micro``). Each memory slot reserves about
    4 GiB of virtual address space (not memory).
    """

    memories: int = 256  # calls in flight at once (each call has one memory)
    instances: int = 512  # two per call: the image module and the code module
    tables: int = 512
    max_memory_bytes: int = 1024 * 1024 * 1024  # no guest memory limit may exceed this
    keep_resident_bytes: int = 8 * 1024 * 1024
    table_keep_resident_bytes: int = 64 * 1024


@dataclass(frozen=True)
class EngineSettings:
    """The settings that change compiled code (part of every cache key)."""

    max_wasm_stack: int = MAX_WASM_STACK_BYTES
    opt_level: str = "speed"
    pooling: PoolingSettings | None = PoolingSettings()

    def fingerprint(self) -> str:
        return f"fuel=1;epoch=1;stack={self.max_wasm_stack};opt={self.opt_level};wasmtime={wasmtime_version()}"


def wasmtime_version() -> str:
    from importlib.metadata import version

    return version("wasmtime")


def enable_pooling(config: wasmtime.Config, pooling: PoolingSettings) -> None:
    raw.enable_pooling(config, memories=pooling.memories, instances=pooling.instances, tables=pooling.tables,
                       max_memory_bytes=pooling.max_memory_bytes, keep_resident_bytes=pooling.keep_resident_bytes,
                       table_keep_resident_bytes=pooling.table_keep_resident_bytes)


class EpochTicker:
    """A daemon thread that increments the engine's epoch every tick."""

    def __init__(self, engine: wasmtime.Engine, tick_ms: int = EPOCH_TICK_MS) -> None:
        self._engine = engine
        self._interval = tick_ms / 1000
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wasmtask-epoch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._engine.increment_epoch()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def deadline_ticks(wall_clock_ms: int) -> int:
    """Epoch ticks for a deadline: rounded up, plus one for the tick in progress."""
    return -(-wall_clock_ms // EPOCH_TICK_MS) + 1


class Engine:
    """The process's engine and its ticker. Use ``Engine.shared()``."""

    _shared: Engine | None = None
    _lock = threading.Lock()

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        config.max_wasm_stack = self.settings.max_wasm_stack
        config.cranelift_opt_level = self.settings.opt_level
        config.parallel_compilation = True
        config.memory_init_cow = True
        if self.settings.pooling is not None:
            enable_pooling(config, self.settings.pooling)
        self.wasmtime = wasmtime.Engine(config)
        self.ticker = EpochTicker(self.wasmtime)

    @classmethod
    def shared(cls) -> Engine:
        shared = cls._shared  # every call asks: no lock once it exists
        if shared is not None:
            return shared
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

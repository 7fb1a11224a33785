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

    Slots are reserved once, so instantiating maps no fresh memory per call;
    ``keep_resident_bytes`` keeps that much of a slot's memory mapped between
    calls, so a snapshot's copy-on-write pages are not faulted in again on
    every call. Both beside their alternative: benches/README.md, "Why the hot
    path is shaped this way" (``python -m benches.micro``). Each memory slot
    reserves about 4 GiB of virtual address space (not memory).
    """

    memories: int = 256  # calls in flight at once (each call has one memory)
    instances: int = 512  # two per call: the image module and the code module
    tables: int = 512
    max_memory_bytes: int = 1024 * 1024 * 1024  # no guest memory limit may exceed this
    keep_resident_bytes: int = 0


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
                       max_memory_bytes=pooling.max_memory_bytes, keep_resident_bytes=pooling.keep_resident_bytes)


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
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

"""`python -m benches.micro`: why the hot path is shaped the way it is, each choice measured beside its alternative.

One function per claim made in isolates/, host_api/ and toolchains/ ("the raw callback is faster than
wasmtime-py's trampoline", ...). Each runs the slower path and the faster path side by side, in this
process, with the real wasmtime and wasmtask's own modules, and returns a ``Claim``: medians and p99
over its repetitions, and their ratio. The table of the latest run is in benches/README.md, "Why the
hot path is shaped this way"; the docstrings point there instead of quoting numbers.

Claims that need the Python component are skipped, with the reason, when its toolchain is missing.
``--toolchains`` adds the cold builds (zig's wasi-libc, componentize-py): about a minute more.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import functools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import wasmtime
import wasmtime.component as wc
from wasmtime import _bindings
from wasmtime import _ffi as ffi

from benches import inprocess, machine
from host_api import abi
from host_api.fetch import default_ssl_context
from host_api.request import encode_frame, guest_request
from isolates import CallSpec, Limits, component_linker, module_linker, raw, run
from isolates.capabilities.clock import module_now_ms
from isolates.compiler import CompiledGuest
from isolates.engine import Engine, EngineSettings, PoolingSettings, deadline_ticks
from isolates.errors import IsolateError
from isolates.functions import load_component, prepare_component
from isolates.javascript import JavaScriptRuntime, runtime_wasm_path
from isolates.module_cache import ModuleCache
from isolates.program import ComponentProgram, ModuleProgram
from isolates.wasm_binary import without_data

REPO = Path(__file__).resolve().parent.parent
HELLO_JS = inprocess.SCENARIOS["hello-world"][0]
PYTHON_HELLO = REPO / "examples" / "python" / "hello.py"
C_HELLO = REPO / "examples" / "c" / "hello.c"
PLENTY_OF_FUEL = 10**12
# The gateway's switch interval (SWITCH_INTERVAL_SECONDS in gateway/cli/): threads are measured as there.
GATEWAY_SWITCH_INTERVAL_S = 0.0005


class Skipped(Exception):
    """This claim cannot be measured here (a toolchain is missing); the message says why."""


@dataclass
class Side:
    """One path of a claim: what ran, and its time per repetition."""

    label: str
    samples_us: list[float]
    detail: str = ""  # what else was seen: fuel, page faults, sizes

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_us)

    @property
    def p99_us(self) -> float:
        ordered = sorted(self.samples_us)
        return ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)]


@dataclass
class Claim:
    """A claim a module relies on: the slow path, the fast path, and who relies on it."""

    name: str
    claim: str
    slow: Side
    fast: Side
    relied_on_by: str
    unit: str = "per call"  # what one sample is

    @property
    def ratio(self) -> float:
        return self.slow.median_us / self.fast.median_us

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        sides = {key: Side(**data[key]) for key in ("slow", "fast")}
        return cls(**{**data, **sides})


@dataclass
class MicroResults:
    claims: list[Claim] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # claim name -> reason


# ---- helpers ------------------------------------------------------------------------------------

def timed(action: Callable[[], object], repetitions: int, *, warmup: int = 0, per: int = 1) -> list[float]:
    """µs per repetition of ``action`` (divided by ``per`` when one action does ``per`` items)."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - started) / 1000 / per)
    return samples


def new_store(engine: Engine) -> wasmtime.Store:
    """A wasmtime-py Store that neither runs out of fuel nor hits its deadline."""
    store = wasmtime.Store(engine.wasmtime)
    store.set_fuel(PLENTY_OF_FUEL)
    store.set_epoch_deadline(deadline_ticks(600_000))
    return store


def new_raw_store(engine: Engine) -> raw.RawStore:
    store = raw.RawStore(engine.wasmtime)
    store.set_fuel(PLENTY_OF_FUEL)
    store.set_epoch_deadline(deadline_ticks(600_000))
    return store


@contextlib.contextmanager
def scratch_engine(settings: EngineSettings) -> Iterator[Engine]:
    engine = Engine(settings)
    try:
        yield engine
    finally:
        engine.ticker.stop()


def js_runtime(engine: Engine) -> JavaScriptRuntime:
    if engine is Engine.shared():
        return JavaScriptRuntime.shared()
    return JavaScriptRuntime(engine, ModuleCache(engine), runtime_wasm_path().read_bytes())


@dataclass
class Calls:
    """Per-call totals, phases, fuel and minor page faults of repeated ``isolates.run`` calls."""

    totals_us: list[float]
    phases_us: dict[str, list[float]]
    fuel: int
    faults: list[int]

    def phase(self, name: str) -> float:
        return statistics.median(self.phases_us.get(name, [0.0]))


def run_calls(program: ModuleProgram | ComponentProgram, repetitions: int, *, engine: Engine | None = None,
              warmup: int = 5) -> Calls:
    request = guest_request()
    spec = CallSpec()
    calls = Calls([], {}, 0, [])
    for index in range(warmup + repetitions):
        faults_before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        started = time.perf_counter_ns()
        result = run(program, request, spec, engine=engine)
        elapsed = (time.perf_counter_ns() - started) / 1000
        faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults_before
        if index < warmup:
            continue
        calls.totals_us.append(elapsed)
        calls.faults.append(faults)
        calls.fuel = result.fuel_used
        for phase, value in result.phases_us.items():
            calls.phases_us.setdefault(phase, []).append(value)
    return calls


@functools.cache
def python_component() -> CompiledGuest:
    """examples/python/hello.py built by the Python toolchain (cached by it), or ``Skipped``."""
    try:
        from toolchains import Toolchains

        return Toolchains().compile("python", PYTHON_HELLO.read_text())
    except (ImportError, IsolateError) as error:
        raise Skipped(f"no Python component: {type(error).__name__}: {error}") from error


def in_new_thread(action: Callable[[], Any]) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(action).result()


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


# ---- core modules: host calls, exports, calls, the GIL ----------------------------------------------

HOST_CALL_BATCH = 100  # host calls per guest call: the guest's own call is amortised away
HOST_CALL_WAT = f"""(module
  (import "{abi.IMPORT_MODULE}" "{abi.IMPORT_NOW_MS}" (func $now (result f64)))
  (func (export "run") (param $n i32) (result i32)
    (loop $again
      (drop (call $now))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (local.get $n)))
    (i32.const 0)))"""


def host_call(repetitions: int = 400) -> Claim:
    """A guest's call of ``wasmtask.now_ms``: wasmtime-py's ``define_func`` against the raw callback."""
    engine = Engine.shared()
    module = wasmtime.Module(engine.wasmtime, HOST_CALL_WAT)
    warmup = max(1, repetitions // 10)

    linker = wasmtime.Linker(engine.wasmtime)
    linker.define_func(abi.IMPORT_MODULE, abi.IMPORT_NOW_MS, wasmtime.FuncType([], [wasmtime.ValType.f64()]),
                       lambda: module_now_ms(None))
    store = new_store(engine)
    guest_loop = linker.instantiate(store, module).exports(store)["run"]
    assert isinstance(guest_loop, wasmtime.Func)
    slow = timed(lambda: guest_loop(store, HOST_CALL_BATCH), repetitions, warmup=warmup, per=HOST_CALL_BATCH)
    store.close()

    raw_store = new_raw_store(engine)
    try:
        instance = raw.linker_instantiate(module_linker.new_linker(engine.wasmtime), raw_store.context, module)
        function = raw.export_func(raw_store.context, instance, b"run")
        assert function is not None
        context = raw_store.context
        fast = timed(lambda: raw.call_i32_to_i32(context, function, HOST_CALL_BATCH), repetitions, warmup=warmup,
                     per=HOST_CALL_BATCH)
    finally:
        raw_store.close()
    return Claim(
        "host_call", "A host call from a core module (every console line, every clock read)",
        Side("`Linker.define_func` trampoline (Caller and Val objects per call)", slow),
        Side("raw unchecked ctypes callback (`module_linker`)", fast),
        "isolates/module_linker.py", unit=f"per host call, in batches of {HOST_CALL_BATCH}",
    )


def _js_store_and_instance(engine: Engine, program: ModuleProgram) -> tuple[wasmtime.Store, wasmtime.Instance]:
    """A JS snapshot instantiated through wasmtime-py's public API (its image's memory as env.memory)."""
    assert program.image is not None
    store = new_store(engine)
    image = wasmtime.Instance(store, program.image, [])
    linker = module_linker.new_linker(engine.wasmtime)
    memory = image.exports(store)["memory"]
    linker.define(store, "env", "memory", memory)
    return store, linker.instantiate(store, program.code)


def export_lookup(repetitions: int = 300) -> Claim:
    """Finding ``handle`` in a fresh JS instance: wasmtime-py's export map against one export_get."""
    engine = Engine.shared()
    runtime = JavaScriptRuntime.shared()
    program = runtime.snapshot_program(HELLO_JS, Limits())
    slow: list[float] = []
    fast: list[float] = []
    exports = 0
    for index in range(repetitions + 3):  # a fresh instance each time, as per call; its exports read once
        store, instance = _js_store_and_instance(engine, program)
        started = time.perf_counter_ns()
        found = instance.exports(store)[abi.EXPORT_HANDLE]
        slow_us = (time.perf_counter_ns() - started) / 1000
        assert isinstance(found, wasmtime.Func)
        exports = len(instance.exports(store))
        context = store._context()
        started = time.perf_counter_ns()
        raw_found = raw.export_func(context, instance._instance, abi.EXPORT_HANDLE.encode())
        fast_us = (time.perf_counter_ns() - started) / 1000
        assert raw_found is not None
        store.close()
        if index >= 3:
            slow.append(slow_us)
            fast.append(fast_us)
    return Claim(
        "export_lookup", "Looking up `handle` in a fresh instance of the JS runtime",
        Side(f"`Instance.exports(store)[name]` (wraps all {exports} exports)", slow),
        Side("`raw.export_func`: one `wasmtime_instance_export_get`", fast),
        "isolates/raw.py, isolates/module_instance.py",
    )


IDENTITY_WAT = '(module (func (export "identity") (param i32) (result i32) local.get 0))'


def export_call(repetitions: int = 3000) -> Claim:
    """Calling an (i32) -> i32 export: ``Func.__call__`` against the unchecked raw call."""
    engine = Engine.shared()
    module = wasmtime.Module(engine.wasmtime, IDENTITY_WAT)
    warmup = max(1, repetitions // 10)
    store = new_store(engine)
    function = wasmtime.Instance(store, module, []).exports(store)["identity"]
    assert isinstance(function, wasmtime.Func)
    slow = timed(lambda: function(store, 7), repetitions, warmup=warmup)
    store.close()
    raw_store = new_raw_store(engine)
    try:
        context = raw_store.context
        raw_function = raw.export_func(context, raw.instantiate(context, module), b"identity")
        assert raw_function is not None
        fast = timed(lambda: raw.call_i32_to_i32(context, raw_function, 7), repetitions, warmup=warmup)
    finally:
        raw_store.close()
    return Claim(
        "export_call", "Calling an `(i32) -> i32` export",
        Side("`Func.__call__` (reads the function type, converts Vals, every call)", slow),
        Side("`raw.call_i32_to_i32`: `wasmtime_func_call_unchecked` (type checked once per module)", fast),
        "isolates/raw.py, isolates/program.py (`abi_problems`)",
    )


@contextlib.contextmanager
def bookkeeping_releasing_gil() -> Iterator[None]:
    """raw's short calls (store, fuel, exports, memory) through the GIL-releasing CDLL, as wasmtime-py makes them."""
    swapped = {}  # raw's module-level name -> (its PyDLL function, a CDLL one of the same symbol and signature)
    releasing_dll = ctypes.CDLL(ffi.dll._name, handle=ffi.dll._handle)
    for name, value in vars(raw).items():
        symbol = getattr(value, "__name__", "") if hasattr(value, "argtypes") else ""
        if symbol and getattr(_bindings, "_" + symbol, None) not in (None, value):
            releasing = getattr(releasing_dll, symbol)
            releasing.argtypes, releasing.restype = value.argtypes, value.restype  # raw may declare its own
            swapped[name] = (value, releasing)
    for name, (_, releasing) in swapped.items():
        setattr(raw, name, releasing)
    try:
        yield
    finally:
        for name, (holding, _) in swapped.items():
            setattr(raw, name, holding)


def _wall_us_per_call(program: ModuleProgram, threads: int, calls_per_thread: int) -> float:
    request = guest_request()
    spec = CallSpec()
    start = threading.Barrier(threads + 1)

    failures: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            for _ in range(calls_per_thread):
                run(program, request, spec)
        except BaseException as exc:  # a failed call fails the measurement, not just its thread
            failures.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    start.wait()
    started = time.perf_counter_ns()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    return (time.perf_counter_ns() - started) / 1000 / (threads * calls_per_thread)


def gil_two_threads(repetitions: int = 9, calls_per_thread: int = 200) -> Claim:
    """JS hello calls from two threads at once: raw's bookkeeping calls releasing the GIL, or keeping it."""
    program = JavaScriptRuntime.shared().snapshot_program(HELLO_JS, Limits())
    run_calls(program, 0, warmup=20)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(GATEWAY_SWITCH_INTERVAL_S)
    results: dict[tuple[bool, int], list[float]] = {}
    try:
        for _ in range(repetitions):  # interleaved rounds: a change in the machine's load hits every variant
            for releasing in (True, False):
                for threads in (1, 2):
                    with bookkeeping_releasing_gil() if releasing else contextlib.nullcontext():
                        results.setdefault((releasing, threads), []).append(
                            _wall_us_per_call(program, threads, calls_per_thread))
    finally:
        sys.setswitchinterval(previous)

    def side(releasing: bool, label: str) -> Side:
        one, two = (statistics.median(results[(releasing, n)]) for n in (1, 2))
        return Side(label, results[(releasing, 2)],
                    f"one thread {one:.0f} µs/call; two threads do {one / two:.2f}x one thread's calls/s")

    return Claim(
        "gil_two_threads", "Two threads running JS hello calls at once (switch interval 0.5 ms, as in the gateway)",
        side(True, "store/fuel/export/memory calls release the GIL (CDLL, as wasmtime-py)"),
        side(False, "they keep it (`raw`'s PyDLL view); only guest code releases it"),
        "isolates/raw.py",
        unit=f"wall time per call, rounds of 2 threads x {calls_per_thread} calls",
    )


# ---- the engine: pooling, keeping pages resident ----------------------------------------------------

def _js_calls_on(settings: EngineSettings, repetitions: int) -> Calls:
    """JS hello calls on a new engine with ``settings`` (its own runtime and snapshot)."""
    with scratch_engine(settings) as engine:
        program = js_runtime(engine).snapshot_program(HELLO_JS, Limits())
        return run_calls(program, repetitions, engine=engine, warmup=20)


def pooling(repetitions: int = 500) -> Claim:
    """Instantiating a JS snapshot per call: wasmtime's on-demand allocator against the pooling allocator."""
    on_demand = _js_calls_on(EngineSettings(pooling=None), repetitions)
    pooled = _js_calls_on(EngineSettings(), repetitions)

    def side(label: str, calls: Calls) -> Side:
        return Side(label, calls.phases_us["instantiate"],
                    f"whole call {statistics.median(calls.totals_us):.0f} µs, "
                    f"{statistics.median(calls.faults):.0f} page faults")

    return Claim(
        "pooling", "Instantiating a JS snapshot (image + runtime) in a fresh Store",
        side("on-demand allocator (`EngineSettings(pooling=None)`)", on_demand),
        side("pooling allocator (`PoolingSettings()`)", pooled),
        "isolates/engine.py (`PoolingSettings`)", unit="instantiate phase per call",
    )


def keep_resident(repetitions: int = 500) -> Claim:
    """A JS hello call: the snapshot's copy-on-write pages faulted in per call, or kept resident in the slot."""
    unmapped = PoolingSettings(keep_resident_bytes=0, table_keep_resident_bytes=0)
    kept = PoolingSettings()
    faulting = _js_calls_on(EngineSettings(pooling=unmapped), repetitions)
    resident = _js_calls_on(EngineSettings(pooling=kept), repetitions)

    def side(label: str, calls: Calls) -> Side:
        return Side(label, calls.totals_us, f"{statistics.median(calls.faults):.0f} page faults a call; "
                                            f"close (the slot's reset) {calls.phase('close'):.0f} µs")

    return Claim(
        "keep_resident", "A JS hello call (pooling allocator): the snapshot's pages per call",
        side("`keep_resident_bytes=0`, tables too: unmapped after each call, faulted in again", faulting),
        side(f"`keep_resident_bytes={_mib(kept.keep_resident_bytes)}`, tables "
             f"{kept.table_keep_resident_bytes // 1024} KiB (wasmtask's default): copied back in place", resident),
        "isolates/engine.py (`PoolingSettings.keep_resident_bytes`)",
    )


def request_frame(repetitions: int = 500) -> Claim:
    """A JS hello call: the request as JSON text, or as a frame (host_api.request.encode_frame)."""
    program = JavaScriptRuntime.shared().snapshot_program(HELLO_JS, Limits())
    request = guest_request()
    spec = CallSpec()
    fuel: dict[bool, int] = {}

    def call(framed: bool) -> None:
        fuel[framed] = run(program, request if framed else orjson.dumps(request), spec).fuel_used

    slow = timed(lambda: call(False), repetitions, warmup=20)
    fast = timed(lambda: call(True), repetitions, warmup=20)
    encoding_us = statistics.median(timed(lambda: encode_frame(request), 200))
    return Claim(
        "request_frame", "Handing a JS hello call its request; whole call",
        Side("request JSON: `JS_ParseJSON` in the guest (its 16-digit seed alone ~18 k fuel)", slow,
             f"{fuel[False]:,} fuel"),
        Side("request frame: built by the shim from length-prefixed fields; seed and clock in its header", fast,
             f"{fuel[True]:,} fuel; encoding it in Python {encoding_us:.1f} µs"),
        "host_api/request.py (`encode_frame`), guest_sdk/js/shim.c (`decode_frame`), isolates/runner.py",
    )


def released_close(repetitions: int = 500) -> Claim:
    """A JS hello call: its Store dropped (the slot's reset) inside ``run``, or handed to the caller for after."""
    program = JavaScriptRuntime.shared().snapshot_program(HELLO_JS, Limits())
    request = guest_request()
    spec = CallSpec()
    pending: list[Callable[[], None]] = []
    closes: list[float] = []

    def released() -> None:
        run(program, request, spec, release=pending.append)

    def call_then_close() -> None:  # time the call alone, then the close, as a gateway would after answering
        started = time.perf_counter_ns()
        released()
        elapsed = time.perf_counter_ns() - started
        closing = time.perf_counter_ns()
        pending.pop()()
        closes.append((time.perf_counter_ns() - closing) / 1000)
        fast.append(elapsed / 1000)

    slow = timed(lambda: run(program, request, spec), repetitions, warmup=20)
    fast: list[float] = []
    for _ in range(20 + repetitions):
        call_then_close()
    del fast[:20], closes[:20]
    return Claim(
        "released_close", "A JS hello call: what the caller waits for before it can answer",
        Side("`run(...)`: the Store (and the slot's reset) dropped before it returns", slow),
        Side("`run(..., release=...)`: dropped after, by the caller", fast,
             f"then the drop: {statistics.median(closes):.0f} µs"),
        "isolates/runner.py (`release`), gateway (proposed: `loop.call_soon` after the response)",
    )


# ---- JavaScript: the base snapshot, deploy snapshots, the module cache ------------------------------

def base_snapshot(repetitions: int = 60) -> Claim:
    """A one-off JS run: starting the runtime and its prelude per call, against the base snapshot."""
    runtime = JavaScriptRuntime.shared()
    from_start = ModuleProgram(language="javascript", code=runtime.code, image=runtime.initial_image,
                               init_config=runtime.init_config(HELLO_JS), run_initialize=True)
    slow = run_calls(from_start, repetitions, warmup=3)
    fast = run_calls(runtime.fresh_program(HELLO_JS), repetitions, warmup=3)
    return Claim(
        "base_snapshot", "A one-off JS run (`prepare(..., snapshot=False)`)",
        Side("runtime started and prelude evaluated per call", slow.totals_us, f"{slow.fuel:,} fuel"),
        Side("from the base snapshot (`JavaScriptRuntime.base_image`)", fast.totals_us, f"{fast.fuel:,} fuel"),
        "isolates/javascript.py",
    )


def deploy_snapshot(repetitions: int = 300) -> Claim:
    """A JS call: the user's top-level code per call (one-off), against a deploy-time snapshot."""
    runtime = JavaScriptRuntime.shared()
    slow = run_calls(runtime.fresh_program(HELLO_JS), repetitions)
    fast = run_calls(runtime.snapshot_program(HELLO_JS, Limits()), repetitions)
    return Claim(
        "deploy_snapshot", "A JS hello call",
        Side("one-off: the user's top-level code evaluated per call", slow.totals_us, f"{slow.fuel:,} fuel"),
        Side("deployed: from its snapshot (`prepare(..., snapshot=True)`)", fast.totals_us, f"{fast.fuel:,} fuel"),
        "isolates/functions.py (`prepare`), isolates/limits.py (fuel)",
    )


def module_cache(repetitions: int = 20) -> Claim:
    """jsrt.wasm's code through ``ModuleCache.load``: a miss compiles and stores, a hit deserializes (mmap)."""
    engine = Engine.shared()
    code = without_data(runtime_wasm_path().read_bytes())
    with tempfile.TemporaryDirectory(prefix="wasmtask-micro-") as directory:
        cache = ModuleCache(engine, Path(directory))
        slow = timed(lambda: cache.load(code), 1)  # the miss: once, then the file is there
        fast = timed(lambda: cache.load(code), repetitions, warmup=2)
        size = cache.path_for(code).stat().st_size
    return Claim(
        "module_cache", "Loading the JS runtime's code (jsrt.wasm) in a new process",
        Side(f"cache miss: Cranelift compiles {_mib(len(code))}, stored", slow),
        Side(f"cache hit: `Module.deserialize_file` of {_mib(size)} (mmap)", fast),
        "isolates/module_cache.py", unit="per load",
    )


# ---- components (Python guests) ----------------------------------------------------------------------

def component_call(repetitions: int = 150) -> Claim:
    """A Python component's hello, per call, beside the JS snapshot's."""
    program = prepare_component("python", python_component())
    python = run_calls(program, repetitions, warmup=3)
    javascript = run_calls(JavaScriptRuntime.shared().snapshot_program(HELLO_JS, Limits()), repetitions)
    return Claim(
        "component_call", "A hello call: Python component (no component `InstancePre` in wasmtime-py) against JS",
        Side("Python component", python.totals_us,
             f"instantiate {python.phase('instantiate'):.0f} µs + handle {python.phase('call'):.0f} µs"),
        Side("JS snapshot (core module)", javascript.totals_us,
             f"instantiate {javascript.phase('instantiate'):.0f} µs + handle {javascript.phase('call'):.0f} µs"),
        "isolates/component_instance.py; gateway/inline.py (components never run inline)",
    )


def _add_func_linker(engine: Engine, component: wc.Component, imports: tuple[str, ...],
                     asked: list[int]) -> wc.Linker:
    """component_linker.new_linker, but ``get-random-bytes`` through wasmtime-py's ``add_func``."""
    linker = wc.Linker(engine.wasmtime)
    with linker.root() as root:
        for function in component_linker.ROOT_FUNCTIONS:
            root.add_func(function.name, function.implementation)
        for name in imports:
            interface = name.split("@", 1)[0]
            if interface not in component_linker.INTERFACES:
                continue
            with root.add_instance(name) as instance:
                for function in component_linker.COMPONENT_FUNCTIONS:
                    if function.interface != interface:
                        continue
                    implementation = function.implementation
                    if function.returns_bytes:
                        def counted(_store: object, length: int, produce: Callable[[int], bytes] = implementation
                                    ) -> bytes:
                            asked.append(length)
                            return produce(length)

                        instance.add_func(function.name, counted)
                    else:
                        instance.add_func(function.name, implementation)
    linker.define_unknown_imports_as_traps(component)
    return linker


def random_bytes(repetitions: int = 150) -> Claim:
    """The Python hello: ``get-random-bytes`` through ``LinkerInstance.add_func`` against the raw callback."""
    engine = Engine.shared()
    program = prepare_component("python", python_component())
    fast = run_calls(program, repetitions, warmup=3)
    asked: list[int] = []

    def through_add_func() -> Calls:
        # a new thread: its thread-local Linker (component_linker.thread_linker) is this one
        linker = _add_func_linker(engine, program.code, program.imports, asked)
        component_linker._linkers.by_imports = {program.imports: linker}
        component_linker._linkers.engine = engine
        return run_calls(program, repetitions, warmup=3)

    slow: Calls = in_new_thread(through_add_func)
    per_call = sum(asked) / (repetitions + 3)
    return Claim(
        "random_bytes", "A Python hello call (CPython asks for random bytes as it starts)",
        Side("`get-random-bytes` through `LinkerInstance.add_func` (a Val per byte)", slow.totals_us,
             f"{per_call:,.0f} bytes asked per call"),
        Side("through a raw callback (`raw_component.add_raw_func`, one memmove)", fast.totals_us),
        "isolates/raw_component.py, isolates/component_linker.py",
    )


@contextlib.contextmanager
def cache_dir(directory: str) -> Iterator[None]:
    """``isolates.module_cache.default_cache_dir()`` is ``directory`` for a while."""
    previous = os.environ.get("WASMTASK_CACHE_DIR")
    os.environ["WASMTASK_CACHE_DIR"] = directory
    try:
        yield
    finally:
        if previous is None:
            del os.environ["WASMTASK_CACHE_DIR"]
        else:
            os.environ["WASMTASK_CACHE_DIR"] = previous


def component_cache(repetitions: int = 10) -> Claim:
    """The Python component through ``load_component``: a miss compiles and stores, a hit deserializes (mmap)."""
    built = python_component()
    engine = Engine.shared()
    with tempfile.TemporaryDirectory(prefix="wasmtask-micro-") as directory, cache_dir(directory):
        slow = timed(lambda: load_component(engine, built), 1)  # the miss: once, then the file is there
        fast = timed(lambda: load_component(engine, built), repetitions, warmup=1)
        size = sum(path.stat().st_size for path in Path(directory).glob("component-*.cwasm"))
    return Claim(
        "component_cache", "Loading the Python hello component (a deploy, or the first call after a restart)",
        Side(f"cache miss: Cranelift compiles {_mib(len(built.wasm))}, stored", slow),
        Side(f"cache hit: `Component.deserialize_file` of {_mib(size)} (mmap)", fast),
        "isolates/functions.py (`load_component`)", unit="per load",
    )


SLEEP_WAT = r"""(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer 1 $pollable (type $outer))
    (export "pollable" (type $p (eq $outer)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p))))))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $drop (canon resource.drop $pollable))
  (core module $m
    (import "" "block" (func $block (param i32)))
    (import "" "subscribe" (func $subscribe (param i64) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "sleep") (param $ns i64) (local $pollable i32)
      (local.set $pollable (call $subscribe (local.get $ns)))
      (call $block (local.get $pollable))
      (call $drop (local.get $pollable))))
  (core instance $i (instantiate $m (with "" (instance
    (export "block" (func $block)) (export "subscribe" (func $subscribe)) (export "drop" (func $drop))))))
  (func (export "sleep") (param "ns" u64) (canon lift (core func $i "sleep"))))"""
SLEEP_S = 0.5
SLEEP_DEADLINE_MS = 50


def blocking_wasi(repetitions: int = 3) -> Claim:
    """A guest sleeping 0.5 s under a 50 ms deadline: wasmtime's WASI p2, against wasmtask's component Linker."""
    engine = Engine.shared()
    component = wc.Component(engine.wasmtime, wasmtime.wat2wasm(SLEEP_WAT))
    wasip2 = wc.Linker(engine.wasmtime)
    wasip2.add_wasip2()
    ours = component_linker.new_linker(engine, component, component_linker.component_imports(engine, component))
    outcomes: dict[str, str] = {}

    def sleep_once(linker: wc.Linker, with_wasi: bool, name: str) -> None:
        store = wasmtime.Store(engine.wasmtime)
        if with_wasi:
            store.set_wasi(wasmtime.WasiConfig())
        store.set_fuel(PLENTY_OF_FUEL)
        store.set_epoch_deadline(deadline_ticks(SLEEP_DEADLINE_MS))
        sleep = linker.instantiate(store, component).get_func(store, "sleep")
        assert sleep is not None
        try:
            sleep(store, int(SLEEP_S * 1e9))
            outcomes[name] = "returned"
        except (wasmtime.Trap, wasmtime.WasmtimeError):
            outcomes[name] = "trapped"
        store.close()

    slow = timed(lambda: sleep_once(wasip2, True, "wasip2"), repetitions)
    fast = timed(lambda: sleep_once(ours, False, "ours"), repetitions)
    return Claim(
        "blocking_wasi", f"A component sleeping {SLEEP_S:g} s (`subscribe-duration` + `block`) under a "
                         f"{SLEEP_DEADLINE_MS} ms deadline",
        Side("wasmtime's WASI p2 (`Linker.add_wasip2`): blocks on the host, the epoch cannot stop it", slow,
             f"the call {outcomes['wasip2']}"),
        Side("wasmtask's component Linker: the import is not provided and traps", fast,
             f"the call {outcomes['ours']}"),
        "isolates/component_linker.py", unit="wall time per call",
    )


# ---- host_api ----------------------------------------------------------------------------------------

def ssl_context(repetitions: int = 20) -> Claim:
    """certifi's roots loaded per fetch session, against once per process."""
    slow = timed(lambda: httpx.create_ssl_context(trust_env=False), repetitions, warmup=1)
    fast = timed(default_ssl_context, repetitions, warmup=1)
    return Claim(
        "ssl_context", "The TLS context of a guest's fetch",
        Side("`httpx.create_ssl_context()` per fetch (loads certifi's roots)", slow),
        Side("`host_api.fetch.default_ssl_context()`, built once per process", fast),
        "host_api/fetch.py", unit="per fetch session",
    )


# ---- toolchains (opt-in: --toolchains) -----------------------------------------------------------------

def _cold_build(language: str, source: str, cache: Path, environment: dict[str, str]) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one build into ``cache``, in a child process with ``environment``."""
    script = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from toolchains import build\n"
        "started = time.perf_counter()\n"
        f"build({language!r}, sys.stdin.read(), Path({str(cache)!r}))\n"
        "seconds = time.perf_counter() - started\n"
        "print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], input=source, capture_output=True, text=True,
                              env={**os.environ, **environment}, cwd=REPO, timeout=600)
    if finished.returncode != 0:
        raise Skipped(f"the {language} build failed: {finished.stderr.strip().splitlines()[-1:]}")
    seconds, peak_kib = json.loads(finished.stdout.strip().splitlines()[-1])
    return float(seconds), int(peak_kib)


def zig_first_build(repetitions: int = 1) -> Claim:
    """A C build with an empty zig cache (it builds wasi-libc first), against one with zig's cache warm."""
    from toolchains import toolchain

    reason = toolchain("c").missing()
    if reason:
        raise Skipped(f"no C toolchain: {reason}")
    source = C_HELLO.read_text()
    slow: list[float] = []
    fast: list[float] = []
    for index in range(repetitions):
        with tempfile.TemporaryDirectory(prefix="wasmtask-micro-zig-") as directory:
            zig_cache = Path(directory) / "zig"
            zig_cache.mkdir()  # the build's Landlock rules name it: it must exist
            environment = {"ZIG_GLOBAL_CACHE_DIR": str(zig_cache)}
            builds = Path(directory) / "builds"
            slow.append(_cold_build("c", f"{source}\n// cold {index}\n", builds, environment)[0] * 1e6)
            fast.append(_cold_build("c", f"{source}\n// warm {index}\n", builds, environment)[0] * 1e6)
    return Claim(
        "zig_first_build", "Building examples/c/hello.c (a source not built before)",
        Side("zig's global cache empty: zig builds wasi-libc first", slow),
        Side("zig's global cache warm (`python -m toolchains` warms it)", fast),
        "toolchains/zig_compiler.py, toolchains/__main__.py", unit="per build",
    )


def python_build(repetitions: int = 1) -> Claim:
    """A Python build by componentize-py, against a hit in the build cache."""
    from toolchains import toolchain

    python = toolchain("python")
    reason = python.missing()
    if reason:
        raise Skipped(f"no Python toolchain: {reason}")
    source = PYTHON_HELLO.read_text()
    slow: list[float] = []
    peaks: list[int] = []
    with tempfile.TemporaryDirectory(prefix="wasmtask-micro-py-") as directory:
        builds = Path(directory)
        for index in range(repetitions):
            variant = f"{source}\n# build {index}\n"
            seconds, peak_kib = _cold_build("python", variant, builds, {})
            slow.append(seconds * 1e6)
            peaks.append(peak_kib)
        fast = timed(lambda: python.build(variant, builds), 10)
    return Claim(
        "python_build", "Building examples/python/hello.py (componentize-py)",
        Side("not cached: componentize-py runs", slow, f"peak RSS {max(peaks) / 1024:.0f} MiB"),
        Side("a hit in the build cache (`Toolchain.build`)", fast),
        "toolchains/python.py (`PythonToolchain.limits`)", unit="per build",
    )


CLAIMS: tuple[Callable[[int], Claim], ...] = (
    host_call, export_lookup, export_call, gil_two_threads, pooling, keep_resident, request_frame, released_close,
    base_snapshot, deploy_snapshot, module_cache, component_call, random_bytes, component_cache, blocking_wasi,
    ssl_context,
)
TOOLCHAIN_CLAIMS: tuple[Callable[[int], Claim], ...] = (python_build, zig_first_build)


def default_repetitions(claim: Callable[..., Claim]) -> int:
    default = claim.__defaults__[0] if claim.__defaults__ else 1
    assert isinstance(default, int)
    return default


def measure(*, scale: float = 1.0, toolchains: bool = False,
            say: Callable[[str], None] = lambda message: None) -> MicroResults:
    """Every claim, each with its default repetitions times ``scale``."""
    results = MicroResults()
    for claim in CLAIMS + (TOOLCHAIN_CLAIMS if toolchains else ()):
        repetitions = max(1, round(default_repetitions(claim) * scale))
        say(f"micro: {claim.__name__} x {repetitions}")
        try:
            results.claims.append(claim(repetitions))
        except Skipped as reason:
            results.skipped[claim.__name__] = str(reason)
    return results


# ---- the report ---------------------------------------------------------------------------------------

def duration(us: float) -> str:
    if us >= 1_000_000:
        return f"{us / 1_000_000:.2f} s"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    if us >= 10:
        return f"{us:.0f} µs"
    return f"{us:.2f} µs"


def _cell(side: Side) -> str:
    detail = f"; {side.detail}" if side.detail else ""
    count = len(side.samples_us)
    spread = f" (p99 {duration(side.p99_us)}, n={count})" if count > 1 else " (once)"
    return f"{side.label}: **{duration(side.median_us)}**{spread}{detail}"


def ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


def markdown(results: MicroResults) -> str:
    lines = [
        "| claim | slow path | fast path | ratio | relied on by |",
        "|---|---|---|---:|---|",
    ]
    for claim in results.claims:
        lines.append(f"| {claim.claim}; {claim.unit} | {_cell(claim.slow)} | {_cell(claim.fast)} | "
                     f"{ratio(claim.ratio)} | {claim.relied_on_by} |")
    if results.skipped:
        lines += ["", *(f"- skipped {name}: {reason}" for name, reason in results.skipped.items())]
    return "\n".join(lines)


def machine_line() -> str:
    return (f"{os.cpu_count()} CPUs ({machine.cpu_model()}), kernel {os.uname().release}, "
            f"Python {sys.version.split()[0]}, wasmtime {machine.package_version('wasmtime')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benches.micro", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="repetitions times this (0.2: a quick look)")
    parser.add_argument("--toolchains", action="store_true", help="also the cold builds (about a minute more)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    load_before = os.getloadavg()[0]

    def say(message: str) -> None:
        print(f"[micro {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    results = measure(scale=args.scale, toolchains=args.toolchains, say=say)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"`python -m benches.micro{' --toolchains' if args.toolchains else ''}`, {now}, "
          f"{time.monotonic() - started:.0f} s, on {machine_line()}; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after.\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

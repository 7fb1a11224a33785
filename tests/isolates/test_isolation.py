"""Calls share nothing: threads, traps and globals."""

from __future__ import annotations

import threading

import orjson
import pytest

from host_api.request import guest_request
from isolates import CallSpec, CpuLimitExceeded, Limits, ModuleProgram, prepare, run
from tests.isolates.conftest import run_js


def test_two_threads_invoking_at_once_both_succeed() -> None:
    limits = Limits()
    source = """
    module.exports = function (ctx, cb) {
      let n = 0; for (let i = 0; i < 100000; i++) n += i % 7;
      cb(null, {who: ctx.query.who, n});
    };"""
    program = prepare("javascript", source, limits)
    results: dict[str, object] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(who: str) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                results[who] = run(program, guest_request(query=[("who", who)]), CallSpec(limits=limits)).value
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results["a"] == {"who": "a", "n": 299995}
    assert results["b"] == {"who": "b", "n": 299995}


def test_a_call_right_after_a_trapped_call_succeeds(snapshot: bool) -> None:
    limits = Limits(fuel=50_000_000)
    source = """
    module.exports = function (ctx, cb) {
      if (ctx.query.spin) { while (true) {} }
      cb(null, "fine");
    };"""
    program = prepare("javascript", source, limits, snapshot=snapshot)
    with pytest.raises(CpuLimitExceeded):
        run(program, guest_request(query=[("spin", "1")]), CallSpec(limits=limits))
    assert run(program, guest_request(), CallSpec(limits=limits)).value == "fine"


def test_globals_set_in_one_call_are_absent_in_the_next(snapshot: bool) -> None:
    limits = Limits()
    source = """
    let counter = 0;
    module.exports = function (ctx, cb) {
      counter += 1;
      const seen = globalThis.leaked === undefined ? null : globalThis.leaked;
      globalThis.leaked = ctx.query.mark;
      Array.prototype.polluted = true;
      cb(null, {counter, seen, polluted: [].polluted === true && ctx.query.mark === "first" ? "own" : [].polluted});
    };"""
    program = prepare("javascript", source, limits, snapshot=snapshot)
    first = run(program, guest_request(query=[("mark", "first")]), CallSpec(limits=limits)).value
    second = run(program, guest_request(query=[("mark", "second")]), CallSpec(limits=limits)).value
    assert first == {"counter": 1, "seen": None, "polluted": "own"}
    assert second == {"counter": 1, "seen": None, "polluted": True}  # its own write, not the first call's


def test_math_random_differs_between_requests_after_a_snapshot() -> None:
    limits = Limits()
    program = prepare("javascript", "module.exports = function (cb) { cb(null, [Math.random(), Math.random()]); };", limits)
    values = {tuple(run(program, guest_request(), CallSpec(limits=limits)).value) for _ in range(5)}
    assert len(values) == 5


def test_clocks_are_real_per_request_after_a_snapshot() -> None:
    import time

    limits = Limits()
    source = """
    const loadedAt = Date.now();
    module.exports = function (cb) { cb(null, {now: Date.now(), loadedAt, perf: performance.now()}); };"""
    program = prepare("javascript", source, limits)
    time.sleep(0.05)
    value = run(program, guest_request(), CallSpec(limits=limits)).value
    assert abs(value["now"] - time.time() * 1000) < 5_000
    assert value["now"] - value["loadedAt"] >= 50
    assert 0 <= value["perf"] < 1_000


def test_no_environment_or_files_inside_the_guest() -> None:
    source = """
    module.exports = function (cb) {
      cb(null, {process: typeof process, require: typeof require, std: typeof std, os: typeof os});
    };"""
    assert run_js(source).value == {"process": "undefined", "require": "function", "std": "undefined", "os": "undefined"}


def test_exhausted_pool_is_overloaded_not_a_crash() -> None:
    import wasmtime

    from isolates import ModuleProgram, Overloaded
    from isolates.call_context import CallContext
    from isolates.capabilities import GuestFetch, open_log
    from isolates.engine import Engine, EngineSettings, PoolingSettings
    from isolates.module_instance import ModuleInstance
    from isolates.spec import CallSpec

    engine = Engine(EngineSettings(pooling=PoolingSettings(memories=1, instances=2, tables=2)))
    wat = (
        '(module (memory (export "memory") 1) (func (export "wasmtask_alloc") (param i32) (result i32) (i32.const 0))'
        ' (func (export "wasmtask_handle") (param i32 i32) (result i64) (i64.const 0)))'
    )
    program = ModuleProgram(language="wasm", code=wasmtime.Module(engine.wasmtime, wasmtime.wat2wasm(wat)))
    spec = CallSpec()
    log = open_log(spec)
    first = ModuleInstance(engine, program, spec.limits, CallContext(log=log, fetch=GuestFetch(spec, log)))
    first.instantiate()
    second = ModuleInstance(engine, program, spec.limits, CallContext(log=log, fetch=GuestFetch(spec, log)))
    try:
        with pytest.raises(Overloaded):
            second.instantiate()
    finally:
        second.close()
        first.close()
    engine.ticker.stop()


def hash_seed_after_a_call(program: ModuleProgram, limits: Limits) -> int:
    from isolates import raw
    from isolates.call_context import CallContext, set_current
    from isolates.capabilities import GuestFetch, open_log
    from isolates.engine import Engine
    from isolates.module_instance import ModuleInstance

    spec = CallSpec(limits=limits)
    log = open_log(spec)
    call = ModuleInstance(Engine.shared(), program, limits, CallContext(log=log, fetch=GuestFetch(spec, log)))
    set_current(call.context)
    try:
        call.instantiate()
        call.handle(orjson.dumps(guest_request()))
        export = raw.export_func(call.raw, call.instance, b"wasmtask_hash_seed")
        assert export is not None
        return raw.call_i32_to_i32(call.raw, export, 0)
    finally:
        set_current(None)
        call.close()


def test_hash_seed_differs_between_requests_after_a_snapshot() -> None:
    limits = Limits()
    program = prepare("javascript", "module.exports = function (cb) { cb(null, 1); };", limits)
    seeds = {hash_seed_after_a_call(program, limits) for _ in range(4)}
    assert len(seeds) == 4


def test_maps_from_the_snapshot_still_work_under_each_requests_seed() -> None:
    limits = Limits()
    source = """
    const table = new Map(); const seen = new Set(); const weak = new WeakMap(); const key = {};
    for (let i = 0; i < 2000; i++) { table.set("k" + i, i); seen.add(i * 7); }
    weak.set(key, "w");
    module.exports = function (cb) {
      let hits = 0;
      for (let i = 0; i < 2000; i++) if (table.get("k" + i) === i && seen.has(i * 7)) hits++;
      table.delete("k0"); table.set("new", 1);
      cb(null, {hits, size: table.size, weak: weak.get(key), has0: table.has("k0")});
    };"""
    program = prepare("javascript", source, limits)
    for _ in range(3):
        assert run(program, guest_request(), CallSpec(limits=limits)).value == {"hits": 2000, "size": 2000, "weak": "w", "has0": False}


def test_new_threads_reuse_the_processes_host_callbacks() -> None:
    from isolates import module_linker
    from isolates.engine import Engine

    engine = Engine.shared().wasmtime
    module_linker.new_linker(engine)
    before = list(module_linker._callbacks)
    threads = [threading.Thread(target=module_linker.thread_linker, args=(engine,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert module_linker._callbacks == before  # worker threads come and go: no callbacks pile up

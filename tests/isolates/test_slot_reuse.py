"""A pooling slot used again starts from its program's image: memory, globals and tables.

Each test runs on an engine with one memory slot, so every call is sure to
reuse the slot the call before it wrote to. The keep-resident sizes cover both
ways wasmtime resets a slot: copied back in place (below ``keep_resident_bytes``)
and unmapped to fault in again (above).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import wasmtime
import wasmtime.component as wc

from host_api.request import guest_request
from isolates import CallSpec, ComponentProgram, Limits, ModuleProgram, Overloaded, run
from isolates.component_linker import component_imports
from isolates.engine import Engine, EngineSettings, PoolingSettings
from isolates.javascript import JavaScriptRuntime, runtime_wasm_path
from isolates.module_cache import ModuleCache

KIB = 1024


def wat_bytes(data: bytes) -> str:
    """``data`` as a WAT string literal's body."""
    return "".join(f"\\{byte:02x}" for byte in data)


def one_slot_engine(keep_resident_bytes: int, table_keep_resident_bytes: int = 0) -> Engine:
    return Engine(EngineSettings(pooling=PoolingSettings(
        memories=1, instances=2, tables=2, keep_resident_bytes=keep_resident_bytes,
        table_keep_resident_bytes=table_keep_resident_bytes)))


@pytest.fixture(params=[(0, 0), (64 * KIB, 64 * KIB), (8192 * KIB, 0)], ids=["unmapped", "split", "kept"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    engine = one_slot_engine(*request.param)
    yield engine
    engine.ticker.stop()


# Each call reports what it finds, then leaves a mark on it: the global, a table entry, a byte
# of the image below 64 KiB and one above, a zero byte of the initial memory above 64 KiB, the
# memory's size, and a byte of a page it grows. A fresh slot reports "71is020".
TEMPLATE = b'{"ok":true,"result":{"type":"json","value":"???????"}}'
VALUE_AT = 4096 + TEMPLATE.index(b"?")
MODULE = f"""
(module
  (type $answer (func (result i32)))
  (memory (export "memory") 2)
  (global $counter (mut i32) (i32.const 7))
  (table $functions 2 funcref)
  (elem (i32.const 0) $one $two)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (data (i32.const 100) "i")
  (data (i32.const 70000) "s")
  (data (i32.const 4096) "{wat_bytes(TEMPLATE)}")
  (func (export "wasmtask_alloc") (param i32) (result i32) (i32.const 8192))
  (func $put (param $at i32) (param $char i32)
    (i32.store8 (i32.add (i32.const {VALUE_AT}) (local.get $at)) (local.get $char)))
  (func $digit (param i32) (result i32) (i32.add (i32.const 48) (local.get 0)))
  (func $byte (param i32) (result i32)
    (select (i32.const 48) (i32.load8_u (local.get 0)) (i32.eqz (i32.load8_u (local.get 0)))))
  (func (export "wasmtask_handle") (param i32 i32) (result i64)
    (call $put (i32.const 0) (call $digit (global.get $counter)))
    (call $put (i32.const 1) (call $digit (call_indirect (type $answer) (i32.const 0))))
    (call $put (i32.const 2) (call $byte (i32.const 100)))
    (call $put (i32.const 3) (call $byte (i32.const 70000)))
    (call $put (i32.const 4) (call $byte (i32.const 120000)))
    (call $put (i32.const 5) (call $digit (memory.size)))
    (drop (memory.grow (i32.const 1)))
    (call $put (i32.const 6) (call $byte (i32.const 131080)))
    (global.set $counter (i32.const 9))
    (table.set $functions (i32.const 0) (ref.func $two))
    (i32.store8 (i32.const 100) (i32.const 88))
    (i32.store8 (i32.const 70000) (i32.const 88))
    (i32.store8 (i32.const 120000) (i32.const 88))
    (i32.store8 (i32.const 131080) (i32.const 88))
    (i64.or (i64.shl (i64.const 4096) (i64.const 32)) (i64.const {len(TEMPLATE)}))))
"""


def module_program(engine: Engine) -> ModuleProgram:
    return ModuleProgram(language="wasm", code=wasmtime.Module(engine.wasmtime, MODULE))


def released_now(close: Callable[[], None]) -> None:
    close()


@pytest.mark.parametrize("release", [None, released_now], ids=["closed-by-run", "released"])
def test_a_modules_memory_globals_and_tables_start_fresh_in_a_reused_slot(
        engine: Engine, release: Callable[[Callable[[], None]], None] | None) -> None:
    program = module_program(engine)
    seen = [run(program, guest_request(), CallSpec(), engine=engine, release=release).value for _ in range(3)]
    assert seen == ["71is020"] * 3


def test_a_trapped_call_leaves_nothing_in_the_slot_either(engine: Engine) -> None:
    trapping = MODULE.replace("(i64.or (i64.shl", "(unreachable) (i64.or (i64.shl")
    program = ModuleProgram(language="wasm", code=wasmtime.Module(engine.wasmtime, trapping))
    with pytest.raises(Exception, match="unreachable"):
        run(program, guest_request(), CallSpec(), engine=engine)
    assert run(module_program(engine), guest_request(), CallSpec(), engine=engine).value == "71is020"


def test_a_components_memory_and_globals_start_fresh_in_a_reused_slot(engine: Engine) -> None:
    template = b'{"ok":true,"result":{"type":"json","value":"????"}}'
    at = 4096 + template.index(b"?")
    component = wc.Component(engine.wasmtime, f"""
(component
  (core module $m
    (memory (export "memory") 2)
    (global $counter (mut i32) (i32.const 7))
    (data (i32.const 100) "i")
    (data (i32.const 70000) "s")
    (data (i32.const 4096) "{wat_bytes(template)}")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 16384))
    (func $byte (param i32) (result i32)
      (select (i32.const 48) (i32.load8_u (local.get 0)) (i32.eqz (i32.load8_u (local.get 0)))))
    (func (export "handle") (param i32 i32) (result i32)
      (i32.store8 (i32.const {at}) (i32.add (i32.const 48) (global.get $counter)))
      (i32.store8 (i32.const {at + 1}) (call $byte (i32.const 100)))
      (i32.store8 (i32.const {at + 2}) (call $byte (i32.const 70000)))
      (i32.store8 (i32.const {at + 3}) (call $byte (i32.const 120000)))
      (global.set $counter (i32.const 9))
      (i32.store8 (i32.const 100) (i32.const 88))
      (i32.store8 (i32.const 70000) (i32.const 88))
      (i32.store8 (i32.const 120000) (i32.const 88))
      (i32.store (i32.const 8192) (i32.const 4096))
      (i32.store (i32.const 8196) (i32.const {len(template)}))
      (i32.const 8192)))
  (core instance $i (instantiate $m))
  (func (export "handle") (param "request" string) (result string)
    (canon lift (core func $i "handle") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
""")
    program = ComponentProgram(language="python", code=component, imports=component_imports(engine, component))
    assert [run(program, guest_request(), CallSpec(), engine=engine).value for _ in range(3)] == ["7is0"] * 3


JS_STATE = """
let counter = 0;
const table = new Map([["kept", 1]]);
module.exports = function (ctx, cb) {
  counter += 1;
  const seen = {counter, leaked: globalThis.leaked === undefined ? null : globalThis.leaked,
                polluted: [].polluted === true, tableSize: table.size, jsonParse: typeof JSON.parse};
  globalThis.leaked = "from an earlier call";
  Array.prototype.polluted = true;
  table.set("added", 2);
  JSON.parse = null;
  const big = new Uint8Array(16 * 1024 * 1024);  // grows memory past any keep-resident size
  big.fill(0xab);
  seen.bigFirst = big[0];
  cb(null, seen);
};"""


def test_a_js_snapshots_state_does_not_survive_in_a_reused_slot(engine: Engine) -> None:
    limits = Limits(memory_bytes=128 * 1024 * 1024)
    runtime = JavaScriptRuntime(engine, ModuleCache(engine), runtime_wasm_path().read_bytes())
    program = runtime.snapshot_program(JS_STATE, limits)
    seen = [run(program, guest_request(), CallSpec(limits=limits), engine=engine).value for _ in range(3)]
    assert seen == [{"counter": 1, "leaked": None, "polluted": False, "tableSize": 1, "jsonParse": "function",
                     "bigFirst": 0xab}] * 3


def test_a_released_store_holds_its_slot_until_it_is_closed() -> None:
    engine = one_slot_engine(64 * KIB)
    program = module_program(engine)
    pending: list[Callable[[], None]] = []
    assert run(program, guest_request(), CallSpec(), engine=engine, release=pending.append).value == "71is020"
    with pytest.raises(Overloaded):
        run(program, guest_request(), CallSpec(), engine=engine)
    pending.pop()()
    assert run(program, guest_request(), CallSpec(), engine=engine).value == "71is020"
    engine.ticker.stop()


def test_a_release_closes_once_whoever_calls_it() -> None:
    engine = one_slot_engine(64 * KIB)
    program = module_program(engine)
    pending: list[Callable[[], None]] = []
    run(program, guest_request(), CallSpec(), engine=engine, release=pending.append)
    close = pending.pop()
    threads = [threading.Thread(target=close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close()
    assert run(program, guest_request(), CallSpec(), engine=engine).value == "71is020"
    engine.ticker.stop()


def test_a_release_never_called_still_frees_the_slot_when_dropped() -> None:
    engine = one_slot_engine(64 * KIB)
    program = module_program(engine)
    run(program, guest_request(), CallSpec(), engine=engine, release=lambda close: None)
    assert run(program, guest_request(), CallSpec(), engine=engine).value == "71is020"
    engine.ticker.stop()


def test_a_release_that_fails_closes_the_store_at_once() -> None:
    engine = one_slot_engine(64 * KIB)
    program = module_program(engine)
    kept: list[Callable[[], None]] = []

    def refuse(close: Callable[[], None]) -> None:
        kept.append(close)  # held, so only the failure path can have closed it
        raise RuntimeError("the loop is closed")

    with pytest.raises(RuntimeError, match="the loop is closed"):
        run(program, guest_request(), CallSpec(), engine=engine, release=refuse)
    assert run(program, guest_request(), CallSpec(), engine=engine).value == "71is020"
    engine.ticker.stop()

"""Raw Wasm guests (language "wasm"): hand-written modules speaking guest_sdk/ABI.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from host_api.request import guest_request
from isolates import CallSpec, InvalidCode, IsolateError, Limits, prepare, run

REPO = Path(__file__).resolve().parents[2]
LIMITS = Limits(fuel=20_000_000, memory_bytes=4 * 1024 * 1024, wall_clock_ms=5_000)

# The exports every guest needs, around a handler body given as WAT.
TEMPLATE = """
(module
  {imports}
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 64) "{{\\"ok\\":false,\\"error\\":{{\\"code\\":\\"memory_limit\\",\\"message\\":\\"grow failed\\"}}}}")
  (func (export "wasmtask_alloc") (param $length i32) (result i32)
    (local $start i32)
    (local.set $start (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $length)))
    (local.get $start))
  (func (export "wasmtask_handle") (param $ptr i32) (param $length i32) (result i64)
    {body}))
"""
OUT_OF_MEMORY_REPLY = "(i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 68))"


def wat(body: str, imports: str = "") -> str:
    return TEMPLATE.format(imports=imports, body=body)


def call(source: str, limits: Limits = LIMITS) -> object:
    return run(prepare("wasm", source, limits), guest_request(), CallSpec(limits=limits))


def expect(code: str, source: str, limits: Limits = LIMITS) -> IsolateError:
    with pytest.raises(IsolateError) as caught:
        call(source, limits)
    assert caught.value.code == code, caught.value
    return caught.value


def test_example_answers_with_the_request_and_logs() -> None:
    source = (REPO / "examples/wasm/hello.wat").read_text()
    result = run(prepare("wasm", source, LIMITS), guest_request(query=[("name", "Ada")]), CallSpec(limits=LIMITS))
    assert result.value["hello"] == "wasm"
    assert result.value["request"]["query"] == {"name": "Ada"}
    assert [(r.level, r.msg) for r in result.logs] == [("info", "hello from WAT")]


def test_example_as_a_binary_module() -> None:
    import wasmtime

    binary = wasmtime.wat2wasm((REPO / "examples/wasm/hello.wat").read_text())
    result = run(prepare("wasm", binary, LIMITS), guest_request(), CallSpec(limits=LIMITS))
    assert result.value["hello"] == "wasm"


def test_import_outside_the_abi_is_invalid_code() -> None:
    source = wat("unreachable", imports='(import "env" "system" (func $system (param i32) (result i32)))')
    with pytest.raises(InvalidCode) as caught:
        prepare("wasm", source, LIMITS)
    assert "env.system" in caught.value.message


def test_wasi_import_outside_the_subset_is_invalid_code() -> None:
    source = wat("unreachable", imports='(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))')
    with pytest.raises(InvalidCode) as caught:
        prepare("wasm", source, LIMITS)
    assert "wasi_snapshot_preview1.path_open" in caught.value.message


def test_module_without_the_handler_is_invalid_code() -> None:
    with pytest.raises(InvalidCode):
        prepare("wasm", '(module (memory (export "memory") 1))', LIMITS)


def test_loop_is_cpu_limit() -> None:
    error = expect("cpu_limit", wat("(loop $forever (br $forever)) unreachable"))
    assert error.fuel_used == LIMITS.fuel


def test_memory_grow_bomb_stops_at_the_cap_and_reports_memory_limit() -> None:
    """memory.grow fails (-1) at the store's limit; the guest says so with memory_limit."""
    bomb = f"""
      (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
      (if (i32.gt_u (memory.size) (i32.const {LIMITS.memory_bytes // 65536})) (then unreachable))
      {OUT_OF_MEMORY_REPLY}"""
    expect("memory_limit", wat(bomb))


def test_memory_grow_bomb_that_traps_is_a_clean_guest_error() -> None:
    bomb = "(loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable"
    expect("guest_error", wat(bomb))


def test_initial_memory_over_the_limit_is_memory_limit() -> None:
    source = wat("unreachable").replace('(memory (export "memory") 1)', '(memory (export "memory") 200)')
    expect("memory_limit", source)


def test_out_of_bounds_response_is_guest_error() -> None:
    expect("guest_error", wat("(i64.const 0x7fff000000000010)"))

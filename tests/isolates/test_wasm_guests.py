"""Raw core modules (WAT) through the same ABI, limits and errors."""

from __future__ import annotations

import pytest

from host_api.request import guest_request
from isolates import CallSpec, CpuLimitExceeded, InvalidCode, Limits, MemoryLimitExceeded, prepare, run

RESPONSE = b'{"ok":true,"result":{"type":"json","value":"hi from wat"}}'
RESPONSE_WAT = RESPONSE.decode().replace('"', '\\"')

HELLO = f"""
(module
  (import "wasmtask" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 1024) "{RESPONSE_WAT}")
  (data (i32.const 2048) "hello log")
  (global $next (mut i32) (i32.const 4096))
  (func (export "wasmtask_alloc") (param $len i32) (result i32)
    (local $p i32) (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len))) (local.get $p))
  (func (export "wasmtask_handle") (param i32 i32) (result i64)
    (call $log (i32.const 1) (i32.const 2048) (i32.const 9))
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const {len(RESPONSE)}))))
"""


def test_wat_guest_answers_json_and_logs() -> None:
    limits = Limits()
    result = run(prepare("wasm", HELLO, limits), guest_request(), CallSpec(limits=limits))
    assert result.value == "hi from wat"
    assert [r.msg for r in result.logs] == ["hello log"]


def test_module_importing_outside_the_abi_is_invalid_code() -> None:
    source = HELLO.replace('(import "wasmtask" "log"', '(import "env" "system"')
    with pytest.raises(InvalidCode, match=r"env\.system"):
        prepare("wasm", source, Limits())


def test_export_with_the_wrong_type_is_refused_before_any_unchecked_call() -> None:
    source = HELLO.replace("(param i32 i32) (result i64)", "(param i32) (result i64)").replace(
        "(call $log (i32.const 1) (i32.const 2048) (i32.const 9))", ""
    )
    with pytest.raises(InvalidCode, match="wasmtask_handle must have type"):
        prepare("wasm", source, Limits())


def test_garbage_is_invalid_code() -> None:
    with pytest.raises(InvalidCode):
        prepare("wasm", b"\0asm\x01\0\0\0garbage", Limits())


def test_wat_loop_is_cpu_limit() -> None:
    source = HELLO.replace("(call $log (i32.const 1) (i32.const 2048) (i32.const 9))", "(loop $l (br $l))")
    limits = Limits(fuel=1_000_000)
    with pytest.raises(CpuLimitExceeded):
        run(prepare("wasm", source, limits), guest_request(), CallSpec(limits=limits))


def test_memory_grow_bomb_hits_the_memory_limit() -> None:
    # grows until memory.grow fails (-1 under the store limit), then reports it like a guest would: by trapping
    bomb = "(block $done (loop $l (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br $l))) unreachable"
    source = HELLO.replace("(call $log (i32.const 1) (i32.const 2048) (i32.const 9))", bomb)
    limits = Limits(memory_bytes=8 * 1024 * 1024)
    program = prepare("wasm", source, limits)
    from isolates import GuestError

    with pytest.raises(GuestError):
        run(program, guest_request(), CallSpec(limits=limits))


def test_initial_memory_over_the_limit_is_memory_limit() -> None:
    source = HELLO.replace('(memory (export "memory") 2)', '(memory (export "memory") 300)')
    limits = Limits(memory_bytes=8 * 1024 * 1024)
    with pytest.raises(MemoryLimitExceeded):
        run(prepare("wasm", source, limits), guest_request(), CallSpec(limits=limits))


def test_a_trap_reports_its_cause() -> None:
    from isolates import GuestError

    source = HELLO.replace("(call $log (i32.const 1) (i32.const 2048) (i32.const 9))", "unreachable")
    with pytest.raises(GuestError, match=r"unreachable. instruction executed"):
        run(prepare("wasm", source, Limits()), guest_request(), CallSpec(limits=Limits()))


def test_a_trap_after_out_of_memory_is_memory_limit() -> None:
    source = HELLO.replace(
        '(import "wasmtask" "log" (func $log (param i32 i32 i32)))',
        '(import "wasmtask" "log" (func $log (param i32 i32 i32)))\n  (import "wasmtask" "out_of_memory" (func $oom))',
    ).replace("(call $log (i32.const 1) (i32.const 2048) (i32.const 9))", "(call $oom) unreachable")
    with pytest.raises(MemoryLimitExceeded, match="ran out of memory"):
        run(prepare("wasm", source, Limits()), guest_request(), CallSpec(limits=Limits()))


def test_proc_exit_ends_the_call_with_guest_error() -> None:
    from isolates import GuestError

    source = HELLO.replace(
        '(import "wasmtask" "log" (func $log (param i32 i32 i32)))',
        '(import "wasmtask" "log" (func $log (param i32 i32 i32)))\n'
        '  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))',
    ).replace("(call $log (i32.const 1) (i32.const 2048) (i32.const 9))", "(call $exit (i32.const 3))")
    with pytest.raises(GuestError, match=r"proc_exit\(3\)"):
        run(prepare("wasm", source, Limits()), guest_request(), CallSpec(limits=Limits()))

"""Every error code, triggered by a guest program; the process stays up."""

from __future__ import annotations

import pytest

from isolates import (
    CpuLimitExceeded,
    GuestError,
    InvalidCode,
    IsolateError,
    Limits,
    MemoryLimitExceeded,
    OutputLimitExceeded,
    StackOverflow,
    Timeout,
    prepare,
)
from tests.isolates.conftest import run_js

SMALL = Limits(fuel=50_000_000, memory_bytes=32 * 1024 * 1024, wall_clock_ms=2_000)


def expect(error: type[IsolateError], source: str, *, limits: Limits = SMALL, snapshot: bool = True, **request: object) -> IsolateError:
    with pytest.raises(error) as caught:
        run_js(source, limits=limits, snapshot=snapshot, **request)
    assert caught.value.code == error.code
    return caught.value


def test_syntax_error_is_invalid_code(snapshot: bool) -> None:
    error = expect(InvalidCode, "module.exports = function (cb) { cb(null, 1) ", snapshot=snapshot)
    assert "SyntaxError" in (error.name or "") or "expecting" in error.message


def test_code_without_a_handler_is_invalid_code() -> None:
    error = expect(InvalidCode, "const x = 1;")
    assert "exports no handler" in error.message


def test_import_of_another_module_is_invalid_code() -> None:
    expect(InvalidCode, "import fs from 'fs'; export default { fetch() { return new Response('x'); } };")


def test_top_level_throw_is_invalid_code() -> None:
    expect(InvalidCode, "throw new Error('boom at load');")


def test_never_calling_back_is_guest_error(snapshot: bool) -> None:
    error = expect(GuestError, "module.exports = function (cb) { };", snapshot=snapshot)
    assert "never completed" in error.message


def test_promise_that_never_settles_is_guest_error() -> None:
    error = expect(GuestError, "export default { fetch() { return new Promise(() => {}); } };")
    assert "never completed" in error.message


def test_throw_is_guest_error_with_message_and_stack(snapshot: bool) -> None:
    error = expect(
        GuestError,
        "module.exports = function (cb) {\n  helper();\n};\nfunction helper() { throw new TypeError('bad thing'); }",
        snapshot=snapshot,
    )
    assert error.name == "TypeError"
    assert error.message == "bad thing"
    assert "helper" in (error.stack or "")


def test_cb_error_is_guest_error() -> None:
    error = expect(GuestError, "module.exports = function (cb) { cb(new Error('nope')); };")
    assert error.message == "nope"


def test_cb_with_a_string_error() -> None:
    assert expect(GuestError, "module.exports = function (cb) { cb('plain string'); };").message == "plain string"


def test_rejected_promise_is_guest_error() -> None:
    error = expect(GuestError, "export default { async fetch() { throw new RangeError('rejected'); } };")
    assert (error.name, error.message) == ("RangeError", "rejected")


def test_infinite_loop_is_cpu_limit(snapshot: bool) -> None:
    expect(CpuLimitExceeded, "module.exports = function (cb) { while (true) {} };", snapshot=snapshot)


def test_infinite_loop_with_plenty_of_fuel_is_timeout() -> None:
    limits = Limits(fuel=10**15, wall_clock_ms=150)
    expect(Timeout, "module.exports = function (cb) { while (true) {} };", limits=limits)


def test_top_level_infinite_loop_fails_the_deploy_with_cpu_limit() -> None:
    with pytest.raises(CpuLimitExceeded):
        prepare("javascript", "while (true) {}\nmodule.exports = function (cb) { cb(null, 1); };", SMALL)


def test_catastrophic_regex_backtracking_is_stopped() -> None:
    source = "module.exports = function (cb) { cb(null, /^(a+)+$/.test('a'.repeat(40) + '!')); };"
    with pytest.raises((CpuLimitExceeded, Timeout)):
        run_js(source, limits=SMALL)


@pytest.mark.parametrize(
    "bomb",
    [
        "const a = []; while (true) a.push({x: a.length, y: 'z' + a.length});",
        "let s = 'x'; while (true) { s = s + s; s.indexOf('y'); }",
        "'x'.repeat(200 * 1024 * 1024);",
        "const keep = []; while (true) keep.push(new Uint8Array(1024 * 1024));",
        "new ArrayBuffer(512 * 1024 * 1024);",
    ],
    ids=["array", "string-doubling", "string-repeat", "typed-arrays", "array-buffer"],
)
def test_memory_bombs_are_memory_limit(bomb: str, snapshot: bool) -> None:
    limits = Limits(fuel=2_000_000_000, memory_bytes=32 * 1024 * 1024, wall_clock_ms=10_000)
    expect(MemoryLimitExceeded, "module.exports = function (cb) { " + bomb + " };", limits=limits, snapshot=snapshot)


def test_memory_limit_below_the_snapshot_size_is_memory_limit() -> None:
    program = prepare("javascript", "module.exports = function (cb) { cb(null, 1); };", SMALL)
    from host_api.request import guest_request
    from isolates import CallSpec, run

    with pytest.raises(MemoryLimitExceeded):
        run(program, guest_request(), CallSpec(limits=Limits(memory_bytes=256 * 1024)))


def test_deep_recursion_is_stack_overflow(snapshot: bool) -> None:
    expect(StackOverflow, "function f(n) { return f(n + 1) + 1; }\nmodule.exports = function (cb) { cb(null, f(0)); };", snapshot=snapshot)


def test_caught_stack_overflow_lets_the_guest_recover() -> None:
    source = """
    function f(n) { return f(n + 1) + 1; }
    module.exports = function (cb) { try { f(0); } catch (e) { cb(null, e.name); } };"""
    assert run_js(source).value == "RangeError"


def test_huge_output_is_output_limit() -> None:
    limits = Limits(output_bytes=64 * 1024)
    expect(OutputLimitExceeded, "module.exports = function (cb) { cb(null, 'x'.repeat(100000)); };", limits=limits)


def test_huge_response_body_is_output_limit() -> None:
    limits = Limits(output_bytes=64 * 1024)
    expect(OutputLimitExceeded, "export default { fetch() { return new Response('y'.repeat(200000)); } };", limits=limits)


@pytest.mark.parametrize(
    "value",
    ["10n", "(() => { const o = {}; o.self = o; return o; })()"],
    ids=["bigint", "circular"],
)
def test_non_json_serializable_result_is_guest_error(value: str) -> None:
    error = expect(GuestError, f"module.exports = function (cb) {{ cb(null, {value}); }};")
    assert "not JSON-serializable" in error.message


def test_workers_handler_returning_a_non_response_is_guest_error() -> None:
    error = expect(GuestError, "export default { fetch() { return {not: 'a response'}; } };")
    assert "must return a Response" in error.message


def test_invalid_utf8_body_reaches_the_guest_lossily_and_exactly() -> None:
    source = """
    export default { async fetch(request) {
      const bytes = new Uint8Array(await request.clone().arrayBuffer());
      const text = await request.text();
      return Response.json({n: bytes.length, last: bytes[bytes.length - 1], text});
    } };"""
    import orjson

    result = run_js(source, method="POST", body=b"ok\xff\xfe")
    assert orjson.loads(result.body) == {"n": 4, "last": 0xFE, "text": "ok\ufffd\ufffd"}


def test_invalid_utf8_body_in_webtask_ctx() -> None:
    result = run_js("module.exports = function (ctx, cb) { cb(null, ctx.body); };", method="POST", body=b"\xc3\x28")
    assert result.value == "\ufffd("


def test_memory_limit_above_the_engines_maximum_is_invalid_request() -> None:
    from host_api.request import guest_request
    from isolates import CallSpec, UnsupportedLimits, run

    program = prepare("javascript", "module.exports = function (cb) { cb(null, 1); };", SMALL)
    with pytest.raises(UnsupportedLimits, match="maximum") as caught:
        run(program, guest_request(), CallSpec(limits=Limits(memory_bytes=64 * 1024 * 1024 * 1024)))
    assert caught.value.code == "invalid_request"

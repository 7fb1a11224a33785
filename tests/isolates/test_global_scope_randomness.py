"""Randomness at the top level throws: a deploy would freeze its value into the snapshot."""

from __future__ import annotations

import orjson
import pytest

from host_api.request import guest_request
from isolates import CallSpec, InvalidCode, Limits, prepare, run
from tests.isolates.conftest import run_js

RANDOMNESS = {
    "Math.random()": "Math.random()",
    "crypto.getRandomValues()": "crypto.getRandomValues(new Uint8Array(16))",
    "crypto.randomUUID()": "crypto.randomUUID()",
}
SCRIPT = "const nonce = {call};\nmodule.exports = function (cb) {{ cb(null, String(nonce)); }};"
MODULE = "const nonce = {call};\nexport default {{ fetch() {{ return new Response(String(nonce)); }} }};"
TOP_LEVEL_AWAIT = "await Promise.resolve();\nconst nonce = {call};\nexport default {{ fetch() {{ return new Response(String(nonce)); }} }};"

CASES = [
    pytest.param(api, shape.format(call=call), id=f"{kind}-{api}")
    for kind, shape in (("script", SCRIPT), ("module", MODULE), ("top-level-await", TOP_LEVEL_AWAIT))
    for api, call in RANDOMNESS.items()
]


def assert_global_scope_error(error: InvalidCode, api: str) -> None:
    assert error.code == "invalid_code"
    assert error.name == "Error"
    assert error.message.startswith(f"{api} cannot be called at the top level (global scope)")
    assert "frozen into the deployed snapshot" in error.message
    assert "call it inside the handler" in error.message


@pytest.mark.parametrize(("api", "source"), CASES)
def test_top_level_randomness_fails_the_deploy(api: str, source: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        prepare("javascript", source, Limits(), snapshot=True)
    assert_global_scope_error(caught.value, api)


@pytest.mark.parametrize(("api", "source"), CASES)
def test_top_level_randomness_fails_a_fresh_run_at_invoke(api: str, source: str) -> None:
    limits = Limits()
    program = prepare("javascript", source, limits, snapshot=False)  # init runs in the call
    with pytest.raises(InvalidCode) as caught:
        run(program, guest_request(), CallSpec(limits=limits))
    assert_global_scope_error(caught.value, api)


def test_the_top_level_error_is_an_ordinary_catchable_error(snapshot: bool) -> None:
    source = """
    let caught;
    try { Math.random(); } catch (e) { caught = [e instanceof Error, e.name]; }
    module.exports = function (cb) { cb(null, caught); };"""
    assert run_js(source, snapshot=snapshot).value == [True, "Error"]


def test_randomness_inside_a_request_works_and_differs_per_call(snapshot: bool) -> None:
    limits = Limits()
    source = """
    module.exports = function (cb) {
      const bytes = Array.from(crypto.getRandomValues(new Uint8Array(16))).join(",");
      cb(null, [Math.random(), bytes, crypto.randomUUID()]);
    };"""
    program = prepare("javascript", source, limits, snapshot=snapshot)
    values = [run(program, guest_request(), CallSpec(limits=limits)).value for _ in range(3)]
    for position in range(3):
        assert len({value[position] for value in values}) == 3


def test_workers_handler_draws_randomness_in_the_request(snapshot: bool) -> None:
    source = """
    export default { async fetch() { await null; return Response.json([Math.random(), crypto.randomUUID()]); } };"""
    result = run_js(source, snapshot=snapshot)
    assert result.status == 200
    number, uuid = orjson.loads(result.body)
    assert 0 <= number < 1 and len(uuid) == 36


def test_a_top_level_helper_that_draws_lazily_works(snapshot: bool) -> None:
    limits = Limits()
    source = """
    const random = Math.random;
    function makeId() { return random().toString(36).slice(2) + "-" + crypto.randomUUID(); }
    let cached;
    const id = () => (cached ??= makeId());
    module.exports = function (cb) { cb(null, [id(), id()]); };"""
    program = prepare("javascript", source, limits, snapshot=snapshot)
    first = run(program, guest_request(), CallSpec(limits=limits)).value
    second = run(program, guest_request(), CallSpec(limits=limits)).value
    assert first[0] == first[1]  # cached within the request
    assert first[0] != second[0]  # drawn afresh in each request


def test_math_random_keeps_its_shape() -> None:
    source = """
    module.exports = function (cb) {
      const d = Object.getOwnPropertyDescriptor(Math, "random");
      cb(null, [Math.random.name, Math.random.length, d.writable, d.enumerable, d.configurable, String(Math.random).includes("native code")]);
    };"""
    assert run_js(source).value == ["random", 0, True, False, True, True]

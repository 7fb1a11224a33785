from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from isolates import GuestError
from tests.isolates.conftest import run_js

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_seed_hello_world(snapshot: bool) -> None:
    result = run_js('return function (cb) { cb(null, "Hello, world"); }', snapshot=snapshot)
    assert result.kind == "json"
    assert result.value == "Hello, world"


def test_module_exports_cb(snapshot: bool) -> None:
    result = run_js("module.exports = function (cb) { cb(null, {n: 42}); };", snapshot=snapshot)
    assert result.value == {"n": 42}


def test_ctx_cb_sees_query_body_headers_secrets_meta(snapshot: bool) -> None:
    source = """
    module.exports = function (ctx, cb) {
      cb(null, {q: ctx.query, body: ctx.body, h: ctx.headers["x-trace"], s: ctx.secrets.KEY,
                m: ctx.meta.tenant, method: ctx.method, path: ctx.path, data: ctx.data.KEY});
    };"""
    result = run_js(
        source,
        snapshot=snapshot,
        method="POST",
        path="/a/b",
        query=[("x", "1"), ("y", "2"), ("y", "3")],
        headers=[("X-Trace", "abc"), ("content-type", "application/json")],
        body=b'{"hello": "there"}',
        secrets={"KEY": "s3cret"},
        meta={"tenant": "acme"},
    )
    assert result.value == {
        "q": {"x": "1", "y": ["2", "3"]},
        "body": {"hello": "there"},
        "h": "abc",
        "s": "s3cret",
        "m": "acme",
        "method": "POST",
        "path": "/a/b",
        "data": "s3cret",
    }


def test_ctx_req_res_writes_a_response(snapshot: bool) -> None:
    source = """
    module.exports = function (ctx, req, res) {
      res.setHeader("x-one", "1");
      res.writeHead(201, {"content-type": "text/plain"});
      res.write("created ");
      res.end(req.method);
    };"""
    result = run_js(source, snapshot=snapshot, method="PUT")
    assert result.kind == "response"
    assert result.status == 201
    assert ("content-type", "text/plain") in result.headers
    assert ("x-one", "1") in result.headers
    assert result.body == b"created PUT"


def test_req_stream_events_deliver_the_body() -> None:
    source = """
    module.exports = function (ctx, req, res) {
      let data = "";
      req.on("data", (chunk) => { data += chunk; });
      req.on("end", () => { res.writeHead(200); res.end("got:" + data); });
    };"""
    result = run_js(source, method="POST", body=b"abc")
    assert result.body == b"got:abc"


def test_workers_fetch_handler(snapshot: bool) -> None:
    source = """
    export default {
      async fetch(request, env, ctx) {
        const url = new URL(request.url);
        const body = await request.text();
        return new Response(JSON.stringify({path: url.pathname, q: url.searchParams.get("q"),
                                             body, secret: env.TOKEN, h: request.headers.get("x-a")}),
                            {status: 202, headers: {"content-type": "application/json"}});
      }
    };"""
    result = run_js(
        source,
        snapshot=snapshot,
        method="POST",
        url="http://example.test/run/t/f/items?q=7",
        headers=[("x-a", "b")],
        body=b"payload",
        secrets={"TOKEN": "tok"},
    )
    assert result.kind == "response"
    assert result.status == 202
    assert orjson.loads(result.body) == {"path": "/run/t/f/items", "q": "7", "body": "payload", "secret": "tok", "h": "b"}


def test_workers_binary_response_round_trips_bytes() -> None:
    source = """
    export default { fetch() { return new Response(new Uint8Array([0, 255, 128, 10])); } };"""
    result = run_js(source)
    assert result.body == bytes([0, 255, 128, 10])


def test_async_function_value_is_the_result() -> None:
    source = "module.exports = async function (ctx, cb) { await null; return {async: true}; };"
    assert run_js(source).value == {"async": True}


def test_promise_jobs_run_to_completion_inside_the_call() -> None:
    source = """
    module.exports = function (cb) {
      Promise.resolve(1).then((x) => x + 1).then((x) => new Promise((r) => setTimeout(() => r(x * 10), 50)))
        .then((x) => cb(null, x));
    };"""
    assert run_js(source).value == 20


def test_undefined_result_is_null() -> None:
    assert run_js("module.exports = function (cb) { cb(); };").value is None


def test_each_example_runs_through_the_cli() -> None:
    expected = {
        "hello.js": "Hello, world",
        "webtask-cb.js": {"hello": "world", "at": "number"},
        "webtask-ctx.js": {"greeting": "Hello, ada", "method": "GET", "body": None},
    }
    for name, value in expected.items():
        out = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", str(EXAMPLES / name), "--query", "name=ada"],
            capture_output=True, text=True, check=True,
        )
        assert orjson.loads(out.stdout) == value, name
    worker = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", str(EXAMPLES / "worker.js"), "--query", "name=ada"],
        capture_output=True, text=True, check=True,
    )
    response = orjson.loads(worker.stdout)
    assert response["status"] == 200
    assert response["body"]["message"] == "Hello, ada!"  # a JSON body is shown parsed
    req_res = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", str(EXAMPLES / "webtask-req-res.js")],
        capture_output=True, text=True, check=True,
    )
    assert orjson.loads(req_res.stdout)["body"].startswith("<h1>Hello from GET")


def test_an_identifier_starting_with_import_does_not_make_a_script_a_module() -> None:
    from isolates.javascript import is_es_module

    assert not is_es_module("const o = { import_x: 1 };\nmodule.exports = function (cb) { cb(null, o); };")
    assert is_es_module('import{a}from"b";export default {}')


def test_a_cb_handler_reading_this_gets_the_context(snapshot: bool) -> None:
    # the context is built only for a `function (cb)` whose source can read `this`
    source = 'module.exports = function (cb) { cb(null, {q: this.query.q, m: this.method, d: this.data.q}); };'
    assert run_js(source, snapshot=snapshot, query=[("q", "1")]).value == {"q": "1", "m": "GET", "d": "1"}
    through_eval = 'module.exports = function (cb) { cb(null, eval("th" + "is").method); };'
    assert run_js(through_eval, snapshot=snapshot, method="POST").value == "POST"


def test_ctx_data_is_an_assignable_object_without_query_or_secrets() -> None:
    source = """module.exports = function (ctx, cb) {
      const first = ctx.data; first.n = 1; ctx.data = {m: 2};
      cb(null, {first, now: ctx.data, keys: Object.keys(ctx).includes("data")});
    };"""
    assert run_js(source).value == {"first": {"n": 1}, "now": {"m": 2}, "keys": True}


def test_a_fetch_handler_without_parameters_can_still_read_its_arguments(snapshot: bool) -> None:
    # fetch() declaring nothing is given nothing, unless its source can read `arguments`
    source = """export default { fetch() {
      return new Response(arguments.length + " " + arguments[0].method + " " + typeof arguments[2].waitUntil);
    } };"""
    assert run_js(source, snapshot=snapshot, method="PUT").body == b"3 PUT function"
    none = 'export default { fetch() { return new Response("none"); } };'
    assert run_js(none, snapshot=snapshot).body == b"none"


def test_a_fetch_handler_that_throws_synchronously_fails_the_call() -> None:
    source = 'export default { fetch() { throw new RangeError("sync"); } };'
    with pytest.raises(GuestError) as caught:
        run_js(source)
    assert "sync" in caught.value.message


def test_a_response_reply_keeps_unusual_statuses_and_header_text() -> None:
    source = r"""export default { fetch() {
      return new Response("é\u2028\"", {status: 299, headers: [["x-q", "a\"b\\c"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]});
    } };"""
    result = run_js(source)
    assert result.status == 299
    assert ("x-q", 'a"b\\c') in result.headers
    assert [value for name, value in result.headers if name == "set-cookie"] == ["a=1", "b=2"]
    assert result.body == '\u00e9\u2028"'.encode()


JSON_VALUES = [
    '{b: 1, a: [1, 2.5, -0, NaN, null, undefined, "é\\u2028"], c: {d: {e: true}}, u: undefined}',
    '(() => { const o = {x: 1, y: 2}; delete o.x; o.z = [[]]; return o; })()',
    '{2: "two", a: 1, 1: "one"}',
    '{when: new Date(0), tagged: {toJSON() { return "tj"; }}, made: new (class { constructor() { this.k = 1; } })()}',
    '(() => { const o = {}; Object.defineProperty(o, "g", {get() { return 7; }, enumerable: true}); o.h = 1; return o; })()',
    '(() => { const a = [1]; a.length = 3; return {a, big: 1e21, tiny: 1e-7}; })()',
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_a_json_result_is_what_json_stringify_writes(value: str) -> None:
    # the reply's value is written natively for plain data, by JSON.stringify otherwise: the same text
    source = f"module.exports = function (cb) {{ const v = {value}; cb(null, {{v, text: JSON.stringify(v)}}); }};"
    result = run_js(source)
    assert orjson.dumps(result.value["v"]) == orjson.dumps(orjson.loads(result.value["text"]))


def test_a_patched_object_prototype_to_json_shapes_the_value_not_the_reply() -> None:
    source = """module.exports = function (cb) {
      Object.prototype.toJSON = function () { return "patched"; };
      cb(null, {a: 1});
    };"""
    assert run_js(source).value == "patched"

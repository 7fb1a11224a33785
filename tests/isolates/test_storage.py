"""Guests using storage through the real runtime and a real registry (SQLite): webtask's
ctx.storage, Workers' env.KV, a C guest on the raw ABI, fuel, and the event-loop rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.fernet import Fernet

from gateway.registry import DeploySpec, Registry, SQLiteDatabase
from gateway.secret_box import SecretBox
from gateway.storage import KVQuotas, RegistryStorage
from host_api.request import guest_request
from host_api.storage import FUEL_PER_OPERATION, Document, FunctionStorage, StorageScope
from isolates import CallSpec, CpuLimitExceeded, InvokeResult, Limits, Program, prepare, run
from tests.toolchains.support import require_toolchain
from toolchains import Toolchains


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[RegistryStorage]:
    registry = Registry(SQLiteDatabase(tmp_path / "registry.sqlite3"), SecretBox(Fernet.generate_key().decode()))
    for tenant in ("acme", "other"):
        registry.create_tenant(tenant, max_limits=Limits(), rate_per_second=1.0, rate_burst=1, concurrency=1)
        for name in ("f", "g"):
            registry.deploy(tenant, name, DeploySpec(language="javascript", code=b"x", limits=Limits()))
    yield RegistryStorage(registry.database, KVQuotas(max_keys=5, max_bytes=1 << 20))
    registry.close()


def call(program: Program, backend: RegistryStorage | None, tenant: str = "acme", function: str = "f", *,
         limits: Limits | None = None, **request: Any) -> InvokeResult:
    storage = None if backend is None else FunctionStorage(backend, StorageScope(tenant, function))
    return run(program, guest_request(**request), CallSpec(limits=limits or Limits(), storage=storage))


def js(source: str, snapshot: bool = True) -> Program:
    return prepare("javascript", source, Limits(), snapshot=snapshot)


COUNTER = js("""module.exports = function (ctx, cb) {
  ctx.storage.get(function (error, data) {
    if (error) return cb(error);
    data = data || { count: 0 };
    data.count += 1;
    ctx.storage.set(data, function (error) { cb(error, data); });
  });
};""")


def test_a_webtask_counter_remembers_between_calls(backend: RegistryStorage) -> None:
    assert [call(COUNTER, backend).value for _ in range(3)] == [{"count": 1}, {"count": 2}, {"count": 3}]


def test_the_document_is_the_function_s_own(backend: RegistryStorage) -> None:
    call(COUNTER, backend, "acme", "f")
    call(COUNTER, backend, "acme", "f")

    assert call(COUNTER, backend, "acme", "g").value == {"count": 1}
    assert call(COUNTER, backend, "other", "f").value == {"count": 1}


def test_a_set_based_on_a_stale_read_fails_with_a_conflict(backend: RegistryStorage) -> None:
    racer = js("""module.exports = function (ctx, cb) {
  ctx.storage.get(function (error, data) {
    ctx.storage.set("stale write", function (error) {
      cb(null, error ? { code: error.code, name: error.name, statusCode: error.statusCode } : "written");
    });
  });
};""")
    scope = StorageScope("acme", "f")
    backend.write_document(scope, b'"first"', None)
    read = backend.read_document

    def read_then_another_call_writes(scope: StorageScope) -> Document | None:
        document = read(scope)
        backend.write_document(scope, b'"someone else"', None)
        return document

    backend.read_document = read_then_another_call_writes  # type: ignore[method-assign]
    try:
        answer = call(racer, backend).value
    finally:
        backend.read_document = read  # type: ignore[method-assign]
    assert answer == {"code": "storage_conflict", "name": "StorageConflictError", "statusCode": 409}
    assert backend.read_document(scope) == Document(b'"someone else"', 2)


def test_force_writes_over_a_newer_document(backend: RegistryStorage) -> None:
    program = js("""module.exports = async function (ctx, cb) {
  await ctx.storage.get();
  await ctx.storage.set({ n: 2 }, { force: 1 });
  await ctx.storage.set({ n: 3 });  // based on the version this call just wrote
  cb(null, await ctx.storage.get());
};""")
    backend.write_document(StorageScope("acme", "f"), b'{"n": 1}', None)

    assert call(program, backend).value == {"n": 3}


def test_a_document_over_500_kb_is_refused(backend: RegistryStorage) -> None:
    program = js("""module.exports = function (ctx, cb) {
  ctx.storage.set({ big: "x".repeat(500 * 1024) }, function (error) { cb(null, error && error.code); });
};""")

    assert call(program, backend).value == "storage_too_large"


KV = js("""export default { async fetch(request, env) {
  await env.KV.put("greeting", "héllo");
  await env.KV.put("config", JSON.stringify({ on: true }));
  await env.KV.put("bytes", new Uint8Array([0, 255, 7]));
  await env.KV.put("user:1", "a"); await env.KV.put("user:2", "b");
  const bytes = new Uint8Array(await env.KV.get("bytes", "arrayBuffer"));
  const listed = await env.KV.list({ prefix: "user:" });
  await env.KV.delete("user:1");
  return Response.json({
    text: await env.KV.get("greeting"), json: await env.KV.get("config", { type: "json" }),
    bytes: Array.from(bytes), missing: await env.KV.get("nope"),
    listed: listed.keys.map((k) => k.name), complete: listed.list_complete,
    after: (await env.KV.list({ prefix: "user:" })).keys.map((k) => k.name),
  });
} };""")


def test_workers_kv_strings_bytes_json_list_and_delete(backend: RegistryStorage) -> None:
    result = call(KV, backend)

    assert result.status == 200
    assert orjson.loads(result.body) == {
        "text": "héllo", "json": {"on": True}, "bytes": [0, 255, 7], "missing": None,
        "listed": ["user:1", "user:2"], "complete": True, "after": ["user:2"]}


def test_kv_of_another_tenant_or_function_is_invisible(backend: RegistryStorage) -> None:
    call(KV, backend, "acme", "f")
    peek = js("""export default { async fetch(request, env) {
  return Response.json({ keys: (await env.KV.list()).keys.length, greeting: await env.KV.get("greeting") });
} };""")
    assert orjson.loads(call(peek, backend, "acme", "g").body) == {"keys": 0, "greeting": None}
    assert orjson.loads(call(peek, backend, "other", "f").body) == {"keys": 0, "greeting": None}
    assert orjson.loads(call(peek, backend, "acme", "f").body) == {"keys": 4, "greeting": "héllo"}


def test_a_kv_quota_is_a_coded_error_the_guest_can_catch(backend: RegistryStorage) -> None:
    workers = js("""export default { async fetch(request, env) {
  try { for (let i = 0; i < 10; i++) await env.KV.put("k" + i, "v"); return new Response("all stored"); }
  catch (e) { return Response.json({ name: e.name, code: e.code, message: e.message }); }
} };""")

    answer = orjson.loads(call(workers, backend).body)
    assert answer["code"] == "storage_quota_exceeded" and answer["name"] == "QuotaExceededError"
    assert "at most 5 KV keys" in answer["message"]


def test_without_storage_every_operation_is_unavailable(backend: RegistryStorage) -> None:
    program = js("""module.exports = function (ctx, cb) { ctx.storage.get(function (e) { cb(null, e.code); }); };""")

    assert call(program, None).value == "storage_unavailable"


def test_storage_operations_cost_fuel(backend: RegistryStorage) -> None:
    program = js("""module.exports = async function (ctx, cb) {
  for (let i = 0; i < Number(ctx.query.n); i++) await ctx.storage.get();
  cb(null, "done");
};""")
    one = call(program, backend, query=[("n", "1")]).fuel_used
    eleven = call(program, backend, query=[("n", "11")]).fuel_used

    assert eleven - one >= 10 * FUEL_PER_OPERATION


def test_storage_past_the_fuel_budget_is_a_cpu_limit(backend: RegistryStorage) -> None:
    program = js("""module.exports = async function (ctx, cb) {
  for (let i = 0; i < 1000; i++) await ctx.storage.get();
  cb(null, "done");
};""")

    with pytest.raises(CpuLimitExceeded):
        call(program, backend, limits=Limits(fuel=20_000_000))


def test_on_the_event_loop_storage_ends_the_attempt_before_the_database(backend: RegistryStorage) -> None:
    storage = FunctionStorage(backend, StorageScope("acme", "f")).on_the_loop()

    with pytest.raises(CpuLimitExceeded):
        run(COUNTER, guest_request(), CallSpec(storage=storage))
    assert storage.deferred is True
    assert backend.read_document(StorageScope("acme", "f")) is None  # the attempt wrote nothing


def test_a_function_that_never_uses_storage_runs_as_before(backend: RegistryStorage) -> None:
    hello = js('return function (cb) { cb(null, "Hello, world"); }')
    storage = FunctionStorage(backend, StorageScope("acme", "f")).on_the_loop()

    assert run(hello, guest_request(), CallSpec(storage=storage)).value == "Hello, world"
    assert storage.deferred is False


def test_only_a_source_that_names_storage_gets_the_bindings() -> None:
    hidden = js("""module.exports = function (ctx, cb) { cb(null, [typeof ctx["stor" + "age"], Object.keys(ctx).length]); };""")
    named = js("""module.exports = function (ctx, cb) { cb(null, [typeof ctx.storage, typeof ctx.storage.set]); };""")

    assert run(hidden, guest_request(), CallSpec()).value[0] == "undefined"  # type: ignore[index]
    assert run(named, guest_request(), CallSpec()).value == ["object", "function"]


C_GUEST = r"""
#include "wasmtask.h"
#include <stdlib.h>

void handle(const char *request) {
    char *put = wt_storage("{\"op\":\"kv.put\",\"key\":\"from-c\",\"value\":\"hello from C\"}");
    char *got = wt_storage("{\"op\":\"kv.get\",\"key\":\"from-c\"}");
    char *set = wt_storage("{\"op\":\"storage.set\",\"data\":{\"lang\":\"c\"},\"version\":0}");
    char *again = wt_storage("{\"op\":\"storage.set\",\"data\":{\"lang\":\"c\"},\"version\":0}");
    wt_buf out = {0};
    wt_buf_printf(&out, "[%s,%s,%s,%s]", put, got, set, again);
    wt_return_json(out.data);
    free(put); free(got); free(set); free(again);
}
"""


def test_a_c_guest_uses_storage_through_the_abi(backend: RegistryStorage) -> None:
    require_toolchain("c")
    program = prepare("c", C_GUEST, Limits(), compiler=Toolchains())

    put, got, created, conflict = call(program, backend, "acme", "g").value
    assert put == {"ok": True}
    assert got == {"ok": True, "value": "hello from C"}
    assert created == {"ok": True, "version": 1}
    assert conflict["ok"] is False and conflict["error"]["code"] == "storage_conflict"
    assert call(js("""export default { async fetch(r, env) { return new Response(await env.KV.get("from-c")); } };"""),
                backend, "acme", "g").body == b"hello from C"


PYTHON_GUEST = '''
import wasmtask

def handle(request):
    document = wasmtask.storage.get() or {"count": 0}
    document["count"] += 1
    wasmtask.storage.set(document)
    wasmtask.kv.put("bytes", b"\\x00\\x01", expiration_ttl=120)
    wasmtask.kv.put("text", "from Python")
    return {"count": document["count"], "bytes": list(wasmtask.kv.get("bytes", type="bytes")),
            "text": wasmtask.kv.get("text"), "keys": [k["name"] for k in wasmtask.kv.list()["keys"]]}
'''


def test_a_python_guest_uses_storage_through_the_world(backend: RegistryStorage) -> None:
    require_toolchain("python")
    program = prepare("python", PYTHON_GUEST, Limits(fuel=2_000_000_000, memory_bytes=48 << 20,
                                                     wall_clock_ms=10_000), compiler=Toolchains())
    limits = Limits(fuel=2_000_000_000, memory_bytes=48 << 20, wall_clock_ms=10_000)

    first = call(program, backend, "acme", "g", limits=limits).value
    second = call(program, backend, "acme", "g", limits=limits).value

    assert first == {"count": 1, "bytes": [0, 1], "text": "from Python", "keys": ["bytes", "text"]}
    assert second["count"] == 2  # type: ignore[index]
    assert backend.read_document(StorageScope("acme", "g")) == Document(b'{"count":2}', 2)

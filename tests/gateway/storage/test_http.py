"""Storage end to end over HTTP, on a real gateway (SQLite and PostgreSQL): functions called on their
endpoints remember, and their owner reads and writes the same data through /api/storage and /api/kv."""

from __future__ import annotations

import pytest

from tests.gateway.support import Api

COUNTER = """module.exports = function (ctx, cb) {
  ctx.storage.get(function (error, data) {
    if (error) return cb(error);
    data = data || { count: 0 };
    data.count += 1;
    ctx.storage.set(data, function (error) { cb(error, data); });
  });
};"""

KV_ECHO = """export default { async fetch(request, env) {
  const url = new URL(request.url);
  const key = url.searchParams.get("key");
  if (request.method === "PUT") { await env.KV.put(key, await request.text()); return new Response("stored"); }
  const value = await env.KV.get(key);
  return value === null ? new Response("missing", { status: 404 }) : new Response(value);
} };"""


@pytest.fixture
def counter(api: Api, tenant: str, token: dict[str, str]) -> str:
    api.deployed(tenant, "counter", COUNTER, token)
    return f"/run/{tenant}/counter"


def test_a_function_remembers_between_calls(api: Api, counter: str) -> None:
    counts = [api.http.get(counter).json()["count"] for _ in range(3)]

    assert counts == [1, 2, 3]


def test_the_owner_reads_and_writes_the_document(api: Api, tenant: str, token: dict[str, str],
                                                   counter: str) -> None:
    api.http.get(counter)
    path = f"/api/storage/{tenant}/counter"

    assert api.http.get(path, headers=token).json() == {"data": {"count": 1}, "version": 1}
    assert api.http.put(path, json={"data": {"count": 41}, "version": 1}, headers=token).json() == {"version": 2}
    assert api.http.get(counter).json() == {"count": 42}


def test_a_stale_owner_write_is_a_409_conflict(api: Api, tenant: str, token: dict[str, str], counter: str) -> None:
    path = f"/api/storage/{tenant}/counter"
    api.http.put(path, json={"data": {"count": 0}, "version": 0}, headers=token)
    api.http.get(counter)  # the function moves the document to version 2

    stale = api.http.put(path, json={"data": {"count": 100}, "version": 1}, headers=token)
    forced = api.http.put(path, json={"data": {"count": 100}}, headers=token)

    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    assert forced.json() == {"version": 3}


def test_an_owner_document_over_500_kb_is_413(api: Api, tenant: str, token: dict[str, str], counter: str) -> None:
    response = api.http.put(f"/api/storage/{tenant}/counter", json={"data": "x" * (500 * 1024)}, headers=token)

    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_kv_written_by_the_function_is_read_by_the_owner_and_back(api: Api, tenant: str,
                                                                   token: dict[str, str]) -> None:
    api.deployed(tenant, "echo", KV_ECHO, token)
    assert api.http.put(f"/run/{tenant}/echo?key=user:1", content=b"Ada").text == "stored"
    base = f"/api/kv/{tenant}/echo"

    assert api.http.get(f"{base}/user:1", headers=token).text == "Ada"
    assert api.http.put(f"{base}/user:2", content=b"Grace", headers=token).status_code == 204
    assert api.http.put(f"{base}/blob", content=b"\x00\xff", headers={**token, "content-type":
                                                                     "application/octet-stream"}).status_code == 204
    assert api.http.get(f"/run/{tenant}/echo?key=user:2").text == "Grace"
    assert api.http.get(base, params={"prefix": "user:"}, headers=token).json() == {
        "keys": [{"name": "user:1"}, {"name": "user:2"}], "list_complete": True, "cursor": ""}
    blob = api.http.get(f"{base}/blob", headers=token)
    assert blob.content == b"\x00\xff" and blob.headers["content-type"] == "application/octet-stream"

    assert api.http.delete(f"{base}/user:1", headers=token).status_code == 204
    assert api.http.get(f"/run/{tenant}/echo?key=user:1").status_code == 404
    assert api.http.get(f"{base}/user:1", headers=token).json()["error"]["code"] == "not_found"


def test_another_tenant_can_neither_read_nor_see_the_storage(api: Api, tenant: str, token: dict[str, str],
                                                              counter: str) -> None:
    api.http.get(counter)
    intruder = api.create_tenant()
    intruder_token = api.token(intruder)
    api.deployed(intruder, "counter", COUNTER, intruder_token)

    refused = api.http.get(f"/api/storage/{tenant}/counter", headers=intruder_token)
    own = api.http.get(f"/run/{intruder}/counter").json()

    assert refused.status_code == 403
    assert own == {"count": 1}  # the same function name in another tenant starts from nothing


def test_storage_needs_the_deploy_scope(api: Api, tenant: str, counter: str) -> None:
    run_only = api.token(tenant, "run")

    assert api.http.get(f"/api/storage/{tenant}/counter", headers=run_only).status_code == 403


def test_storage_of_a_function_that_does_not_exist_is_404(api: Api, tenant: str, token: dict[str, str]) -> None:
    assert api.http.get(f"/api/storage/{tenant}/nothing", headers=token).status_code == 404
    assert api.http.put(f"/api/kv/{tenant}/nothing/k", content=b"v", headers=token).status_code == 404


def test_bad_owner_requests_are_400(api: Api, tenant: str, token: dict[str, str], counter: str) -> None:
    no_data = api.http.put(f"/api/storage/{tenant}/counter", json={"version": 1}, headers=token)
    short_ttl = api.http.put(f"/api/kv/{tenant}/counter/k?expiration_ttl=5", content=b"v", headers=token)

    assert no_data.status_code == 400 and short_ttl.status_code == 400
    assert short_ttl.json()["error"]["code"] == "invalid_request"


def test_an_ad_hoc_run_has_no_storage(api: Api, tenant: str, token: dict[str, str]) -> None:
    code = "module.exports = function (ctx, cb) { ctx.storage.get(function (e) { cb(null, e && e.code); }); };"
    response = api.http.post(f"/api/run/{tenant}", content=code, headers={**token, "content-type":
                                                                           "text/javascript"})

    assert response.json() == "storage_unavailable"

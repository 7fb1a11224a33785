"""Deploy, list, read, invoke and delete named functions; ad-hoc runs."""

from __future__ import annotations

from tests.gateway.support import REPO, Api, error_code

WEBTASK = """
module.exports = function (ctx, cb) {
  cb(null, {
    method: ctx.method, path: ctx.path, query: ctx.query, body: ctx.body,
    header: ctx.headers["x-thing"] || null, meta: ctx.meta,
  });
};
"""

WORKER = """
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const body = await request.text();
    return new Response(JSON.stringify({
      method: request.method, pathname: url.pathname, q: url.searchParams.getAll("q"),
      header: request.headers.get("x-thing"), body,
    }), { status: 201, headers: { "content-type": "application/json", "x-from": "worker" } });
  },
};
"""


def test_webtask_function_round_trips_path_query_headers_and_body(api: Api, tenant: str, token: dict) -> None:
    deployed = api.deployed(tenant, "echo", WEBTASK, token)
    assert deployed["version"].startswith("v") and deployed["language"] == "javascript"

    response = api.http.post(
        f"/run/{tenant}/echo/items/7?id=7&tag=a&tag=b",
        json={"x": 1},
        headers={"x-thing": "yes"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "method": "POST",
        "path": "/items/7",
        "query": {"id": "7", "tag": ["a", "b"]},
        "body": {"x": 1},
        "header": "yes",
        "meta": {"tenant": tenant, "function": "echo", "version": deployed["version"]},
    }


def test_workers_function_returns_its_response(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "worker", WORKER, token)

    response = api.http.put(f"/run/{tenant}/worker/a/b?q=1&q=2", content=b"hello body", headers={"x-thing": "t"})

    assert response.status_code == 201
    assert response.headers["x-from"] == "worker"
    assert response.json() == {
        "method": "PUT", "pathname": f"/run/{tenant}/worker/a/b", "q": ["1", "2"], "header": "t", "body": "hello body",
    }


def test_function_endpoint_without_a_path(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "echo", WEBTASK, token)

    response = api.http.get(f"/run/{tenant}/echo")

    assert response.status_code == 200
    assert response.json()["path"] == "/"


def test_list_and_get_show_metadata(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "one", WEBTASK, token, env={"MODE": "test"}, limits={"fuel": 50_000_000})
    api.deployed(tenant, "two", WORKER, token, auth="token")

    listed = api.http.get(f"/api/functions/{tenant}", headers=token).json()
    one = api.http.get(f"/api/functions/{tenant}/one", headers=token).json()

    assert [f["name"] for f in listed["functions"]] == ["one", "two"]
    assert [f["auth"] for f in listed["functions"]] == ["public", "token"]
    assert one["env"] == {"MODE": "test"}
    assert one["limits"]["fuel"] == 50_000_000
    assert "code" not in one


def test_redeploy_makes_a_new_current_version(api: Api, tenant: str, token: dict) -> None:
    first = api.deployed(tenant, "f", "module.exports = function (cb) { cb(null, 1); };", token)
    second = api.deployed(tenant, "f", "module.exports = function (cb) { cb(null, 2); };", token)

    versions = api.http.get(f"/api/functions/{tenant}/f/versions", headers=token).json()["versions"]

    assert api.http.get(f"/run/{tenant}/f").json() == 2
    assert [v["version"] for v in versions] == [first["version"], second["version"]]
    assert [v["current"] for v in versions] == [False, True]


def test_bad_code_fails_at_deploy_and_keeps_the_old_version(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", "module.exports = function (cb) { cb(null, 'old'); };", token)

    response = api.deploy(tenant, "f", "module.exports = function (cb) { cb(null, ", token)

    assert response.status_code == 400
    assert error_code(response) == "invalid_code"
    assert api.http.get(f"/run/{tenant}/f").json() == "old"


def test_top_level_loop_fails_the_deploy_with_cpu_limit(api: Api, tenant: str, token: dict) -> None:
    response = api.deploy(tenant, "spin", "while (true) {}", token, limits={"fuel": 20_000_000})

    assert response.status_code == 508
    assert error_code(response) == "cpu_limit"
    assert api.http.get(f"/api/functions/{tenant}/spin", headers=token).status_code == 404


def test_delete_removes_the_function(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "gone", WEBTASK, token)

    deleted = api.http.delete(f"/api/functions/{tenant}/gone", headers=token)

    assert deleted.status_code == 200
    assert error_code(api.http.get(f"/run/{tenant}/gone")) == "not_found"
    assert error_code(api.http.get(f"/api/functions/{tenant}/gone", headers=token)) == "not_found"
    assert error_code(api.http.delete(f"/api/functions/{tenant}/gone", headers=token)) == "not_found"


def test_deploy_as_raw_javascript(api: Api, tenant: str, token: dict) -> None:
    response = api.http.put(
        f"/api/functions/{tenant}/raw",
        content="module.exports = function (cb) { cb(null, 'raw'); };",
        headers={**token, "content-type": "application/javascript"},
    )

    assert response.status_code == 200, response.text
    assert api.http.get(f"/run/{tenant}/raw").json() == "raw"


def test_limits_above_the_tenant_maximum_are_refused(api: Api, token: dict, tenant: str) -> None:
    response = api.deploy(tenant, "big", WEBTASK, token, limits={"memory_bytes": 1 << 40})

    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert "memory_bytes" in response.json()["error"]["message"]


def test_guest_errors_map_to_their_status(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "throws", "module.exports = function (cb) { throw new TypeError('nope'); };", token)
    api.deployed(tenant, "burns", "module.exports = function (cb) { for (;;) {} };", token,
                 limits={"fuel": 20_000_000})

    thrown = api.http.get(f"/run/{tenant}/throws")
    burned = api.http.get(f"/run/{tenant}/burns")

    assert (thrown.status_code, error_code(thrown)) == (500, "guest_error")
    assert "nope" in thrown.json()["error"]["message"]
    assert "stack" not in thrown.json()["error"]  # the public does not see the function's stack
    assert (burned.status_code, error_code(burned)) == (508, "cpu_limit")


def test_token_auth_functions_need_a_run_token(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "private", "module.exports = function (ctx, cb) { cb(null, ctx.headers); };", token,
                 auth="token")
    deploy_only = api.token(tenant, "deploy")

    anonymous = api.http.get(f"/run/{tenant}/private")
    wrong_scope = api.http.get(f"/run/{tenant}/private", headers=deploy_only)
    allowed = api.http.get(f"/run/{tenant}/private", headers={**token, "x-seen": "1"})

    assert (anonymous.status_code, error_code(anonymous)) == (401, "unauthorized")
    assert (wrong_scope.status_code, error_code(wrong_scope)) == (403, "forbidden")
    assert allowed.status_code == 200
    assert allowed.json()["x-seen"] == "1"
    assert "authorization" not in allowed.json()  # the platform token is not passed to the function


def test_platform_credentials_never_reach_a_public_function(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "headers", "module.exports = function (ctx, cb) { cb(null, ctx.headers); };", token)

    with_token = api.http.get(f"/run/{tenant}/headers", headers=token).json()
    with_admin = api.http.get(f"/run/{tenant}/headers", headers=api.admin).json()
    own_scheme = api.http.get(f"/run/{tenant}/headers", headers={"authorization": "Bearer app-key"}).json()

    assert "authorization" not in with_token
    assert "authorization" not in with_admin
    assert own_scheme["authorization"] == "Bearer app-key"


def test_ad_hoc_run_with_javascript_body(api: Api, tenant: str, token: dict) -> None:
    response = api.http.post(
        f"/api/run/{tenant}?name=ada",
        content="module.exports = function (ctx, cb) { cb(null, { hi: ctx.query.name, h: ctx.headers['x-h'] }); };",
        headers={**token, "content-type": "text/javascript", "x-h": "v"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"hi": "ada", "h": "v"}
    assert "ratelimit-remaining" in response.headers


def test_ad_hoc_run_with_json_body_and_response(api: Api, tenant: str, token: dict) -> None:
    code = """module.exports = function (ctx, req, res) {
      res.writeHead(202, { "content-type": "text/plain" }); res.end("got " + ctx.body.n); };"""

    response = api.http.post(f"/api/run/{tenant}", json={"code": code, "body": {"n": 5}}, headers=token)

    assert response.status_code == 202
    assert response.headers["content-type"] == "text/plain"
    assert response.text == "got 5"


def test_ad_hoc_run_shows_the_guest_error_to_its_author(api: Api, tenant: str, token: dict) -> None:
    response = api.http.post(
        f"/api/run/{tenant}",
        json={"code": "module.exports = function (cb) { null.x; };"},
        headers=token,
    )

    assert error_code(response) == "guest_error"
    assert response.json()["error"]["name"] == "TypeError"


def test_ad_hoc_run_of_a_wat_module(api: Api, tenant: str, token: dict) -> None:
    wat = """(module
      (memory (export "memory") 1)
      (data (i32.const 64) "{\\"ok\\":true,\\"result\\":{\\"type\\":\\"json\\",\\"value\\":42}}")
      (func (export "wasmtask_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "wasmtask_handle") (param i32 i32) (result i64)
        (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 47))))"""

    response = api.http.post(f"/api/run/{tenant}", json={"code": wat, "language": "wasm"}, headers=token)

    assert response.status_code == 200, response.text
    assert response.json() == 42


def test_a_c_function_is_built_at_deploy(api: Api, tenant: str, token: dict) -> None:
    source = (REPO / "examples" / "c" / "hello.c").read_text()

    deployed = api.deployed(tenant, "c", source, token, language="c")
    response = api.http.get(f"/run/{tenant}/c?name=gateway")

    assert deployed["language"] == "c"
    assert response.json() == {"hello": "gateway", "method": "GET", "language": "c"}


def test_an_unknown_language_is_an_invalid_request(api: Api, tenant: str, token: dict) -> None:
    response = api.deploy(tenant, "f", "print 1", token, language="cobol")

    assert (response.status_code, error_code(response)) == (400, "invalid_request")

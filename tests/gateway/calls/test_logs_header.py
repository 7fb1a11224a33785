"""x-wasmtask-logs: a call's own log lines in its response, for local development."""

from __future__ import annotations

from gateway.calls import logs_header
from tests.gateway.support import Api, error_code

LOGGING = "module.exports = function (ctx, cb) { console.log('hello', ctx.query.n); console.warn('careful'); cb(null, 'done'); };"
FAILING = "module.exports = function (cb) { console.error('about to fail'); cb(new Error('boom')); };"


def test_an_edge_call_returns_its_logs_when_asked_with_a_logs_token(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "talk", LOGGING, token)
    response = api.http.get(f"/run/{tenant}/talk", params={"n": "7"}, headers={**token, "x-wasmtask-logs": "1"})
    assert response.status_code == 200
    shown = logs_header.decode(response.headers["x-wasmtask-logs"])
    assert [(r["level"], r["msg"]) for r in shown["records"]] == [("info", "hello 7"), ("warn", "careful")]
    assert shown["dropped"] == 0
    assert all(r["tenant"] == tenant and r["function"] == "talk" for r in shown["records"])


def test_without_the_header_nothing_changes(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "talk", LOGGING, token)
    assert "x-wasmtask-logs" not in api.http.get(f"/run/{tenant}/talk").headers


def test_asking_anonymously_or_without_the_logs_scope_is_refused(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "talk", LOGGING, token)
    anonymous = api.http.get(f"/run/{tenant}/talk", headers={"x-wasmtask-logs": "1"})
    assert anonymous.status_code == 401
    run_only = api.http.get(f"/run/{tenant}/talk", headers={**api.token(tenant, "run"), "x-wasmtask-logs": "1"})
    assert (run_only.status_code, error_code(run_only)) == (403, "forbidden")
    other = api.create_tenant()
    foreign = api.http.get(f"/run/{tenant}/talk", headers={**api.token(other), "x-wasmtask-logs": "1"})
    assert foreign.status_code == 403


def test_a_failed_call_still_returns_its_logs(api: Api, tenant: str, token: dict[str, str]) -> None:
    response = api.http.post(f"/api/run/{tenant}", content=FAILING,
                             headers={**token, "content-type": "text/javascript", "x-wasmtask-logs": "1"})
    assert error_code(response) == "guest_error"
    shown = logs_header.decode(response.headers["x-wasmtask-logs"])
    assert [r["msg"] for r in shown["records"]] == ["about to fail"]


SECRET = "sk_live_0123456789-the-real-one"
LEAKY = """
module.exports = function (ctx, cb) {
  console.log("key is " + ctx.secrets.KEY);
  console.log(("x".repeat(100) + ctx.secrets.KEY).repeat(3));
  cb(new Error("failed with " + ctx.secrets.KEY));
};
"""


def test_secrets_are_masked_in_the_logs_header_and_the_error(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "leaky", LEAKY, token, secrets={"KEY": SECRET})
    response = api.http.get(f"/run/{tenant}/leaky", headers={**api.token(tenant, "logs"), "x-wasmtask-logs": "1"})

    assert error_code(response) == "guest_error"
    assert SECRET not in response.text and SECRET[:8] not in response.text
    shown = logs_header.decode(response.headers["x-wasmtask-logs"])
    assert shown["records"][0]["msg"] == "key is [secret]"
    assert all(SECRET[:8] not in record["msg"] for record in shown["records"])


CHATTY = "module.exports = function (cb) { for (let i = 0; i < 400; i++) console.log('line ' + i + ' ' + 'y'.repeat(150)); cb(null, 'ok'); };"


def test_the_logs_header_is_bounded_and_says_what_it_left_out(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "chatty", CHATTY, token, limits={"log_bytes": 65536, "log_lines": 1000})
    response = api.http.get(f"/run/{tenant}/chatty", headers={**token, "x-wasmtask-logs": "1"})

    assert response.status_code == 200
    header = response.headers["x-wasmtask-logs"]
    assert len(header) <= logs_header.MAX_HEADER_BYTES
    shown = logs_header.decode(header)
    assert shown["records"][0]["msg"].startswith("line 0 ")
    assert shown["omitted"] > 0 and len(shown["records"]) + shown["omitted"] + shown["dropped"] == 400


def test_one_huge_line_is_cut_to_fit() -> None:
    from host_api.log import LogRecord

    header = logs_header.encode([LogRecord(1.0, "info", "z" * 100_000)], 0)
    shown = logs_header.decode(header)
    assert len(header) <= logs_header.MAX_HEADER_BYTES
    assert shown["records"][0]["msg"].endswith("[truncated]") and "omitted" not in shown

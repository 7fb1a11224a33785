"""Every malformed input gets its error code in the one envelope, and the server keeps serving."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import anyio
import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from gateway.errors import GATEWAY_ERRORS, STATUS_BY_CODE
from gateway.middleware import RequestIdMiddleware
from isolates.errors import ERRORS_BY_CODE, IsolateError
from tests.gateway.support import Api, error_code

HELLO = "module.exports = function (cb) { cb(null, 'hello'); };"


def raw(api: Api, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """A request whose path goes out byte for byte (httpx would normalise '..')."""
    url = urlsplit(api.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("content-length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, orjson.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def served(api: Api, tenant: str, token: dict) -> Iterator[tuple[str, dict]]:
    api.deployed(tenant, "f", HELLO, token)
    yield tenant, token
    # after each malformed input, the server still serves
    assert api.http.get("/healthz").status_code == 200
    assert api.http.get(f"/run/{tenant}/f").json() == "hello"


@pytest.mark.parametrize(
    "path",
    [
        "/run/../etc/passwd",
        "/run/%2e%2e/f",
        "/run/{tenant}/..",
        "/run/{tenant}/UPPER",
        "/run/{tenant}/under_score",
        "/run/{tenant}/a%20b",
        "/run/{tenant}/%00",
        "/run/{tenant}/" + "x" * 64,
        "/api/functions/{tenant}/..",
        "/api/functions/{tenant}/%2e%2e%2fetc",
        "/api/functions/..%2f..%2fetc/f",
        "/api/functions/{tenant}/-leading-dash",
        "POST /api/run/..",
        "/api/logs/..",
        "/api/tenants/..",
    ],
)
def test_bad_names_are_invalid_requests(api: Api, served: tuple, path: str) -> None:
    tenant, token = served

    method, _, path = path.rpartition(" ")

    status, body = raw(api, method or "GET", path.format(tenant=tenant), headers=token)

    assert (status, body["error"]["code"]) == (400, "invalid_request"), body


def test_unknown_tenant_and_function_are_not_found(api: Api, served: tuple) -> None:
    tenant, _ = served

    for url in ("/run/no-such-tenant/f", f"/run/{tenant}/no-such-function", f"/run/{tenant}/no-such-function/x"):
        response = api.http.get(url)
        assert (response.status_code, error_code(response)) == (404, "not_found"), url


def test_unknown_routes_and_methods(api: Api, served: tuple) -> None:
    tenant, token = served

    unknown = api.http.get("/no/such/route")
    wrong_method = api.http.post("/healthz")
    patch_function = api.http.patch(f"/api/functions/{tenant}/f", headers=token)

    assert (unknown.status_code, error_code(unknown)) == (404, "not_found")
    assert (wrong_method.status_code, error_code(wrong_method)) == (405, "method_not_allowed")
    assert (patch_function.status_code, error_code(patch_function)) == (405, "method_not_allowed")


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"a string"', b"", b'{"code": 42}', b'{"code": "x", "surprise": 1}',
     b'{"code": "x", "language": "cobol"}', b'{"code": "x", "limits": {"fuel": -1}}',
     b'{"code": "x", "limits": {"bogus": 1}}', b'{"code": "x", "secrets": {"BAD NAME": "v"}}',
     b'{"code": "x", "secrets": {"A": 1}}', b'{"code": "x", "allowed_hosts": ["not a host"]}',
     b'{"code": "x", "auth": "maybe"}'],
)
def test_malformed_deploys_are_invalid_requests(api: Api, served: tuple, body: bytes) -> None:
    tenant, token = served

    response = api.http.put(f"/api/functions/{tenant}/g", content=body,
                            headers={**token, "content-type": "application/json"})

    assert (response.status_code, error_code(response)) == (400, "invalid_request"), response.text


@pytest.mark.parametrize(
    "body",
    [b"{nope", b'{"name": "Bad Name"}', b'{"name": "ok-name", "rate_limit": {"per_second": 0}}',
     b'{"name": "ok-name", "concurrency": "lots"}', b'{"name": "ok-name", "max_limits": {"fuel": 0}}'],
)
def test_malformed_tenants_are_invalid_requests(api: Api, body: bytes) -> None:
    response = api.control.post("/api/tenants", content=body,
                                headers={**api.admin, "content-type": "application/json"})

    assert (response.status_code, error_code(response)) == (400, "invalid_request"), response.text


def test_a_duplicate_tenant_is_a_conflict(api: Api, tenant: str) -> None:
    response = api.control.post("/api/tenants", json={"name": tenant}, headers=api.admin)

    assert (response.status_code, error_code(response)) == (409, "conflict")


def test_oversized_bodies_are_refused(api: Api, served: tuple) -> None:
    tenant, token = served
    big = b"x" * (64 * 1024 + 1)

    declared = api.http.post(f"/run/{tenant}/f", content=big)
    chunked = api.http.post(f"/run/{tenant}/f", content=iter([big[:40_000], big[40_000:]]))
    deploy = api.http.put(f"/api/functions/{tenant}/g", content=b"/*" + b"x" * 300_000 + b"*/",
                          headers={**token, "content-type": "text/javascript"})

    for response in (declared, chunked, deploy):
        assert (response.status_code, error_code(response)) == (413, "payload_too_large")


def test_an_unsupported_content_type_is_refused(api: Api, served: tuple) -> None:
    tenant, token = served

    response = api.http.put(f"/api/functions/{tenant}/g", content=b"a=b",
                            headers={**token, "content-type": "application/x-www-form-urlencoded"})

    assert (response.status_code, error_code(response)) == (415, "unsupported_media_type")


@pytest.mark.parametrize("authorization", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer " + "x" * 5000])
def test_invalid_credentials_are_unauthorized(api: Api, served: tuple, authorization: str) -> None:
    tenant, _ = served

    response = api.http.get(f"/api/functions/{tenant}", headers={"authorization": authorization})

    assert (response.status_code, error_code(response)) == (401, "unauthorized")


def test_request_ids_are_kept_when_well_formed_and_replaced_otherwise(api: Api, served: tuple) -> None:
    tenant, _ = served

    kept = api.http.get(f"/run/{tenant}/f", headers={"x-request-id": "trace-123.abc"})
    replaced = api.http.get(f"/run/{tenant}/f", headers={"x-request-id": "bad id\twith<junk>"})
    failed = api.http.get("/no/route", headers={"x-request-id": "trace-404"})

    assert kept.headers["x-request-id"] == "trace-123.abc"
    assert replaced.headers["x-request-id"] not in ("", "bad id\twith<junk>")
    assert failed.json()["error"]["request_id"] == "trace-404"


def test_a_guest_cannot_set_framing_headers(api: Api, tenant: str, token: dict) -> None:
    code = """module.exports = function (ctx, req, res) {
      res.setHeader("x-ok", "1"); res.setHeader("x-request-id", "forged");
      res.setHeader("transfer-encoding", "chunked"); res.end("body"); };"""
    api.deployed(tenant, "headers", code, token)

    response = api.http.get(f"/run/{tenant}/headers")

    assert response.status_code == 200 and response.text == "body"
    assert response.headers["x-ok"] == "1"
    assert response.headers["x-request-id"] != "forged"
    assert "transfer-encoding" not in response.headers


def test_an_unexpected_exception_is_a_500_envelope_without_traceback() -> None:
    async def broken(request: Request) -> None:
        raise RuntimeError("secret internals")

    app = Starlette(routes=[Route("/boom", broken)])
    app.add_middleware(RequestIdMiddleware)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            return await client.get("/boom")

    response = anyio.run(get)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]
    assert "secret internals" not in response.text and "Traceback" not in response.text


def isolate_error_codes() -> set[str]:
    """The code of every class in isolates' error tree (not only those a guest may report)."""
    found: set[str] = set()
    pending: list[type[IsolateError]] = [IsolateError]
    while pending:
        cls = pending.pop()
        found.add(cls.code)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_code_has_a_status() -> None:
    codes = {cls.code for cls in GATEWAY_ERRORS} | set(ERRORS_BY_CODE) | isolate_error_codes()

    assert codes <= set(STATUS_BY_CODE)
    assert STATUS_BY_CODE["cpu_limit"] == 508 and STATUS_BY_CODE["timeout"] == 504


def test_every_status_row_is_a_code_something_can_raise() -> None:
    codes = {cls.code for cls in GATEWAY_ERRORS} | set(ERRORS_BY_CODE) | isolate_error_codes()

    assert set(STATUS_BY_CODE) == codes


def test_a_missing_toolchain_is_its_own_code_not_an_internal_error() -> None:
    from isolates.errors import ToolchainUnavailable

    assert ToolchainUnavailable.code == "language_unavailable"
    assert STATUS_BY_CODE["language_unavailable"] == 503


def test_a_language_the_server_cannot_build_is_language_unavailable_naming_what_to_install(
        api: Api, tenant: str, token: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMTASK_RUSTC", "/nonexistent/rustc")  # read per build, in this process's gateway

    response = api.deploy(tenant, "rusty", "fn main() {}", token, language="rust")

    assert (response.status_code, error_code(response)) == (503, "language_unavailable")
    message = response.json()["error"]["message"]
    assert "rustc" in message and "apt-get install" in message and "make toolchains" in message

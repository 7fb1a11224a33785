"""Functions on their own hostnames (gateway/edge_hosts.py): a gateway with ``WASMTASK_EDGE_DOMAIN``, over real
HTTP on loopback, addressed by Host headers (``{name}.{tenant}.fn.test`` resolves nowhere: the tests connect to
127.0.0.1 and say the host)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from gateway.config import Settings, parse_edge_domain
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, ThreadServer, error_code

DOMAIN = "fn.test"
CONSOLE = "http://console.test:8082"  # a console origin: the API's CORS answers it on /api/, never a function's host
ECHO = ("export default { async fetch(request) { return new Response(JSON.stringify({url: request.url, "
        "method: request.method}), {headers: {'content-type': 'application/json', 'set-cookie': 'seen=1'}}) } }")


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("edge-hosts"), edge_domain=DOMAIN,
                        console_origins=(CONSOLE,), **TEST_SETTINGS)  # type: ignore[arg-type]
    running = ThreadServer(settings).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def edge_api(edge_server: ThreadServer) -> Api:
    return Api(edge_server.url)


@pytest.fixture(scope="module")
def deployed(edge_api: Api) -> str:
    """A tenant with ``hello`` (public) and ``locked`` (needs a token) deployed."""
    tenant = edge_api.create_tenant()
    edge_api.deployed(tenant, "hello", ECHO, edge_api.admin)
    edge_api.deployed(tenant, "locked", ECHO, edge_api.admin, auth="token")
    return tenant


def port(api: Api) -> int:
    return urlsplit(api.url).port or 80


def on_host(api: Api, host: str, path: str = "/", method: str = "GET", **kwargs: object) -> httpx.Response:
    return api.http.request(method, path, headers={"host": host, **kwargs.pop("headers", {})},  # type: ignore[arg-type]
                            **kwargs)  # type: ignore[arg-type]


def test_a_function_answers_on_its_own_host_with_the_path_unchanged(edge_api: Api, deployed: str) -> None:
    host = f"hello.{deployed}.{DOMAIN}:{port(edge_api)}"

    answer = on_host(edge_api, host, "/some/deep/path?q=1&r=two")

    assert answer.status_code == 200, answer.text
    assert answer.json()["url"] == f"http://{host}/some/deep/path?q=1&r=two"
    assert answer.headers["set-cookie"] == "seen=1"  # the cookie is the function host's, not the API's


def test_the_host_matches_in_any_case_with_or_without_port_or_trailing_dot(edge_api: Api, deployed: str) -> None:
    for host in (f"HELLO.{deployed.upper()}.FN.TEST", f"hello.{deployed}.{DOMAIN}.",
                 f"hello.{deployed}.{DOMAIN}:443"):
        answer = on_host(edge_api, host, "/x", method="POST", content=b"body")
        assert answer.status_code == 200, (host, answer.text)
        assert answer.json()["method"] == "POST"


def test_no_api_or_health_route_answers_on_a_function_s_host(edge_api: Api, deployed: str) -> None:
    host = f"hello.{deployed}.{DOMAIN}"
    for path in ("/healthz", "/metrics", "/openapi.json", f"/api/functions/{deployed}", f"/run/{deployed}/hello"):
        answer = on_host(edge_api, host, path, headers=edge_api.admin)
        assert answer.status_code == 200, (path, answer.text)
        assert urlsplit(answer.json()["url"]).path == path, "the function answered, not the gateway"


def test_the_api_s_cors_never_answers_for_a_function_s_host(edge_api: Api, deployed: str) -> None:
    host = f"hello.{deployed}.{DOMAIN}"
    preflight = {"origin": CONSOLE, "access-control-request-method": "PUT"}

    on_function = on_host(edge_api, host, f"/api/functions/{deployed}/hello", method="OPTIONS", headers=preflight)
    on_api = edge_api.http.options(f"/api/functions/{deployed}/hello", headers=preflight)

    assert on_function.status_code == 200 and on_function.json()["method"] == "OPTIONS"  # the guest's answer
    assert "access-control-allow-origin" not in on_function.headers
    assert on_function.headers["x-request-id"]
    assert on_api.headers["access-control-allow-origin"] == CONSOLE


@pytest.mark.parametrize("label", ["-bad", "bad-", "b_d", "x" * 64, "", "a b", "é"])
def test_a_host_whose_labels_are_no_names_answers_404(edge_api: Api, deployed: str, label: str) -> None:
    host = f"{label}.{deployed}.{DOMAIN}".encode()  # bytes: httpx sends them as they are
    answer = edge_api.http.get("/healthz", headers={b"host": host})

    assert answer.status_code == 404 and error_code(answer) == "not_found"


@pytest.mark.parametrize("prefix", [None, "", "x.hello.", "a.b.c."])
def test_other_hosts_under_the_edge_domain_answer_404(edge_api: Api, deployed: str, prefix: str | None) -> None:
    host = DOMAIN if prefix is None else f"{prefix}{deployed}.{DOMAIN}"  # the domain, a tenant's, deeper ones
    for path in ("/healthz", f"/api/functions/{deployed}", "/"):
        answer = on_host(edge_api, host, path, headers=edge_api.admin)
        assert answer.status_code == 404 and error_code(answer) == "not_found", (host, path, answer.text)


def test_an_undeployed_function_s_host_answers_404(edge_api: Api, deployed: str) -> None:
    answer = on_host(edge_api, f"nothing.{deployed}.{DOMAIN}")

    assert answer.status_code == 404 and error_code(answer) == "not_found"


def test_the_api_host_serves_the_api_but_no_guest_response(edge_api: Api, deployed: str) -> None:
    path_form = edge_api.http.get(f"/run/{deployed}/hello/x")
    listed = edge_api.http.get(f"/api/functions/{deployed}", headers=edge_api.admin)
    health = edge_api.http.get("/healthz")

    assert path_form.status_code == 404 and error_code(path_form) == "not_found"
    assert f"{{name}}.{{tenant}}.{DOMAIN}" in path_form.json()["error"]["message"]
    assert "set-cookie" not in path_form.headers
    assert listed.status_code == 200 and {f["name"] for f in listed.json()["functions"]} == {"hello", "locked"}
    assert health.status_code == 200


def test_a_function_that_needs_a_token_checks_it_on_its_host(edge_api: Api, deployed: str) -> None:
    host = f"locked.{deployed}.{DOMAIN}"
    narrowed_to_hello = edge_api.token(deployed, function="hello")

    anonymous = on_host(edge_api, host)
    allowed = on_host(edge_api, host, headers=edge_api.token(deployed, function="locked"))
    other = on_host(edge_api, host, headers=narrowed_to_hello)

    assert anonymous.status_code == 401
    assert allowed.status_code == 200, allowed.text
    assert other.status_code == 403 and error_code(other) == "forbidden"


def test_a_method_edge_calls_do_not_take_is_refused(edge_api: Api, deployed: str) -> None:
    answer = on_host(edge_api, f"hello.{deployed}.{DOMAIN}", method="TRACE")

    assert answer.status_code == 405 and error_code(answer) == "method_not_allowed"


def test_several_host_headers_are_refused(edge_api: Api, deployed: str) -> None:
    request = (f"GET / HTTP/1.1\r\nHost: hello.{deployed}.{DOMAIN}\r\nHost: 127.0.0.1\r\n"
               "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port(edge_api)), timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk

    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 400"), reply[:300]
    body = rest.partition(b"\r\n\r\n")[2]
    if body.startswith(b"{"):  # h11 passed both on, and the layer refused them (else h11 did)
        assert orjson.loads(body)["error"]["code"] == "invalid_request"


def test_the_console_s_request_builder_calls_the_function_on_its_host(edge_api: Api, deployed: str) -> None:
    invoked = edge_api.http.post(f"/api/console/{deployed}/invoke/hello", headers=edge_api.admin,
                                 json={"path": "/from/console", "query": "a=1"})

    assert invoked.status_code == 200, invoked.text
    assert invoked.json()["status"] == 200
    assert orjson.loads(invoked.json()["body"])["url"] == f"http://hello.{deployed}.{DOMAIN}/from/console?a=1"


def test_edge_paths_can_stay_on_with_an_edge_domain(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, edge_domain=DOMAIN, edge_paths=True, **TEST_SETTINGS)  # type: ignore[arg-type]
    server = ThreadServer(settings).start()
    try:
        api = Api(server.url)
        tenant = api.create_tenant()
        api.deployed(tenant, "hello", ECHO, api.admin)
        assert api.http.get(f"/run/{tenant}/hello/x").status_code == 200
        assert on_host(api, f"hello.{tenant}.{DOMAIN}", "/x").status_code == 200
    finally:
        server.stop()


def test_without_an_edge_domain_the_path_form_is_the_only_form(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "hello", ECHO, token)

    path_form = api.http.get(f"/run/{tenant}/hello/x")
    by_host = on_host(api, f"hello.{tenant}.{DOMAIN}", f"/run/{tenant}/hello/y")

    assert path_form.status_code == 200
    assert urlsplit(by_host.json()["url"]).path == f"/run/{tenant}/hello/y"  # the Host means nothing


def test_the_edge_settings() -> None:
    base = Settings()
    assert parse_edge_domain("FN.Example.com.") == "fn.example.com"
    assert parse_edge_domain("localhost") == "localhost"
    for bad in ("", "fn.example.com:8080", "-fn.example.com", "fn..example.com", "fn_x.example.com", "*.example.com"):
        with pytest.raises(ValueError):
            parse_edge_domain(bad)
    assert base.serves_edge_paths
    assert not dataclasses.replace(base, edge_domain=DOMAIN).serves_edge_paths
    assert dataclasses.replace(base, edge_domain=DOMAIN, edge_paths=True).serves_edge_paths
    assert not dataclasses.replace(base, edge_paths=False).serves_edge_paths
    from_env = Settings.from_env({"WASMTASK_EDGE_DOMAIN": "Fn.Example.Com", "WASMTASK_EDGE_PATHS": "1"})
    assert (from_env.edge_domain, from_env.edge_paths) == ("fn.example.com", True)
    with pytest.raises(ValueError, match="WASMTASK_EDGE_DOMAIN"):
        Settings.from_env({"WASMTASK_EDGE_DOMAIN": "bad_domain"})

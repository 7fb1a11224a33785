"""The gateway speaks valid HTTP whatever a guest answers: raw Wasm guests have no prelude to stop them."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.gateway.support import Api, error_code
from tests.isolates.test_response import raw_guest


def deploy_raw(api: Api, tenant: str, token: dict[str, str], name: str, result: dict) -> None:
    api.deployed(tenant, name, raw_guest(result), token, language="wasm")


@pytest.mark.parametrize("status", [100, 101])
def test_an_informational_status_is_a_502_not_a_protocol_switch(api: Api, tenant: str, token: dict[str, str],
                                                                 status: int) -> None:
    deploy_raw(api, tenant, token, "informational", {"type": "response", "status": status, "headers": [
        ["upgrade", "websocket"], ["connection", "upgrade"]]})
    response = api.http.get(f"/run/{tenant}/informational")
    assert (response.status_code, error_code(response)) == (502, "invalid_response")


def test_a_204_with_a_body_keeps_the_connection_usable(api: Api, tenant: str, token: dict[str, str]) -> None:
    deploy_raw(api, tenant, token, "nobody", {"type": "response", "status": 204, "headers": [], "body": "x" * 100})
    deploy_raw(api, tenant, token, "fine", {"type": "response", "status": 200, "headers": [], "body": "fine"})
    address = urlsplit(api.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        for path in (f"/run/{tenant}/nobody", f"/run/{tenant}/fine"):  # one keep-alive connection
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(65536)
            status_line, _, rest = head.partition(b"\r\n")
            length = int(next(line.split(b":")[1] for line in rest.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            body = head.partition(b"\r\n\r\n")[2]
            while len(body) < length:
                body += connection.recv(65536)
            if path.endswith("nobody"):
                assert status_line.split()[1] == b"502" and b"invalid_response" in body
            else:
                assert status_line.split()[1] == b"200" and body == b"fine"


def test_a_guest_cannot_forge_the_platforms_headers(api: Api, tenant: str, token: dict[str, str]) -> None:
    deploy_raw(api, tenant, token, "forger", {"type": "response", "status": 200, "headers": [
        ["x-request-id", "forged"], ["x-wasmtask-logs", "forged"], ["ratelimit-remaining", "99999"]], "body": "ok"})
    response = api.http.get(f"/run/{tenant}/forger")
    assert response.status_code == 200
    assert response.headers["x-request-id"] != "forged"
    assert "x-wasmtask-logs" not in response.headers
    assert response.headers.get_list("ratelimit-remaining") != ["99999"]
    assert len(response.headers.get_list("ratelimit-remaining")) == 1

"""The gateway's credentials never reach guest code, whatever shape the request has."""

from __future__ import annotations

import base64
import socket
from urllib.parse import urlsplit

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.identity.credentials import CredentialFilter
from gateway.identity.keys import AdminKey
from gateway.identity.tokens import TokenSigner, TokenVerifier
from tests.gateway.support import ADMIN_KEY, Api

SIGNING_KEY = Ed25519PrivateKey.generate()
ECHO = "module.exports = function (ctx, cb) { cb(null, ctx.headers); };"


def a_token(key: Ed25519PrivateKey = SIGNING_KEY) -> str:
    return TokenSigner(key).issue("acme", ["run"], tenant_id="t1")[0]


def a_filter() -> CredentialFilter:
    """What a serving process holds: the admin key's digest and the public key."""
    return CredentialFilter(AdminKey.from_plaintext(ADMIN_KEY), TokenVerifier(SIGNING_KEY.public_key()))


@pytest.mark.parametrize("value", [
    "Bearer {admin}", "bearer {admin}", "BEARER   {admin}  ", "Token {admin}", "{admin}",
    "Bearer {token}", "Custom x={token}", "Basic {basic_admin}", "Basic {basic_token}", "session={admin}; b=1",
    '{{"key":"{admin}"}}',
])
def test_every_spelling_of_a_platform_credential_is_recognised(value: str) -> None:
    token = a_token()
    filled = value.format(admin=ADMIN_KEY, token=token,
                          basic_admin=base64.b64encode(f"user:{ADMIN_KEY}".encode()).decode(),
                          basic_token=base64.b64encode(f"{token}:".encode()).decode())
    assert a_filter().holds_credential(filled)


def test_other_credentials_are_the_functions_own_business() -> None:
    foreign = a_token(Ed25519PrivateKey.generate())
    filter_ = a_filter()
    for value in ("Bearer sk_live_abc", f"Bearer {foreign}", "Basic dXNlcjpwYXNz", "eyJhbGciOi.not.ajwt",
                  f"Bearer {ADMIN_KEY[:-1]}", f"Bearer {ADMIN_KEY}x"):
        assert not filter_.holds_credential(value)


def test_consumed_authorization_headers_all_go() -> None:
    headers = [("authorization", "Bearer theirs"), ("authorization", "Bearer other"), ("x-a", "1")]
    kept = a_filter().guest_headers(headers, authorization_consumed=True)
    assert kept == [("x-a", "1")]


def raw_get(url: str, path: str, header_lines: list[str]) -> dict:
    """GET with exactly these header lines (httpx would merge repeated ones)."""
    address = urlsplit(url)
    request = "\r\n".join([f"GET {path} HTTP/1.1", "Host: x", "Connection: close", *header_lines, "", ""])
    with socket.create_connection((address.hostname, address.port), timeout=20) as connection:
        connection.sendall(request.encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0], data
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return orjson.loads(body)


def test_a_second_authorization_header_with_a_credential_never_reaches_a_public_function(
    api: Api, tenant: str, token: dict[str, str]
) -> None:
    api.deployed(tenant, "echo", ECHO, token)
    admin_line = f"Authorization: Bearer {ADMIN_KEY}"
    token_line = f"authorization: {token['authorization']}"
    for lines in (["Authorization: Bearer harmless", admin_line], ["Authorization: Basic Zm9vOmJhcg==", token_line],
                  [admin_line, "authorization: Bearer harmless"], [f"X-Forwarded-Auth: {token['authorization']}"],
                  [f"Cookie: session={ADMIN_KEY}"]):
        seen = raw_get(api.url, f"/run/{tenant}/echo", lines)
        flat = orjson.dumps(seen).decode()
        assert ADMIN_KEY not in flat and token["authorization"].split()[1] not in flat, (lines, seen)
    # the function's own credentials still pass
    assert raw_get(api.url, f"/run/{tenant}/echo", ["Authorization: Bearer mine"])["authorization"] == "Bearer mine"


def test_a_token_function_gets_no_authorization_header_at_all(api: Api, tenant: str, token: dict[str, str]) -> None:
    api.deployed(tenant, "guarded", ECHO, token, auth="token")
    response = api.http.get(f"/run/{tenant}/guarded", headers=token)
    assert response.status_code == 200
    assert "authorization" not in response.json()


def test_several_authorization_headers_on_an_api_route_are_refused(api: Api, tenant: str,
                                                                   token: dict[str, str]) -> None:
    address = urlsplit(api.url)
    request = (f"GET /api/functions/{tenant} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               f"Authorization: Bearer nonsense\r\nauthorization: {token['authorization']}\r\n\r\n")
    with socket.create_connection((address.hostname, address.port), timeout=20) as connection:
        connection.sendall(request.encode())
        first_line = connection.recv(65536).split(b"\r\n")[0]
    assert b" 401 " in first_line

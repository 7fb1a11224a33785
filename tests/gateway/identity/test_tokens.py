"""Tenant tokens: what verifies and what does not."""

from __future__ import annotations

import base64
import time

import jwt
import orjson
import pytest

from gateway.errors import InvalidRequest, Unauthorized
from gateway.identity.tokens import issue, verify

SECRET = "server-secret-for-tests-" + "0123456789abcdef" * 4


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": "wasmtask", "ten": "acme", "scopes": ["run"], "iat": now, "exp": now + 60, **overrides}


def unsigned(payload: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def test_an_issued_token_verifies() -> None:
    token, issued = issue(SECRET, "acme", ["run", "logs"], tenant_id="uid-1", ttl_seconds=60, limits={"fuel": 1000})

    verified = verify(SECRET, token)

    assert verified == issued
    assert verified.scopes == {"run", "logs"}
    assert verified.limits is not None and verified.limits.fuel == 1000


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(unsigned(claims()), id="alg-none"),
        pytest.param(jwt.encode(claims(), "another-secret-entirely-0123456789", algorithm="HS256"), id="wrong-key"),
        pytest.param(jwt.encode(claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256"), id="expired"),
        pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, algorithm="HS256"),
                     id="no-exp"),
        pytest.param(jwt.encode(claims(), SECRET, algorithm="HS512"), id="other-algorithm"),
        pytest.param(jwt.encode(claims(iss="someone-else"), SECRET, algorithm="HS256"), id="wrong-issuer"),
        pytest.param(jwt.encode(claims(ten="../x"), SECRET, algorithm="HS256"), id="bad-tenant"),
        pytest.param("not.a.token", id="garbage"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        verify(SECRET, token)


def test_a_tampered_payload_is_refused() -> None:
    token, _ = issue(SECRET, "acme", ["run"], tenant_id="uid-1")
    header, _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(orjson.dumps(claims(ten="other"))).rstrip(b"=").decode()

    with pytest.raises(Unauthorized):
        verify(SECRET, f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("scopes", [[], ["root"], ["run", "admin"]])
def test_unknown_scopes_are_refused_at_issue(scopes: list[str]) -> None:
    with pytest.raises(InvalidRequest):
        issue(SECRET, "acme", scopes, tenant_id="uid-1")

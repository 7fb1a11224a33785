"""Revoked tokens: refused on every route of every serving process, within the change poll."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.gateway.support import Api, ProcessServer, error_code


def bearer(headers: dict[str, str]) -> str:
    return headers["authorization"].removeprefix("Bearer ")


def refused_within(http: httpx.Client, tenant: str, headers: dict[str, str], seconds: float) -> httpx.Response:
    """The first refusal of ``headers`` on the tenant's API within ``seconds`` (AssertionError if none)."""
    deadline = time.monotonic() + seconds
    while True:
        response = http.get(f"/api/functions/{tenant}", headers=headers)
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.01)


def test_a_tenant_revokes_its_own_token_and_every_route_refuses_it(api: Api, tenant: str) -> None:
    token, other = api.token(tenant), api.token(tenant)
    assert api.http.get(f"/api/functions/{tenant}", headers=token).status_code == 200  # verified, cached

    revoked = api.control.post("/api/tokens/revoke", json={"token": bearer(token)}, headers=token)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] is True and revoked.json()["tenant"] == tenant
    response = refused_within(api.http, tenant, token, 2.0)
    assert (response.status_code, error_code(response)) == (401, "token_revoked")
    for method, url in (("POST", f"/api/run/{tenant}"), ("GET", f"/api/logs/{tenant}"),
                        ("GET", f"/api/tenants/{tenant}")):
        assert error_code(api.http.request(method, url, headers=token, json={"code": "x"})) == "token_revoked"
    assert error_code(api.control.get(f"/api/tenants/{tenant}", headers=token)) == "token_revoked"
    assert api.http.get(f"/api/functions/{tenant}", headers=other).status_code == 200  # only that one
    again = api.control.post("/api/tokens/revoke", json={"token": bearer(token)}, headers=other)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_the_admin_revokes_a_token_by_its_id(api: Api, tenant: str) -> None:
    issued = api.control.post("/api/tokens", json={"tenant": tenant, "scopes": "deploy"}, headers=api.admin).json()
    headers = {"authorization": f"Bearer {issued['token']}"}
    assert api.http.get(f"/api/functions/{tenant}", headers=headers).status_code == 200

    deleted = api.control.delete(f"/api/tokens/{issued['jti']}", headers=api.admin)

    assert deleted.status_code == 200 and deleted.json()["jti"] == issued["jti"]
    assert error_code(refused_within(api.http, tenant, headers, 2.0)) == "token_revoked"


def test_a_tenant_cannot_revoke_another_tenants_tokens(api: Api) -> None:
    a, b = api.create_tenant(), api.create_tenant()
    a_token = api.token(a)
    b_issued = api.control.post("/api/tokens", json={"tenant": b, "scopes": "deploy"}, headers=api.admin).json()
    b_token = {"authorization": f"Bearer {b_issued['token']}"}

    for body in ({"jti": b_issued["jti"]}, {"token": b_issued["token"]}, {"jti": "no-such-token"}):
        response = api.control.post("/api/tokens/revoke", json=body, headers=a_token)
        assert (response.status_code, error_code(response)) == (403, "forbidden"), body
    assert api.http.get(f"/api/functions/{b}", headers=b_token).status_code == 200
    unknown = api.control.delete("/api/tokens/no-such-token", headers=api.admin)
    assert (unknown.status_code, error_code(unknown)) == (404, "not_found")


def test_revoking_needs_credentials_and_one_of_jti_or_token(api: Api, tenant: str) -> None:
    token = api.token(tenant)
    nobody = api.control.post("/api/tokens/revoke", json={"jti": "x"})
    both = api.control.post("/api/tokens/revoke", json={"jti": "x", "token": "y"}, headers=token)
    forged = api.control.post("/api/tokens/revoke", json={"token": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}, headers=token)

    assert (nobody.status_code, error_code(nobody)) == (401, "unauthorized")
    assert (both.status_code, error_code(both)) == (400, "invalid_request")
    assert forged.status_code == 401


def test_a_revoked_token_is_refused_by_another_gateway_process_within_the_change_poll(tmp_path: Path) -> None:
    """Two ``wasmtask serve`` processes on one registry: revoked on one's control plane, refused by the
    other, which learns of it from the registry's change feed (polled every 0.2 s)."""
    data_dir = tmp_path / "data"
    first = ProcessServer(data_dir).start()
    second = ProcessServer(data_dir).start()
    try:
        one, other = Api(first.url), Api(second.url)
        tenant = one.create_tenant()
        token = one.token(tenant)
        assert other.http.get(f"/api/functions/{tenant}", headers=token).status_code == 200  # cached there

        revoked = one.control.post("/api/tokens/revoke", json={"token": bearer(token)}, headers=one.admin)
        assert revoked.status_code == 200, revoked.text
        answered = time.monotonic()
        response = refused_within(other.http, tenant, token, 1.0)
        took = time.monotonic() - answered

        assert (response.status_code, error_code(response)) == (401, "token_revoked"), f"still accepted after {took}"
    finally:
        first.stop()
        second.stop()

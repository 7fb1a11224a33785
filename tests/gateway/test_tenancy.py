"""One tenant's token never reaches another tenant, on any route; bad tokens reach nothing."""

from __future__ import annotations

import base64
import time

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.identity.keys import load_signing_key
from tests.gateway.support import Api, ThreadServer, error_code

PRIVATE = "module.exports = function (cb) { cb(null, 'b-private'); };"
PUBLIC = "module.exports = function (cb) { cb(null, 'b-public'); };"
OVERWRITE = "module.exports = function (cb) { cb(null, 'written by A'); };"


@pytest.fixture
def two_tenants(api: Api) -> tuple[str, dict[str, str], str, dict[str, str]]:
    a, b = api.create_tenant(), api.create_tenant()
    a_token, b_token = api.token(a), api.token(b)
    api.deployed(b, "private", PRIVATE, b_token, auth="token")
    api.deployed(b, "public", PUBLIC, b_token)
    return a, a_token, b, b_token


def cross_tenant_requests(b: str) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/api/functions/{b}", {}),
        ("GET", f"/api/functions/{b}/private", {}),
        ("GET", f"/api/functions/{b}/private/versions", {}),
        ("PUT", f"/api/functions/{b}/private", {"json": {"code": OVERWRITE}}),
        ("PUT", f"/api/functions/{b}/new", {"json": {"code": OVERWRITE}}),
        ("DELETE", f"/api/functions/{b}/private", {}),
        ("DELETE", f"/api/functions/{b}/public", {}),
        ("POST", f"/api/run/{b}", {"content": PUBLIC, "headers": {"content-type": "text/javascript"}}),
        ("GET", f"/run/{b}/private", {}),
        ("GET", f"/api/logs/{b}", {}),
        ("GET", f"/api/tenants/{b}", {}),
    ]


def send(api: Api, method: str, url: str, options: dict, auth: dict[str, str]) -> httpx.Response:
    headers = {**options.get("headers", {}), **auth}
    rest = {k: v for k, v in options.items() if k != "headers"}
    return api.http.request(method, url, headers=headers, **rest)


def test_a_token_of_tenant_a_gets_forbidden_on_every_route_of_tenant_b(api: Api, two_tenants: tuple) -> None:
    _, a_token, b, b_token = two_tenants

    for method, url, options in cross_tenant_requests(b):
        response = send(api, method, url, options, a_token)
        assert (response.status_code, error_code(response)) == (403, "forbidden"), (method, url)

    # nothing of B's changed
    assert api.http.get(f"/run/{b}/private", headers=b_token).json() == "b-private"
    assert api.http.get(f"/run/{b}/public").json() == "b-public"
    listed = api.http.get(f"/api/functions/{b}", headers=b_token).json()["functions"]
    assert [f["name"] for f in listed] == ["private", "public"]
    assert all(len(api.http.get(f"/api/functions/{b}/{n}/versions", headers=b_token).json()["versions"]) == 1
               for n in ("private", "public"))


def test_routes_without_a_token_are_unauthorized(api: Api, two_tenants: tuple) -> None:
    _, _, b, _ = two_tenants

    for method, url, options in cross_tenant_requests(b):
        response = send(api, method, url, options, {})
        assert (response.status_code, error_code(response)) == (401, "unauthorized"), (method, url)
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_admin_routes_refuse_tenant_tokens(api: Api, two_tenants: tuple) -> None:
    a, a_token, b, _ = two_tenants

    requests = [
        ("POST", "/api/tenants", {"json": {"name": "sneaky"}}),
        ("GET", "/api/tenants", {}),
        ("POST", "/api/tokens", {"json": {"tenant": b, "scopes": "run"}}),
        ("POST", "/api/tokens", {"json": {"tenant": a, "scopes": "run"}}),
        ("DELETE", f"/api/tenants/{b}", {}),
    ]
    for method, url, options in requests:
        headers = {**options.get("headers", {}), **a_token}
        response = api.control.request(method, url, headers=headers, json=options.get("json"))
        assert (response.status_code, error_code(response)) == (403, "forbidden"), (method, url)
        # a serving listener has none of these routes: it names the control plane
        misdirected = send(api, method, url, options, api.admin)
        assert (misdirected.status_code, error_code(misdirected)) == (421, "control_plane_route"), (method, url)
        assert misdirected.json()["error"]["control_url"]


def test_scopes_limit_what_a_token_may_do(api: Api, tenant: str) -> None:
    deployer = api.token(tenant, "deploy")
    runner = api.token(tenant, "run")
    logger = api.token(tenant, "logs")
    api.deployed(tenant, "f", PUBLIC, deployer)

    ad_hoc = {"content": PUBLIC, "headers": {"content-type": "text/javascript"}}
    assert send(api, "POST", f"/api/run/{tenant}", ad_hoc, deployer).status_code == 403
    assert send(api, "POST", f"/api/run/{tenant}", ad_hoc, runner).status_code == 200
    assert send(api, "PUT", f"/api/functions/{tenant}/g", {"json": {"code": PUBLIC}}, runner).status_code == 403
    assert send(api, "GET", f"/api/functions/{tenant}", {}, logger).status_code == 403
    assert send(api, "GET", f"/api/tenants/{tenant}", {}, logger).status_code == 200


def part(data: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def test_forged_and_expired_tokens_are_refused(api: Api, server: ThreadServer, tenant: str) -> None:
    api.deployed(tenant, "private", PRIVATE, api.token(tenant), auth="token")
    now = int(time.time())
    claims = {"iss": "wasmtask", "ten": tenant, "scopes": ["run", "deploy", "logs"], "iat": now, "exp": now + 600,
              "jti": "forged-in-the-test"}
    signing_key = load_signing_key(server.settings)
    bad_tokens = {
        "alg none": (f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.", "unauthorized"),
        "wrong key": (jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA"), "unauthorized"),
        "expired": (jwt.encode({**claims, "iat": now - 100, "exp": now - 10}, signing_key, algorithm="EdDSA"),
                    "unauthorized"),
        "no jti": (jwt.encode({k: v for k, v in claims.items() if k != "jti"}, signing_key, algorithm="EdDSA"),
                   "unauthorized"),
        "HS256 of an earlier wasmtask": (jwt.encode(claims, "x" * 64, algorithm="HS256"), "token_reissue_required"),
        "garbage": ("garbage", "unauthorized"),
    }

    for label, (token, code) in bad_tokens.items():
        auth = {"authorization": f"Bearer {token}"}
        for method, url in (("GET", f"/api/functions/{tenant}"), ("GET", f"/run/{tenant}/private"),
                            ("GET", f"/api/logs/{tenant}"), ("PUT", f"/api/functions/{tenant}/private")):
            response = api.http.request(method, url, headers=auth, json={"code": PUBLIC})
            assert (response.status_code, error_code(response)) == (401, code), (label, method, url)

    good = jwt.encode(claims, signing_key, algorithm="EdDSA")
    assert api.http.get(f"/run/{tenant}/private", headers={"authorization": f"Bearer {good}"}).json() == "b-private"


def test_token_limits_cap_calls(api: Api, tenant: str) -> None:
    capped = api.token(tenant, "run,deploy", limits={"fuel": 5_000_000})
    burn = "module.exports = function (cb) { for (;;) {} };"

    over = api.deploy(tenant, "f", PUBLIC, capped, limits={"fuel": 50_000_000})
    response = api.http.post(f"/api/run/{tenant}", json={"code": burn}, headers=capped)

    assert error_code(over) == "invalid_request"
    assert (response.status_code, error_code(response)) == (508, "cpu_limit")


def test_an_unknown_tenant_is_not_found_for_the_admin(api: Api) -> None:
    response = api.http.get("/api/functions/nobody-here", headers=api.admin)

    assert (response.status_code, error_code(response)) == (404, "not_found")


def test_deleting_a_tenant_removes_its_functions(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "f", PUBLIC, token)

    api.delete_tenant(tenant)

    assert error_code(api.http.get(f"/run/{tenant}/f")) == "not_found"
    assert error_code(api.http.get(f"/api/functions/{tenant}", headers=token)) == "not_found"


def test_a_tenant_created_after_a_miss_is_found(api: Api) -> None:
    name = "late-tenant-" + str(int(time.time() * 1000))
    assert error_code(api.http.get(f"/run/{name}/f")) == "not_found"

    api.create_tenant(name)

    assert api.http.get(f"/api/tenants/{name}", headers=api.admin).status_code == 200


def test_a_token_does_not_outlive_its_tenant(api: Api) -> None:
    name = api.create_tenant()
    old_token = api.token(name)
    api.deployed(name, "f", PUBLIC, old_token)
    api.delete_tenant(name)

    api.create_tenant(name)  # a new tenant with the old name

    for method, url in (("GET", f"/api/functions/{name}"), ("PUT", f"/api/functions/{name}/g"),
                        ("POST", f"/api/run/{name}"), ("GET", f"/api/logs/{name}"), ("GET", f"/api/tenants/{name}")):
        response = api.http.request(method, url, headers=old_token, json={"code": PUBLIC})
        assert (response.status_code, error_code(response)) == (401, "unauthorized"), (method, url)
    assert api.http.get(f"/api/functions/{name}", headers=api.token(name)).status_code == 200


def test_a_token_from_before_tenant_ids_is_held_to_its_issue_time(api: Api, server: ThreadServer) -> None:
    name = api.create_tenant()
    signing_key = load_signing_key(server.settings)
    now = int(time.time())
    legacy = {"iss": "wasmtask", "ten": name, "scopes": ["deploy"], "exp": now + 600, "jti": "j1"}  # no "tid"
    older = jwt.encode({**legacy, "iat": now - 3600}, signing_key, algorithm="EdDSA")
    fresh = jwt.encode({**legacy, "iat": now}, signing_key, algorithm="EdDSA")

    assert api.http.get(f"/api/functions/{name}", headers={"authorization": f"Bearer {older}"}).status_code == 401
    assert api.http.get(f"/api/functions/{name}", headers={"authorization": f"Bearer {fresh}"}).status_code == 200

"""Tenants and tokens.

``control_routes``: the control plane's (gateway/control_plane.py), where the signing
key is: the admin key creates, lists and deletes tenants and issues tokens; the
admin, or a tenant for its own tokens, revokes them (a token narrowed to one function
(``"function"`` when issued) revokes only itself, and reads no tenant).

``routes``: a serving listener's. It reads a tenant (``GET /api/tenants/{tenant}``:
no key needed) and answers every other tenant or token route with
``control_plane_route`` (421), naming the control plane's URL. It does not forward:
the admin key would then pass through the process that runs guest code.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.deploy_spec import parse_limits
from gateway.errors import ControlPlaneRoute, Forbidden, InvalidRequest, NotFound
from gateway.http import JSONResponse, parse_json_object, read_body
from gateway.identity.auth import Principal, authorize, authorize_admin, check_tenant
from gateway.identity.tokens import DEFAULT_TTL_SECONDS, SCOPES
from gateway.names import check_name
from gateway.registry import IssuedToken, Tenant

if TYPE_CHECKING:
    from gateway.control_plane import ControlPlane
    from gateway.service import Gateway

MAX_ADMIN_BODY_BYTES = 64 * 1024
TENANT_FIELDS = frozenset({"name", "max_limits", "rate_limit", "concurrency"})
TOKEN_FIELDS = frozenset({"tenant", "scopes", "expires_in", "limits", "function"})
REVOKE_FIELDS = frozenset({"jti", "token"})
DEFAULT_CONTROL_URL = "http://127.0.0.1:8081"


def _control(request: Request) -> ControlPlane:
    control: ControlPlane = request.app.state.control
    return control


async def _admin_body(request: Request, fields: frozenset[str]) -> tuple[ControlPlane, dict[str, Any]]:
    control = _control(request)
    authorize_admin(await control.principal(request.headers))
    return control, await _body(request, fields)


async def _body(request: Request, fields: frozenset[str]) -> dict[str, Any]:
    data = parse_json_object(await read_body(request, MAX_ADMIN_BODY_BYTES))
    unknown = set(data) - fields
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    return data


def tenant_settings(control: ControlPlane, data: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``Registry.create_tenant`` from a request, defaults from the settings."""
    defaults = control.settings.tenant
    rate = data.get("rate_limit") or {}
    if not isinstance(rate, dict) or set(rate) - {"per_second", "burst"}:
        raise InvalidRequest("rate_limit must be an object with per_second and burst")
    per_second = rate.get("per_second", defaults.rate_per_second)
    burst = rate.get("burst", defaults.rate_burst)
    concurrency = data.get("concurrency", control.settings.tenant_concurrency)
    if not isinstance(per_second, (int, float)) or isinstance(per_second, bool) or not per_second > 0:
        raise InvalidRequest("rate_limit.per_second must be a number > 0")
    for label, value in (("rate_limit.burst", burst), ("concurrency", concurrency)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequest(f"{label} must be an integer >= 1")
    limits = parse_limits(data.get("max_limits") or {}, defaults.max_limits, "max_limits")
    return {"max_limits": limits, "rate_per_second": float(per_second), "rate_burst": burst, "concurrency": concurrency}


async def create_tenant(request: Request) -> Response:
    control, data = await _admin_body(request, TENANT_FIELDS)
    name = check_name(data.get("name", ""), "tenant name")
    settings = tenant_settings(control, data)
    tenant: Tenant = await anyio.to_thread.run_sync(lambda: control.registry.create_tenant(name, **settings))
    return JSONResponse(tenant.to_dict(), status_code=201)


async def list_tenants(request: Request) -> Response:
    control = _control(request)
    authorize_admin(await control.principal(request.headers))
    tenants = await anyio.to_thread.run_sync(control.registry.list_tenants)
    return JSONResponse({"tenants": [tenant.to_dict() for tenant in tenants]})


async def get_tenant(request: Request) -> Response:
    """The admin, or a token of this tenant with any scope."""
    control = _control(request)
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = authorize(await control.principal(request.headers), name, "any")
    tenant = await anyio.to_thread.run_sync(control.registry.get_tenant, name)
    check_tenant(principal, tenant)
    return JSONResponse(tenant.to_dict())


async def delete_tenant(request: Request) -> Response:
    """Every worker forgets the tenant (its cache, its live logs) from the change feed."""
    control = _control(request)
    authorize_admin(await control.principal(request.headers))
    name = check_name(request.path_params["tenant"], "tenant name")
    await anyio.to_thread.run_sync(control.registry.delete_tenant, name)
    return JSONResponse({"deleted": True, "name": name})


async def issue_token(request: Request) -> Response:
    control, data = await _admin_body(request, TOKEN_FIELDS)
    tenant = check_name(data.get("tenant", ""), "tenant name")
    tenant_id = (await anyio.to_thread.run_sync(control.registry.get_tenant, tenant)).uid  # 404 for an unknown one
    function = data.get("function")  # a token for that one function (it need not be deployed yet)
    if function is not None:
        function = check_name(function, "function name")
    scopes = data.get("scopes", list(SCOPES))
    if isinstance(scopes, str):
        scopes = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise InvalidRequest("scopes must be a list of strings (or a comma-separated string)")
    token, claims = await anyio.to_thread.run_sync(lambda: control.issue(
        tenant, scopes, tenant_id=tenant_id, ttl_seconds=data.get("expires_in", DEFAULT_TTL_SECONDS),
        limits=data.get("limits"), function=function))
    return JSONResponse(
        {"token": token, "jti": claims.token_id, "tenant": tenant, "scopes": sorted(claims.scopes),
         "expires_at": claims.expires_at, **({"function": function} if function is not None else {})},
        status_code=201,
    )


async def revoke_token(request: Request) -> Response:
    """``{"jti": ...}`` or ``{"token": ...}``: the admin revokes any token, a tenant token
    its own tenant's (a token may revoke itself). Revoking twice is no error."""
    control = _control(request)
    principal = await control.principal(request.headers)
    data = await _body(request, REVOKE_FIELDS)
    if set(data) != {"jti"} and set(data) != {"token"}:
        raise InvalidRequest("send either jti (the token's id) or token (the token itself)")
    if "token" in data:
        if not isinstance(data["token"], str):
            raise InvalidRequest("token must be a string")
        jti = control.tokens.verify_signature(data["token"], verify_exp=False).token_id
    else:
        jti = data["jti"]
        if not isinstance(jti, str) or not jti:
            raise InvalidRequest("jti must be a non-empty string")
    return JSONResponse(await _revoke(control, principal, jti))


async def delete_token(request: Request) -> Response:
    """``DELETE /api/tokens/{jti}``: the same as revoking by jti."""
    control = _control(request)
    principal = await control.principal(request.headers)
    return JSONResponse(await _revoke(control, principal, request.path_params["jti"]))


async def _revoke(control: ControlPlane, principal: Principal | None, jti: str) -> dict[str, Any]:
    if principal is None:
        authorize_admin(principal)  # Unauthorized, with the challenge
    assert principal is not None
    try:
        issued: IssuedToken = await anyio.to_thread.run_sync(control.registry.issued_token, jti)
    except NotFound:
        if principal.admin:
            raise
        raise Forbidden("a tenant token may revoke only its own tenant's tokens") from None
    if not principal.admin and (principal.tenant != issued.tenant or principal.tenant_id != issued.tenant_uid):
        raise Forbidden("a tenant token may revoke only its own tenant's tokens")
    if principal.function is not None and jti != principal.token_id:
        raise Forbidden(f"a token for function {principal.function!r} may revoke only itself")
    revoked = await anyio.to_thread.run_sync(control.registry.revoke_token, jti)
    return {"revoked": True, **revoked.to_dict(), "expired": revoked.expires_at <= time.time()}


control_routes = [
    Route("/api/tenants", create_tenant, methods=["POST"]),
    Route("/api/tenants", list_tenants, methods=["GET"]),
    Route("/api/tenants/{tenant}", get_tenant, methods=["GET"]),
    Route("/api/tenants/{tenant}", delete_tenant, methods=["DELETE"]),
    Route("/api/tokens", issue_token, methods=["POST"]),
    Route("/api/tokens/revoke", revoke_token, methods=["POST"]),
    Route("/api/tokens/{jti}", delete_token, methods=["DELETE"]),
]


# a serving listener's


async def serving_get_tenant(request: Request) -> Response:
    """The admin, or a token of this tenant with any scope (reading needs no signing key)."""
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = gateway.principal(request.headers)
    return JSONResponse((await gateway.tenant(name, authorize(principal, name, "any"))).to_dict())


async def on_control_plane(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    url = gateway.settings.control_url or DEFAULT_CONTROL_URL
    raise ControlPlaneRoute(
        f"{request.method} {request.url.path} is on the control plane ({url}), not on a listener that runs "
        f"functions: send it there (the CLI: WASMTASK_CONTROL_URL or --control-url)",
        control_url=url)


routes = [
    Route("/api/tenants/{tenant}", serving_get_tenant, methods=["GET"]),
    Route("/api/tenants", on_control_plane, methods=["GET", "POST"]),
    Route("/api/tenants/{tenant}", on_control_plane, methods=["DELETE"]),
    Route("/api/tokens", on_control_plane, methods=["POST"]),
    Route("/api/tokens/revoke", on_control_plane, methods=["POST"]),
    Route("/api/tokens/{jti}", on_control_plane, methods=["DELETE"]),
]

"""Tenants and tokens: the admin key creates tenants and issues their tokens."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.deploy_spec import parse_limits
from gateway.errors import InvalidRequest
from gateway.http import JSONResponse, parse_json_object, read_body
from gateway.identity.auth import authorize, authorize_admin
from gateway.identity.tokens import DEFAULT_TTL_SECONDS, SCOPES, issue
from gateway.names import check_name
from gateway.registry import Tenant
from gateway.service import Gateway

MAX_ADMIN_BODY_BYTES = 64 * 1024
TENANT_FIELDS = frozenset({"name", "max_limits", "rate_limit", "concurrency"})
TOKEN_FIELDS = frozenset({"tenant", "scopes", "expires_in", "limits"})


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def _admin_body(request: Request, fields: frozenset[str]) -> tuple[Gateway, dict[str, Any]]:
    gateway = _gateway(request)
    authorize_admin(gateway.principal(request.headers))
    data = parse_json_object(await read_body(request, MAX_ADMIN_BODY_BYTES))
    unknown = set(data) - fields
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    return gateway, data


def tenant_settings(gateway: Gateway, data: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``Registry.create_tenant`` from a request, defaults from the settings."""
    defaults = gateway.settings.tenant
    rate = data.get("rate_limit") or {}
    if not isinstance(rate, dict) or set(rate) - {"per_second", "burst"}:
        raise InvalidRequest("rate_limit must be an object with per_second and burst")
    per_second = rate.get("per_second", defaults.rate_per_second)
    burst = rate.get("burst", defaults.rate_burst)
    concurrency = data.get("concurrency", gateway.settings.tenant_concurrency)
    if not isinstance(per_second, (int, float)) or isinstance(per_second, bool) or not per_second > 0:
        raise InvalidRequest("rate_limit.per_second must be a number > 0")
    for label, value in (("rate_limit.burst", burst), ("concurrency", concurrency)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequest(f"{label} must be an integer >= 1")
    limits = parse_limits(data.get("max_limits") or {}, defaults.max_limits, "max_limits")
    return {"max_limits": limits, "rate_per_second": float(per_second), "rate_burst": burst, "concurrency": concurrency}


async def create_tenant(request: Request) -> Response:
    gateway, data = await _admin_body(request, TENANT_FIELDS)
    name = check_name(data.get("name", ""), "tenant name")
    settings = tenant_settings(gateway, data)
    tenant: Tenant = await anyio.to_thread.run_sync(lambda: gateway.registry.create_tenant(name, **settings))
    gateway.forget_tenant(name)
    return JSONResponse(tenant.to_dict(), status_code=201)


async def list_tenants(request: Request) -> Response:
    gateway = _gateway(request)
    authorize_admin(gateway.principal(request.headers))
    tenants = await anyio.to_thread.run_sync(gateway.registry.list_tenants)
    return JSONResponse({"tenants": [tenant.to_dict() for tenant in tenants]})


async def get_tenant(request: Request) -> Response:
    """The admin, or a token of this tenant with any scope."""
    gateway = _gateway(request)
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = gateway.principal(request.headers)
    return JSONResponse((await gateway.tenant(name, authorize(principal, name, "any"))).to_dict())


async def delete_tenant(request: Request) -> Response:
    gateway = _gateway(request)
    authorize_admin(gateway.principal(request.headers))
    name = check_name(request.path_params["tenant"], "tenant name")
    await anyio.to_thread.run_sync(gateway.registry.delete_tenant, name)
    gateway.forget_tenant(name)
    gateway.logs.forget(name)
    return JSONResponse({"deleted": True, "name": name})


async def issue_token(request: Request) -> Response:
    gateway, data = await _admin_body(request, TOKEN_FIELDS)
    tenant = check_name(data.get("tenant", ""), "tenant name")
    tenant_id = (await gateway.tenant(tenant)).uid  # 404 for an unknown tenant
    scopes = data.get("scopes", list(SCOPES))
    if isinstance(scopes, str):
        scopes = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise InvalidRequest("scopes must be a list of strings (or a comma-separated string)")
    token, claims = issue(
        gateway.keys.jwt_secret,
        tenant,
        scopes,
        tenant_id=tenant_id,
        ttl_seconds=data.get("expires_in", DEFAULT_TTL_SECONDS),
        limits=data.get("limits"),
    )
    return JSONResponse(
        {"token": token, "tenant": tenant, "scopes": sorted(claims.scopes), "expires_at": claims.expires_at},
        status_code=201,
    )


routes = [
    Route("/api/tenants", create_tenant, methods=["POST"]),
    Route("/api/tenants", list_tenants, methods=["GET"]),
    Route("/api/tenants/{tenant}", get_tenant, methods=["GET"]),
    Route("/api/tenants/{tenant}", delete_tenant, methods=["DELETE"]),
    Route("/api/tokens", issue_token, methods=["POST"]),
]

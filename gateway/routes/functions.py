"""Named functions: deploy (PUT), read, list, versions, delete. Every route needs the ``deploy`` scope."""

from __future__ import annotations

import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.deploy_spec import allowed_hosts, auth_mode, read_code_request, string_map
from gateway.errors import MethodNotAllowed, NotFound
from gateway.http import JSONResponse, media_type, read_body
from gateway.identity.auth import authorize
from gateway.names import check_name
from gateway.registry import DeploySpec, Tenant
from gateway.service import API_BUCKET, Gateway
from isolates import IsolateError

DEPLOY_FIELDS = frozenset({"limits", "secrets", "allowed_hosts", "env", "auth"})


async def _tenant_for(request: Request, scope: str = "deploy") -> tuple[Gateway, Tenant]:
    """Check the name, then the token (before revealing whether the tenant exists), then the tenant."""
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = request.state.principal = authorize(gateway.principal(request.headers), name, scope)
    return gateway, await gateway.tenant(name, principal)


async def deploy(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    principal = request.state.principal
    decision = await gateway.take_rate(tenant, API_BUCKET)
    body = await read_body(request, gateway.settings.max_code_bytes)
    code = read_code_request(media_type(request), body, DEPLOY_FIELDS)
    fields = code.fields
    query = request.query_params
    limits = gateway.requested_limits(fields.get("limits"), gateway.ceiling(tenant, principal))
    spec = DeploySpec(
        language=code.language,
        code=code.code,
        limits=limits,
        allowed_hosts=allowed_hosts(fields.get("allowed_hosts")),
        auth=auth_mode(fields.get("auth", query.get("auth"))),
        env=string_map(fields.get("env"), "env"),
        secrets=string_map(fields["secrets"], "secrets") if "secrets" in fields else None,
    )
    started = time.perf_counter()
    try:
        program = await gateway.prepare(tenant, spec.language, spec.code, spec.limits, snapshot=True)
    except IsolateError as error:
        gateway.metrics.deploys.labels(error.code).inc()
        gateway.logs.publish(tenant.name, _deploy_event(tenant, name, "", "error", f"deploy failed: {error.code}: "
                                                        f"{error.message}", code=error.code))
        raise
    prepare_ms = round((time.perf_counter() - started) * 1000, 3)
    deployed = await gateway.programs.commit(
        lambda: gateway.registry.deploy(tenant.name, name, spec), program, (tenant.name, name)
    )
    gateway.metrics.deploys.labels("ok").inc()
    version = deployed.version
    details = program.details
    init_logs: list[dict[str, object]] = details.get("init_logs", [])  # type: ignore[assignment]  # a JSON list
    for record in init_logs:  # console output of the top-level code
        gateway.logs.publish(tenant.name, {**record, "tenant": tenant.name, "function": name,
                                           "version": version.version_id})
    gateway.logs.publish(tenant.name, _deploy_event(tenant, name, version.version_id, "info", "deployed",
                                                    code="ok", prepare_ms=prepare_ms))
    deploy_info: dict[str, object] = {"prepare_ms": prepare_ms}
    for key in ("init_fuel", "snapshot_bytes"):
        if key in details:
            deploy_info[key] = details[key]
    return JSONResponse({**version.metadata(), "deploy": deploy_info}, headers=decision.headers())


def _deploy_event(tenant: Tenant, name: str, version: str, level: str, msg: str, **fields: object) -> dict[str, object]:
    return {"time": time.time(), "level": level, "msg": msg, "tenant": tenant.name, "function": name,
            "version": version, "event": "deploy", **fields}


async def get_function(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    version = await anyio.to_thread.run_sync(gateway.registry.current, tenant.name, name)
    return JSONResponse(version.metadata())


async def list_versions(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    versions = await anyio.to_thread.run_sync(gateway.registry.list_versions, tenant.name, name)
    return JSONResponse({"tenant": tenant.name, "name": name, "versions": versions})


async def list_functions(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    functions = await anyio.to_thread.run_sync(gateway.registry.list_functions, tenant.name)
    return JSONResponse({"tenant": tenant.name, "functions": functions})


async def delete_function(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    await gateway.programs.delete((tenant.name, name), lambda: gateway.registry.delete_function(tenant.name, name))
    gateway.logs.publish(tenant.name, _deploy_event(tenant, name, "", "info", "deleted", code="ok"))
    return JSONResponse({"deleted": True, "tenant": tenant.name, "name": name})


async def bad_function_path(request: Request) -> Response:
    """``/api/functions/{tenant}/<anything else>``: a name with '/', '..' or the like, or a wrong method."""
    await _tenant_for(request)
    segments = request.path_params["rest"].split("/")
    check_name(segments[0], "function name")
    if segments[1:] in ([], ["versions"]):
        raise MethodNotAllowed(f"{request.method} is not allowed here")
    raise NotFound("no such route")


routes = [
    Route("/api/functions/{tenant}", list_functions, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}", get_function, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}", deploy, methods=["PUT"]),
    Route("/api/functions/{tenant}/{name}", delete_function, methods=["DELETE"]),
    Route("/api/functions/{tenant}/{name}/versions", list_versions, methods=["GET"]),
    Route("/api/functions/{tenant}/{rest:path}", bad_function_path,
          methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
]

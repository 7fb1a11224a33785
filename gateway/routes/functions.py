"""Named functions: deploy (PUT), read, list, versions, rollback, secrets, delete. Every route needs the
``deploy`` scope; a token narrowed to one function acts on that function only and lists only it.

A rollback and a change of secrets are deploys: each makes the function's next
version (gateway/registry/store.py), committed with its change-feed entry in one
transaction, after its program was prepared, so a failure leaves the current
version serving.
"""

from __future__ import annotations

import base64
import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.cron.expression import deploy_schedule
from gateway.deploy_spec import (
    MAX_VALUE_BYTES,
    SECRET_NAME,
    allowed_hosts,
    auth_mode,
    read_code_request,
    source_filename,
    string_map,
)
from gateway.diagnostics import default_filename
from gateway.errors import Conflict, InvalidRequest, MethodNotAllowed, NotFound
from gateway.http import JSONResponse, media_type, parse_json_object, read_body
from gateway.identity.auth import authorize
from gateway.names import check_name
from gateway.registry import DeploySpec, FunctionVersion, Tenant
from gateway.service import API_BUCKET, Gateway
from isolates import IsolateError

DEPLOY_FIELDS = frozenset({"limits", "secrets", "allowed_hosts", "env", "auth", "filename", "schedule"})
MAX_SMALL_BODY_BYTES = 16 * 1024  # a rollback's or a secret's JSON body
SECRET_CHANGE_ATTEMPTS = 3  # a secret change retries when a deploy lands between reading and writing


async def _tenant_for(request: Request, scope: str = "deploy", *, narrowed: bool = False) -> tuple[Gateway, Tenant]:
    """Check the names, then the token (before revealing whether the tenant exists) for the tenant and
    the function the route acts on (a token narrowed to another function is refused), then the tenant."""
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    function = _function_of(request)
    principal = request.state.principal = authorize(gateway.principal(request.headers), name, scope,
                                                    function=function, narrowed=narrowed)
    return gateway, await gateway.tenant(name, principal)


def _function_of(request: Request) -> str | None:
    """The function the route acts on: ``{name}``, or the first segment of ``{rest}``."""
    params = request.path_params
    if "name" in params:
        return check_name(params["name"], "function name")
    if "rest" in params:
        return check_name(params["rest"].split("/")[0], "function name")
    return None


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
        allowed_hosts=allowed_hosts(fields.get("allowed_hosts"), gateway.settings.platform_stores),
        auth=auth_mode(fields.get("auth", query.get("auth"))),
        env=string_map(fields.get("env"), "env"),
        secrets=string_map(fields["secrets"], "secrets") if "secrets" in fields else None,
        filename=source_filename(fields.get("filename")),
    )
    schedule = deploy_schedule(fields.get("schedule"))  # cron (gateway/cron): checked before anything is built
    show_source_errors(request, spec.language, spec.filename)
    started = time.perf_counter()
    try:
        program = await gateway.prepare(tenant, spec.language, spec.code, spec.limits, snapshot=True,
                                        filename=spec.filename)
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
    # the schedule belongs to the function, not the version: given, it is set (or removed); omitted, kept
    scheduled = await anyio.to_thread.run_sync(
        (lambda: gateway.schedules.set(tenant.name, name, schedule)) if "schedule" in fields
        else (lambda: gateway.schedules.get(tenant.name, name)))
    return JSONResponse({**version.metadata(), "deploy": deploy_info,
                         "schedule": None if scheduled is None else scheduled.to_dict()}, headers=decision.headers())


def show_source_errors(request: Request, language: str, filename: str) -> None:
    """A failed deploy's error carries the guest's error name, stack and location in the
    user's file (gateway/app.py): the deployer's own code, never shown to the public."""
    request.state.show_guest_details = True
    request.state.source_filename = filename or default_filename(language)


async def rollback(request: Request) -> Response:
    """``POST .../rollback`` ``{"version": "v2"}`` (or none: the version before the current one)."""
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    decision = await gateway.take_rate(tenant, API_BUCKET)
    body = await read_body(request, MAX_SMALL_BODY_BYTES)
    data = parse_json_object(body) if body.strip() else {}
    unknown = set(data) - {"version"}
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    number = version_number(data.get("version"))
    target = await anyio.to_thread.run_sync(gateway.registry.version, tenant.name, name, number)
    current = await anyio.to_thread.run_sync(gateway.registry.current, tenant.name, name)
    if target.serial == current.serial:
        raise InvalidRequest(f"{target.version_id} is the current version of {name!r} already")
    show_source_errors(request, target.language, target.filename)
    program = await gateway.prepare(tenant, target.language, target.code, target.limits, snapshot=True,
                                    filename=target.filename)
    deployed = await gateway.programs.commit(
        lambda: gateway.registry.rollback(tenant.name, name, target.serial), program, (tenant.name, name)
    )
    gateway.metrics.deploys.labels("ok").inc()
    version = deployed.version
    gateway.logs.publish(tenant.name, _deploy_event(tenant, name, version.version_id, "info",
                                                    f"rolled back to {target.version_id}", code="ok"))
    return JSONResponse({**version.metadata(), "rolled_back_to": target.version_id,
                         "rolled_back_from": current.version_id}, headers=decision.headers())


def version_number(value: object) -> int | None:
    """``"v2"``, ``"2"`` or ``2`` -> 2; None stays None."""
    if value is None:
        return None
    text = str(value).strip().lower().removeprefix("v") if isinstance(value, (str, int)) else ""
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise InvalidRequest(f"version must look like v2 (or 2), not {value!r}")
    return int(text)


async def list_secrets(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    version = await anyio.to_thread.run_sync(gateway.registry.current, tenant.name, name)
    return JSONResponse({"tenant": tenant.name, "name": name, "version": version.version_id,
                         "secrets": list(version.secret_names)})


async def put_secret(request: Request) -> Response:
    """``PUT .../secrets/{secret}`` ``{"value": "..."}``: the function's next version has it."""
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    secret = _secret_name(request)
    data = parse_json_object(await read_body(request, MAX_SMALL_BODY_BYTES))
    value = data.get("value")
    if set(data) != {"value"} or not isinstance(value, str):
        raise InvalidRequest('the body must be {"value": "<the secret>"}')
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise InvalidRequest(f"the value is over {MAX_VALUE_BYTES} bytes")
    return await _change_secrets(request, gateway, tenant, name, put={secret: value})


async def delete_secret(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    return await _change_secrets(request, gateway, tenant, name, delete=(_secret_name(request),))


def _secret_name(request: Request) -> str:
    secret = str(request.path_params["secret"])
    if not SECRET_NAME.fullmatch(secret):
        raise InvalidRequest(f"invalid secret name {secret[:80]!r} (letters, digits, '_'; not starting with a digit)")
    return secret


async def _change_secrets(request: Request, gateway: Gateway, tenant: Tenant, name: str, *,
                          put: dict[str, str] | None = None, delete: tuple[str, ...] = ()) -> Response:
    """The function's next version: the current one's code (its program, as prepared already)
    with other secrets. Retries when a deploy from elsewhere lands in between."""
    decision = await gateway.take_rate(tenant, API_BUCKET)
    key = (tenant.name, name)
    for attempt in range(SECRET_CHANGE_ATTEMPTS):
        deployed = await gateway.programs.get(*key)
        base = deployed.version

        def write(base: FunctionVersion = base) -> FunctionVersion:
            return gateway.registry.change_secrets(tenant.name, name, base.serial, put=put, delete=delete)

        try:
            committed = await gateway.programs.commit(write, deployed.program, key, base=base)
            break
        except Conflict:
            if attempt + 1 == SECRET_CHANGE_ATTEMPTS:
                raise
            await gateway.programs.invalidate(key)
    version = committed.version
    gateway.logs.publish(tenant.name, _deploy_event(tenant, name, version.version_id, "info", version.note,
                                                    code="ok"))
    return JSONResponse(version.metadata(), headers=decision.headers())


def _deploy_event(tenant: Tenant, name: str, version: str, level: str, msg: str, **fields: object) -> dict[str, object]:
    return {"time": time.time(), "level": level, "msg": msg, "tenant": tenant.name, "function": name,
            "version": version, "event": "deploy", **fields}


async def get_function(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    version = await anyio.to_thread.run_sync(gateway.registry.current, tenant.name, name)
    scheduled = await anyio.to_thread.run_sync(gateway.schedules.get, tenant.name, name)
    return JSONResponse({**version.metadata(), "schedule": None if scheduled is None else scheduled.to_dict()})


async def list_versions(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    versions = await anyio.to_thread.run_sync(gateway.registry.list_versions, tenant.name, name)
    return JSONResponse({"tenant": tenant.name, "name": name, "versions": versions})


async def get_version(request: Request) -> Response:
    """``GET .../versions/{version}`` (``v2``, ``2`` or ``current``): that version's metadata and its code as
    stored, base64 (the deployer's own code: ``wasmtask bench --tenant --name`` measures it)."""
    gateway, tenant = await _tenant_for(request)
    name = check_name(request.path_params["name"], "function name")
    wanted = request.path_params["version"]
    if wanted == "current":
        version = await anyio.to_thread.run_sync(gateway.registry.current, tenant.name, name)
    else:
        number = version_number(wanted)
        version = await anyio.to_thread.run_sync(gateway.registry.version, tenant.name, name, number)
    return JSONResponse({**version.metadata(), "code_base64": base64.b64encode(version.code).decode("ascii")})


async def list_functions(request: Request) -> Response:
    gateway, tenant = await _tenant_for(request, narrowed=True)
    functions = await anyio.to_thread.run_sync(gateway.registry.list_functions, tenant.name)
    only = request.state.principal.function  # a narrowed token lists its own function only
    if only is not None:
        functions = [function for function in functions if function["name"] == only]
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
    known = segments[1:] in ([], ["versions"], ["rollback"], ["secrets"])
    if known or (len(segments) == 3 and segments[1] in ("secrets", "versions")):
        raise MethodNotAllowed(f"{request.method} is not allowed here")
    raise NotFound("no such route")


routes = [
    Route("/api/functions/{tenant}", list_functions, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}", get_function, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}", deploy, methods=["PUT"]),
    Route("/api/functions/{tenant}/{name}", delete_function, methods=["DELETE"]),
    Route("/api/functions/{tenant}/{name}/versions", list_versions, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}/versions/{version}", get_version, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}/rollback", rollback, methods=["POST"]),
    Route("/api/functions/{tenant}/{name}/secrets", list_secrets, methods=["GET"]),
    Route("/api/functions/{tenant}/{name}/secrets/{secret}", put_secret, methods=["PUT"]),
    Route("/api/functions/{tenant}/{name}/secrets/{secret}", delete_secret, methods=["DELETE"]),
    Route("/api/functions/{tenant}/{rest:path}", bad_function_path,
          methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
]

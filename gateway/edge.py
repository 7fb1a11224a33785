"""Edge endpoints: any method on ``/run/{tenant}/{name}[/{path}]`` invokes the deployed function.

Public by default (like Workers); a function deployed with ``"auth": "token"``
needs a token of its tenant with the ``run`` scope (like webtask), and that
Authorization header is not passed on to the function. Nor is, on any
function, a header carrying the admin key or a platform token, in whatever
shape (gateway/credentials.py): the gateway's credentials never reach guest
code. Calls take from the tenant's edge rate bucket, never from the one its
deploys use. Request bodies over
``max_body_bytes`` get 413; responses over the function's ``output_bytes``
get ``output_limit``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import call_depth, call_logs
from gateway.auth import authorize, check_tenant
from gateway.http import read_body
from gateway.invocation import CallTarget, call, guest_request_from, result_response
from gateway.names import check_name
from gateway.service import EDGE_BUCKET, Gateway

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def invoke_function(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    tenant_name = check_name(request.path_params["tenant"], "tenant name")
    name = check_name(request.path_params["name"], "function name")
    cdn_loop = call_depth.check(request.headers)
    tenant = await gateway.tenant(tenant_name)
    # before the lookup: a flood of unknown names costs the edge bucket, not registry queries
    decision = gateway.take_rate(tenant, EDGE_BUCKET)
    deployed = await gateway.programs.get(tenant.name, name)
    version = deployed.version
    principal = None
    if version.auth == "token":
        principal = authorize(gateway.principal(request.headers), tenant.name, "run")
        check_tenant(principal, tenant)
    body = await read_body(request, gateway.settings.max_body_bytes)
    limits = version.limits.capped_by(gateway.ceiling(tenant, principal))
    guest_request = guest_request_from(
        request,
        path="/" + request.path_params.get("path", ""),
        body=body,
        credentials=gateway.credentials,
        authorization_consumed=version.auth == "token",
        secrets=version.secrets,
        env=version.env,
        meta={"tenant": tenant.name, "function": name, "version": version.version_id},
    )
    target = CallTarget(
        tenant=tenant,
        kind="edge",
        function=name,
        version=version.version_id,
        allowed_hosts=version.allowed_hosts,
        secrets=version.secrets,
        cdn_loop=cdn_loop,
    )
    want_logs = call_logs.requested(request, gateway, tenant)
    result = await call(gateway, target, deployed.program, guest_request, limits)
    headers = decision.headers()
    if want_logs:
        headers[call_logs.LOGS_HEADER] = call_logs.encode(result.logs, result.logs_dropped)
    return result_response(result, headers)


routes = [
    Route("/run/{tenant}/{name}", invoke_function, methods=METHODS),
    Route("/run/{tenant}/{name}/{path:path}", invoke_function, methods=METHODS),
]

"""Edge endpoints: any method on ``/run/{tenant}/{name}[/{path}]`` invokes the deployed function.

Public by default (like Workers); a function deployed with ``"auth": "token"``
needs a token of its tenant with the ``run`` scope (like webtask), and that
Authorization header is not passed on to the function. Nor is, on any
function, a header carrying the admin key or a platform token, in whatever
shape (gateway/identity/credentials.py): the gateway's credentials never reach
guest code. Calls take from the tenant's edge rate bucket, never from the one
its deploys use. Request bodies over ``max_body_bytes`` get 413; responses over
the function's ``output_bytes`` get ``output_limit``. The steps every call
shares are in gateway/calls/flow.py.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.calls.flow import GuestCall, serve_call
from gateway.http import read_body
from gateway.identity.auth import authorize, check_tenant
from gateway.names import check_name
from gateway.registry import Tenant
from gateway.service import Gateway

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def invoke_function(request: Request) -> Response:
    tenant_name = check_name(request.path_params["tenant"], "tenant name")
    name = check_name(request.path_params["name"], "function name")

    async def find(gateway: Gateway, tenant: Tenant) -> GuestCall:
        deployed = await gateway.programs.get(tenant.name, name)
        version = deployed.version
        principal = None
        if version.auth == "token":
            principal = authorize(gateway.principal(request.headers), tenant.name, "run", function=name)
            check_tenant(principal, tenant)
        body = await read_body(request, gateway.settings.max_body_bytes)
        return GuestCall(
            program=deployed.program,
            limits=version.limits.capped_by(gateway.ceiling(tenant, principal)),
            body=body,
            authorization_consumed=version.auth == "token",
            path="/" + request.path_params.get("path", ""),
            function=name,
            version=version.version_id,
            allowed_hosts=version.allowed_hosts,
            secrets=version.secrets,
            env=version.env,
        )

    return await serve_call(request, tenant_name, kind="edge", find=find)


routes = [
    Route("/run/{tenant}/{name}", invoke_function, methods=METHODS),
    Route("/run/{tenant}/{name}/{path:path}", invoke_function, methods=METHODS),
]

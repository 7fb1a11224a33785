"""One flow for every call over HTTP: an edge call (routes/edge.py) and an ad-hoc run (routes/run.py).

The route first checks what only it knows (the names; for a run, the token),
then ``serve_call`` runs the sequence both share, in this order (gateway/README.md;
the tests pin it):

1. the ``CDN-Loop`` depth (cdn_loop.py): ``loop_detected`` before anything is looked up;
2. the tenant, and that a token was issued for it, not for an earlier tenant of its name;
3. one take from the tenant's rate bucket (edge calls take from their own);
4. the route's ``find``: what to run, under which limits, with which body. An edge
   call looks its function up only now (a flood of unknown names costs the bucket,
   not registry queries), then checks the token of an ``auth: token`` function; a
   run parses its code. Each reads the body under its own cap;
5. the guest's request, without the gateway's credentials (identity/credentials.py);
6. ``x-wasmtask-logs``, which needs the ``logs`` scope (logs_header.py);
7. the call (invocation.py), and its response with the rate-limit headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from gateway.calls import cdn_loop, logs_header
from gateway.calls.invocation import CallTarget, bucket_for, call, guest_request_from, result_response
from gateway.identity.auth import Principal
from gateway.registry import Tenant
from gateway.service import Gateway
from isolates import Limits, Program


@dataclass(frozen=True)
class GuestCall:
    """What a route found to run, and what its guest sees of the request besides method, URL, query and headers."""

    program: Program | Callable[[], Program]  # deployed, or prepared on the worker thread (ad-hoc runs)
    limits: Limits
    body: bytes | None
    authorization_consumed: bool  # the gateway authenticated the caller with it: no Authorization reaches the guest
    path: str = "/"
    content_type: str | None = None  # replaces the request's when the guest's body is not the request's
    function: str = ""
    version: str = ""
    allowed_hosts: tuple[str, ...] = ()
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    env: dict[str, str] = field(default_factory=dict)


Find = Callable[[Gateway, Tenant], Awaitable[GuestCall]]


async def serve_call(
    request: Request,
    tenant_name: str,
    *,
    kind: str,
    find: Find,
    principal: Principal | None = None,
    show_guest_details: bool = False,
) -> Response:
    """The response to one call for the tenant ``tenant_name`` (a checked name) of what ``find`` finds.

    ``kind`` is "edge" or "run" (``CallTarget``). ``principal``: whom the route has
    authenticated already (a run); None when ``find`` does it, or nobody must (an
    edge call). ``show_guest_details``: a failed call's error carries the guest's
    error name and stack (for an ad-hoc run's author, never for the public).
    """
    gateway: Gateway = request.app.state.gateway
    if show_guest_details:
        request.state.show_guest_details = True
    loop = cdn_loop.check(request.headers)
    tenant = await gateway.tenant(tenant_name, principal)
    decision = await gateway.take_rate(tenant, bucket_for(kind))
    found = await find(gateway, tenant)
    meta = {"tenant": tenant.name}
    if found.function:
        meta.update(function=found.function, version=found.version)
    guest_request = guest_request_from(
        request,
        path=found.path,
        body=found.body,
        credentials=gateway.credentials,
        authorization_consumed=found.authorization_consumed,
        secrets=found.secrets,
        env=found.env,
        meta=meta,
    )
    if found.content_type is not None:
        guest_request["headers"]["content-type"] = found.content_type
    target = CallTarget(
        tenant=tenant,
        kind=kind,
        function=found.function,
        version=found.version,
        allowed_hosts=found.allowed_hosts,
        secrets=found.secrets,
        cdn_loop=loop,
    )
    want_logs = logs_header.requested(request, gateway, tenant)
    result = await call(gateway, target, found.program, guest_request, found.limits)
    headers = decision.headers()
    if want_logs:
        headers[logs_header.LOGS_HEADER] = logs_header.encode(result.logs, result.logs_dropped)
    return result_response(result, headers)

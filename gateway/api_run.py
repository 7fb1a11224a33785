"""``POST /api/run/{tenant}``: webtask's ad-hoc model. The body is the code; the result is the response.

The body is JavaScript (text/javascript, application/javascript, text/plain),
a Wasm module (application/wasm), or JSON ``{"code", "language", "limits",
"body"}`` where ``body`` (any JSON) becomes the request body the handler sees.
The query string and the headers (minus the platform's Authorization) reach
``ctx``. Needs a token with the ``run`` scope. No snapshot: init runs in the call.
"""

from __future__ import annotations

import functools

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import call_depth, call_logs
from gateway.auth import authorize
from gateway.deploy_spec import read_code_request
from gateway.http import media_type, read_body
from gateway.invocation import CallTarget, call, guest_request_from, result_response
from gateway.names import check_name
from gateway.service import API_BUCKET, Gateway, prepare_program

RUN_FIELDS = frozenset({"limits", "body"})


async def run(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = authorize(gateway.principal(request.headers), name, "run")
    cdn_loop = call_depth.check(request.headers)
    tenant = await gateway.tenant(name, principal)
    decision = gateway.take_rate(tenant, API_BUCKET)
    request.state.show_guest_details = True
    body = await read_body(request, gateway.settings.max_code_bytes)
    code = read_code_request(media_type(request), body, RUN_FIELDS)
    limits = gateway.requested_limits(code.fields.get("limits"), gateway.ceiling(tenant, principal))
    guest_body = orjson.dumps(code.fields["body"]) if "body" in code.fields else None
    guest_request = guest_request_from(
        request,
        path="/",
        body=guest_body,
        credentials=gateway.credentials,
        authorization_consumed=True,
        secrets={},
        env={},
        meta={"tenant": tenant.name},
    )
    if guest_body is not None:
        guest_request["headers"]["content-type"] = "application/json"
    prepare = functools.partial(prepare_program, code.language, code.code, limits, False, gateway.compiler)
    want_logs = call_logs.requested(request, gateway, tenant)
    result = await call(gateway, CallTarget(tenant=tenant, kind="run", cdn_loop=cdn_loop), prepare, guest_request, limits)
    headers = decision.headers()
    if want_logs:
        headers[call_logs.LOGS_HEADER] = call_logs.encode(result.logs, result.logs_dropped)
    return result_response(result, headers)


routes = [Route("/api/run/{tenant}", run, methods=["POST"])]

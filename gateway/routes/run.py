"""``POST /api/run/{tenant}``: webtask's ad-hoc model. The body is the code; the result is the response.

The body is JavaScript (text/javascript, application/javascript, text/plain),
a Wasm module (application/wasm), or JSON ``{"code", "language", "limits",
"body"}`` where ``body`` (any JSON) becomes the request body the handler sees.
The query string and the headers (minus the platform's Authorization) reach
``ctx``. Needs a token with the ``run`` scope, not narrowed to one function (ad-hoc
code is no deployed function). No snapshot: init runs in the call.
The steps every call shares are in gateway/calls/flow.py.
"""

from __future__ import annotations

import functools

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.calls.flow import GuestCall, serve_call
from gateway.deploy_spec import read_code_request, source_filename
from gateway.diagnostics import default_filename
from gateway.http import media_type, read_body
from gateway.identity.auth import authorize
from gateway.names import check_name
from gateway.registry import Tenant
from gateway.service import Gateway, prepare_program

RUN_FIELDS = frozenset({"limits", "body", "filename"})


async def run(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = authorize(gateway.principal(request.headers), name, "run")

    async def find(gateway: Gateway, tenant: Tenant) -> GuestCall:
        body = await read_body(request, gateway.settings.max_code_bytes)
        code = read_code_request(media_type(request), body, RUN_FIELDS)
        limits = gateway.requested_limits(code.fields.get("limits"), gateway.ceiling(tenant, principal))
        guest_body = orjson.dumps(code.fields["body"]) if "body" in code.fields else None
        filename = source_filename(code.fields.get("filename"))
        request.state.source_filename = filename or default_filename(code.language)
        return GuestCall(
            program=functools.partial(prepare_program, code.language, code.code, limits, False, gateway.compiler,
                                      filename),
            limits=limits,
            body=guest_body,
            authorization_consumed=True,
            content_type=None if guest_body is None else "application/json",
        )

    return await serve_call(request, name, kind="run", find=find, principal=principal, show_guest_details=True)


routes = [Route("/api/run/{tenant}", run, methods=["POST"])]

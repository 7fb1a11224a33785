"""``GET /api/logs/{tenant}``: the tenant's live log (SSE), for a token with the ``logs`` scope."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.identity.auth import authorize
from gateway.names import check_name
from gateway.service import Gateway


async def stream_logs(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    await gateway.tenant(name, authorize(gateway.principal(request.headers), name, "logs"))
    return await gateway.stream_logs(request)


routes = [Route("/api/logs/{tenant}", stream_logs, methods=["GET"])]

"""The two API routes only the console needs, under ``/api/console/{tenant}/`` (mounted with the others).
A version's code it reads with ``GET /api/functions/{tenant}/{name}/versions/{version}``.

GET  .../stats                                 calls, errors, p50/p99 duration, fuel per function (stats.py): ``logs``
                                               (a token narrowed to one function: that function's only)
POST .../invoke/{name}                         the request builder: ``{method, path, query, headers, body}`` sent
                                               to the deployed function; the answer as JSON (status, headers,
                                               body as text, duration, fuel, the call's log records): ``run``

The invoke route calls the function's edge route inside this process (the same ASGI
app, so the same auth, limits and logs as any call) and hands the guest's response
back as *data*: the console never receives a guest response as a document of its own
origin, only strings it renders as text.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.calls.logs_header import LOGS_HEADER
from gateway.console.stats import WINDOW_MINUTES, CallStats
from gateway.errors import InvalidRequest, TooManyLogStreams
from gateway.http import JSONResponse, parse_json_object, read_body
from gateway.identity.auth import Principal, authorize
from gateway.logs.bus import Subscription
from gateway.names import check_name
from gateway.service import Gateway

INVOKE_ENVELOPE_BYTES = 64 * 1024  # an invoke's JSON around the call's body (capped like any call's)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FUEL_WAIT_SECONDS = 1.0  # how long the invoke route waits for the call's end event (its fuel) on the log


async def _authorized(request: Request, scope: str, *, function: str | None = None,
                      narrowed: bool = False) -> tuple[Gateway, str, Principal]:
    """The tenant, for a token with ``scope`` that may act on ``function`` (``narrowed``: the route
    limits itself to a narrowed token's function)."""
    gateway: Gateway = request.app.state.gateway
    tenant = check_name(request.path_params["tenant"], "tenant name")
    principal = authorize(gateway.principal(request.headers), tenant, scope, function=function, narrowed=narrowed)
    await gateway.tenant(tenant, principal)
    return gateway, tenant, principal


def call_stats(request: Request) -> CallStats:
    state = request.app.state
    if getattr(state, "console_stats", None) is None:
        state.console_stats = CallStats(state.gateway.logs)
    stats: CallStats = state.console_stats
    return stats


async def stats(request: Request) -> Response:
    _, tenant, principal = await _authorized(request, "logs", narrowed=True)
    keeper = call_stats(request)
    fresh = tenant not in keeper.tenants
    tenant_stats = keeper.follow(tenant)
    if fresh:
        await keeper.settle(tenant)
    return JSONResponse({"tenant": tenant, "since": tenant_stats.since, "window_minutes": WINDOW_MINUTES,
                         "source": "this worker's subscription to the tenant's live log",
                         "functions": _only(tenant_stats.summary(), principal.function)})


def _only(functions: dict[str, Any], function: str | None) -> dict[str, Any]:
    """A narrowed token's view: its own function's entry only."""
    if function is None:
        return functions
    return {name: entry for name, entry in functions.items() if name == function}


def _string_map(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidRequest(f"{what} must be an object of strings")
    return dict(value)


async def invoke(request: Request) -> Response:
    name = check_name(request.path_params["name"], "function name")
    gateway, tenant, _ = await _authorized(request, "run", function=name)
    data = parse_json_object(await read_body(request, gateway.settings.max_body_bytes + INVOKE_ENVELOPE_BYTES))
    unknown = set(data) - {"method", "path", "query", "headers", "body"}
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    method = str(data.get("method") or "GET").upper()
    if method not in METHODS:
        raise InvalidRequest(f"method {method!r}: one of {', '.join(sorted(METHODS))}")
    path = data.get("path") or ""
    if not isinstance(path, str):
        raise InvalidRequest("path must be a string")
    query = data.get("query") or ""
    if isinstance(query, dict):
        query = urlencode(_string_map(query, "query"))
    if not isinstance(query, str):
        raise InvalidRequest("query must be a string or an object of strings")
    body = data.get("body") or ""
    if not isinstance(body, str):
        raise InvalidRequest("body must be a string")
    headers = {k: v for k, v in _string_map(data.get("headers"), "headers").items()
               if k.lower() not in ("authorization", "host", "content-length", "x-request-id")}
    call_id = "console-" + secrets.token_hex(8)
    headers.update({"x-request-id": call_id, LOGS_HEADER: "1"})
    if "authorization" in request.headers:
        headers["authorization"] = request.headers["authorization"]
    rest = "/" + quote(path.lstrip("/"), safe="/%") if path.strip("/") else ""
    domain = gateway.settings.edge_domain  # the function's own host (gateway/edge_hosts.py), else the path form
    base_url, url = (f"http://{name}.{tenant}.{domain}", rest or "/") if domain else \
        ("http://console.invoke", f"/run/{tenant}/{name}{rest}")
    if query:
        url += "?" + query.lstrip("?")
    try:  # the call's end event (its fuel) comes on the tenant's log
        subscription: Subscription | None = gateway.logs.subscribe(tenant, replay=False)
    except TooManyLogStreams:  # the tenant's streams are all taken: the call still runs, without its fuel
        subscription = None
    try:
        started = time.perf_counter()
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            answer = await client.request(method, url, headers=headers, content=body.encode())
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        fuel = None if subscription is None else await _fuel_of(subscription, call_id)
    finally:
        if subscription is not None:
            subscription.close()
    logs: Any = None
    encoded = answer.headers.get(LOGS_HEADER)
    if encoded:
        logs = orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    result: dict[str, Any] = {
        "status": answer.status_code,
        "headers": [[k, v] for k, v in answer.headers.items() if k.lower() != LOGS_HEADER],
        "duration_ms": duration_ms,
        "fuel_used": fuel,
        "logs": logs,
        "request_id": call_id,
    }
    try:
        result["body"] = answer.content.decode()
    except UnicodeDecodeError:
        result["body_base64"] = base64.b64encode(answer.content).decode()
    return JSONResponse(result)


async def _fuel_of(subscription: Subscription, call_id: str) -> int | None:
    """The call's ``fuel_used`` from its ``invocation_end`` event on the tenant's log (None if it did not come)."""
    deadline = time.monotonic() + FUEL_WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        for event in await subscription.next_batch(timeout=left):
            record = event.record
            if record.get("event") == "invocation_end" and record.get("request_id") == call_id:
                fuel = record.get("fuel_used")
                return int(fuel) if isinstance(fuel, int) else None
    return None


routes = [
    Route("/api/console/{tenant}/stats", stats, methods=["GET"]),
    Route("/api/console/{tenant}/invoke/{name}", invoke, methods=["POST"]),
]

"""The Starlette app: routes, the one error renderer, the request-id layer, start-up and shut-down."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from gateway.calls import logs_header
from gateway.config import Settings
from gateway.confinement.probes import probe_routes
from gateway.confinement.serving import booted_gateway
from gateway.console import api as console_api
from gateway.console.cors import ApiCorsMiddleware
from gateway.diagnostics import locate
from gateway.edge_hosts import EdgeHostsMiddleware
from gateway.errors import GatewayError, envelope, status_for
from gateway.http import JSONResponse, request_id
from gateway.middleware import RequestIdMiddleware
from gateway.routes import routes
from gateway.service import Gateway
from host_api.errors import CodedError
from isolates import IsolateError

HTTP_STATUS_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                     405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
                     429: "rate_limited", 503: "overloaded"}


def error_response(request: Request, code: str, message: str, headers: dict[str, str] | None = None,
                   **details: object) -> Response:
    gateway: Gateway = request.app.state.gateway
    gateway.metrics.errors.labels(code).inc()
    return JSONResponse(envelope(code, message, request_id(request), **details), status_code=status_for(code),
                        headers=headers)


# Headers every answer with this code carries, whichever layer raised it.
HEADERS_BY_CODE = {"overloaded": {"retry-after": "1"}}


async def on_coded_error(request: Request, exc: Exception) -> Response:
    """Every error of every layer (``CodedError``). A guest's error name, stack and location in
    the user's file go only to authenticated ad-hoc runs and deploys, not to the public; its logs
    to whoever asked with a logs token."""
    assert isinstance(exc, CodedError)
    headers = dict(HEADERS_BY_CODE.get(exc.code, {}))
    details: dict[str, object] = {}
    if isinstance(exc, GatewayError):
        headers.update(exc.headers)
        details = exc.details
    elif isinstance(exc, IsolateError):
        headers.update(logs_header.header_for_error(request, exc))
        if getattr(request.state, "show_guest_details", False):
            details = {key: value for key, value in (("name", exc.name), ("stack", exc.stack)) if value}
            location = locate(exc, getattr(request.state, "source_filename", ""))
            if location is not None:
                details["location"] = location.to_dict()
    return error_response(request, exc.code, exc.message, headers or None, **details)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own: no route (404), wrong method (405)."""
    assert isinstance(exc, HTTPException)
    code = HTTP_STATUS_CODES.get(exc.status_code, "internal_error" if exc.status_code >= 500 else "invalid_request")
    message = {404: "no such route", 405: f"{request.method} is not allowed here"}.get(exc.status_code, exc.detail)
    return error_response(request, code, message, dict(exc.headers or {}))


# uvicorn's event loop for the gateway: asyncio's own, not uvloop (uvicorn's "auto" picks uvloop
# when installed). Measured here with wrk at 64 connections (benches/README.md, issue 13): under
# uvloop a handler that holds the loop for a millisecond (an inline call) lets some connections wait
# many rounds (p99 3.6-14x the p50: 1-4 s against 0.3 s), under asyncio every connection is served once
# per round (p99 1.4-1.9x the p50) at no more CPU per request. Bare Starlette with a 1.2 ms handler
# shows the same; it is uvloop's scheduling (MagicStack/uvloop#123), not the gateway's.
EVENT_LOOP = "asyncio"

# Guest code runs on worker threads without the GIL, but each host call (a log
# line, a clock read) needs it back: with the default 5 ms switch interval a
# busy event loop makes such a call wait up to 5 ms. 0.5 ms bounds that wait.
SWITCH_INTERVAL_SECONDS = 0.0005


def tune_process() -> None:
    """Process-wide settings of a serving process (one per worker)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def worker_app() -> Starlette:
    """One worker's app under ``wasmtask serve --workers N``: uvicorn imports and calls this in each
    worker process; the settings come from the environment the supervisor set (WASMTASK_*). The
    ``Gateway`` is the one the worker built before it confined itself (gateway/confinement/serving.py)."""
    tune_process()
    return create_app(Settings.from_env(), gateway=booted_gateway())


def create_app(settings: Settings | None = None, gateway: Gateway | None = None) -> Starlette:
    gateway = gateway or Gateway(settings or Settings.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(gateway.load_runtime)
        await gateway.start()
        # What start-up made (modules, the runtime, caches) lives as long as the process: out of the
        # cyclic collector's sight, a full collection under load pauses every request ~10x shorter.
        gc.freeze()
        try:
            yield
        finally:
            await gateway.stop()
            gateway.close()

    app = Starlette(
        routes=[*routes, *console_api.routes,  # the console's few extra API routes (gateway/console/api.py)
                *probe_routes(gateway.settings)],  # none unless WASMTASK_SANDBOX_PROBES=1 (tests)
        middleware=[Middleware(EdgeHostsMiddleware, settings=gateway.settings),  # {name}.{tenant}.EDGE_DOMAIN
                    Middleware(ApiCorsMiddleware, origins=gateway.settings.console_origins),  # /api/ only
                    Middleware(RequestIdMiddleware, on_internal_error=lambda: gateway.metrics.errors.labels(
            "internal_error").inc())],
        exception_handlers={
            CodedError: on_coded_error,
            HTTPException: on_http_exception,
        },
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app

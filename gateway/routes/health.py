"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import confinement
from gateway.http import JSONResponse
from gateway.service import Gateway


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the registry answers and the JS runtime is loaded. Ready but "degraded" (still 200:
    deployed functions are served) when Redis is unreachable."""
    gateway: Gateway = request.app.state.gateway
    problems = await anyio.to_thread.run_sync(gateway.check_ready)  # a frozen registry must not block the loop
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    degraded = await gateway.check_degraded()
    # a served process says how it is confined (gateway/confinement); degraded when a layer is missing
    sandbox = confinement.current()
    shown: dict[str, object] = {"sandbox": sandbox.to_dict()} if sandbox else {}
    if sandbox and not sandbox.complete:
        degraded["sandbox"] = f"landlock {sandbox.landlock}; seccomp {sandbox.seccomp}"
    if degraded:
        return JSONResponse({"status": "degraded", "degraded": degraded, **shown})
    return JSONResponse({"status": "ready", **shown})


async def metrics(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    gateway.metrics.programs_cached.set(len(gateway.programs))
    return Response(gateway.metrics.render(), media_type=gateway.metrics.content_type)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]

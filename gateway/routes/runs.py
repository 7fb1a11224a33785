"""``GET /api/runs/{tenant}/{name}``: a function's run history (cron ticks and async jobs), newest first.

Each run: when it started, how long it took, its code (``ok`` or the error code),
the HTTP status of its response, the fuel it used, its job and attempt, and the
version that ran. The newest 100 runs per function are kept (gateway/jobs/queue.py);
``?limit=`` shows fewer. The function's schedule, if any, comes along. Needs a token
with the ``logs`` scope: like the live log, this is what the function did.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http import JSONResponse
from gateway.identity.auth import authorize
from gateway.jobs.queue import RUNS_KEPT
from gateway.names import check_name
from gateway.routes.jobs import bounded_limit
from gateway.service import Gateway


async def list_runs(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    tenant_name = check_name(request.path_params["tenant"], "tenant name")
    name = check_name(request.path_params["name"], "function name")
    principal = authorize(gateway.principal(request.headers), tenant_name, "logs", function=name)
    tenant = await gateway.tenant(tenant_name, principal)
    limit = bounded_limit(request.query_params.get("limit"), RUNS_KEPT)
    runs = await anyio.to_thread.run_sync(lambda: gateway.jobs.runs(tenant.name, name, limit=limit))
    schedule = await anyio.to_thread.run_sync(gateway.schedules.get, tenant.name, name)
    return JSONResponse({"tenant": tenant.name, "name": name,
                         "schedule": None if schedule is None else schedule.to_dict(),
                         "runs": [run.to_dict() for run in runs]})


routes = [Route("/api/runs/{tenant}/{name}", list_runs, methods=["GET"])]

"""The HTTP routes, one module per resource; ``routes`` is what gateway/app.py mounts, in this order.

health.py     ``/healthz``, ``/readyz``, ``/metrics``
tenants.py    ``GET /api/tenants/{tenant}``; the other tenant and token routes are the control
              plane's (gateway/control_plane.py): here they answer ``control_plane_route``
functions.py  ``/api/functions/{tenant}/...``: deploy, read, list, versions, delete
run.py        ``POST /api/run/{tenant}``: an ad-hoc run
logs.py       ``GET /api/logs/{tenant}``: the live log
jobs.py       ``/api/jobs/{tenant}/...``: async jobs (submit, status and result, list)
runs.py       ``GET /api/runs/{tenant}/{name}``: a function's run history (cron and jobs)
storage.py    ``/api/storage/{tenant}/{name}`` and ``/api/kv/{tenant}/{name}[/{key}]``: a function's storage
edge.py       any method on ``/run/{tenant}/{name}[/{path}]``: a deployed function
openapi.py    ``/openapi.json`` and ``/docs``: the description of all of these
"""

from starlette.routing import BaseRoute

from gateway.routes import edge, functions, health, jobs, logs, openapi, run, runs, storage, tenants

# Starlette tries routes in order: the edge routes (every public call) come first.
routes: list[BaseRoute] = [
    *edge.routes,
    *health.routes,
    *openapi.routes,
    *tenants.routes,
    *functions.routes,
    *run.routes,
    *logs.routes,
    *jobs.routes,
    *runs.routes,
    *storage.routes,
]

__all__ = ["routes"]

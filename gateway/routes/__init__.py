"""The HTTP routes, one module per resource; ``routes`` is what gateway/app.py mounts, in this order.

health.py     ``/healthz``, ``/readyz``, ``/metrics``
tenants.py    ``/api/tenants``, ``/api/tokens`` (the admin key)
functions.py  ``/api/functions/{tenant}/...``: deploy, read, list, versions, delete
run.py        ``POST /api/run/{tenant}``: an ad-hoc run
logs.py       ``GET /api/logs/{tenant}``: the live log
edge.py       any method on ``/run/{tenant}/{name}[/{path}]``: a deployed function
openapi.py    ``/openapi.json`` and ``/docs``: the description of all of these
"""

from starlette.routing import BaseRoute

from gateway.routes import edge, functions, health, logs, openapi, run, tenants

# Starlette tries routes in order: the edge routes (every public call) come first.
routes: list[BaseRoute] = [
    *edge.routes,
    *health.routes,
    *openapi.routes,
    *tenants.routes,
    *functions.routes,
    *run.routes,
    *logs.routes,
]

__all__ = ["routes"]

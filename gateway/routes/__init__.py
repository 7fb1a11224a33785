"""The HTTP routes, one module per resource; ``routes`` is what gateway/app.py mounts, in this order.

health.py     ``/healthz``, ``/readyz``, ``/metrics``
tenants.py    ``/api/tenants``, ``/api/tokens`` (the admin key)
functions.py  ``/api/functions/{tenant}/...``: deploy, read, list, versions, delete
run.py        ``POST /api/run/{tenant}``: an ad-hoc run
logs.py       ``GET /api/logs/{tenant}``: the live log
edge.py       any method on ``/run/{tenant}/{name}[/{path}]``: a deployed function
"""

from starlette.routing import BaseRoute

from gateway.routes import edge, functions, health, logs, run, tenants

routes: list[BaseRoute] = [
    *health.routes,
    *tenants.routes,
    *functions.routes,
    *run.routes,
    *logs.routes,
    *edge.routes,
]

__all__ = ["routes"]

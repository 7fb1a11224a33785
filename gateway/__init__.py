"""The HTTP layer: the Starlette app, auth, fair limits, the function registry, log streaming, the CLI.

``gateway.app.create_app(settings)`` builds the app; ``wasmtask serve`` runs it.

app.py         the composition root: routes, the request-id layer, the one error renderer, start-up
service.py     the gateway's state in one object (``Gateway``): keys, registry, caches, fairness, logs
config.py      ``Settings`` from the environment
errors.py      the error tree and the one code-to-status table
http.py        orjson responses, capped body reading, request ids
middleware.py  the outermost layer: ``x-request-id``, and a 500 for bugs
metrics.py     Prometheus
routes/        the HTTP routes, one module per resource
calls/         a call from the route to the response: the one flow of edge calls and ad-hoc runs
identity/      who is calling (admin key, tenant tokens), and credentials a guest never sees
logs/          live per-tenant logs: the hub, server-sent events, the follower
cli/           the ``wasmtask`` command line
registry/, programs.py, names.py, deploy_spec.py, secret_box.py     tenants and functions at rest
admission.py, ratelimit.py, inline.py                               fair limits; where a call runs

Imports go one way: cli -> app -> routes -> calls -> service -> identity, logs,
fairness -> the registry modules -> errors, config, http.
"""

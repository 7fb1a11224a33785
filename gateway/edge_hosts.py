"""Functions on their own hostnames: ``{name}.{tenant}.{WASMTASK_EDGE_DOMAIN}`` (like ``*.workers.dev``).

On the API's host every tenant's functions answer under one origin (``/run/{tenant}/{name}``),
so a function's HTML, scripts and ``Set-Cookie`` act on the API's origin (where a console
page holds a token) and on every other tenant's endpoints. With an edge domain set:

    Host: {name}.{tenant}.{domain}[:port]   the function's edge call (gateway/routes/edge.py), the
                                            request's path and query passed on unchanged; no API,
                                            console or health route answers on such a host
    Host: anything else under {domain}      404 ``not_found`` (wrong depth, a label that is no
                                            DNS label or no tenant/function name)
    any other Host (the API's)              the API; ``/run/...`` only while ``WASMTASK_EDGE_PATHS``
                                            allows it (default: only without an edge domain)

Labels are checked as DNS labels (a-z, 0-9, '-', not at either end, at most 63) and as
names (gateway/names.py); the Host header is compared lower-case, without its port or a
trailing dot. Errors are rendered by the app's own handlers (gateway/app.py), as on any route.
"""

from __future__ import annotations

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import DNS_LABEL, Settings
from gateway.errors import InvalidRequest, MethodNotAllowed, NotFound
from gateway.middleware import RequestIdMiddleware
from gateway.names import NAME_PATTERN
from gateway.routes import edge

EDGE_PATH_PREFIX = "/run/"


def host_of(scope: Scope) -> str | None:
    """The request's Host, lower-case, without its port or a trailing dot (None: no Host header);
    ``InvalidRequest`` for several differing Host headers (which one counts would be ambiguous)."""
    values = {value for key, value in scope["headers"] if key == b"host"}
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest("send one Host header, not several")
    host: str = values.pop().decode("latin-1").strip().lower()
    if host.startswith("["):  # an IPv6 literal: never a function's host
        return host
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit():
        host = name
    return host.removesuffix(".")


def function_of(host: str, domain: str) -> tuple[str, str] | None:
    """(tenant, function) named by ``{name}.{tenant}.{domain}``; None for any other host under ``domain``."""
    labels = host.removesuffix("." + domain).split(".")
    if len(labels) != 2 or not all(DNS_LABEL.fullmatch(label) and NAME_PATTERN.fullmatch(label) for label in labels):
        return None
    name, tenant = labels
    return tenant, name


async def _call(request: Request) -> Response:
    if request.method not in edge.METHODS:
        raise MethodNotAllowed(f"{request.method} is not allowed here")
    return await edge.invoke_function(request)


async def _no_function(request: Request) -> Response:
    host_of(request.scope)  # InvalidRequest (400) for several Host headers
    domain = request.app.state.gateway.settings.edge_domain
    raise NotFound(f"no function answers on this host: functions answer on {{name}}.{{tenant}}.{domain}")


async def _no_edge_path(request: Request) -> Response:
    domain = request.app.state.gateway.settings.edge_domain
    where = f"on their own hostnames, {{name}}.{{tenant}}.{domain}" if domain else "on no path of this host"
    raise NotFound(f"functions answer {where} (WASMTASK_EDGE_PATHS=1 serves /run/{{tenant}}/{{name}} here too)")


class EdgeHostsMiddleware:
    """Sends requests for a function's hostname to its edge call, and keeps the path form off the API's
    host when ``settings.serves_edge_paths`` says so. Nothing changes when neither is configured."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.domain = settings.edge_domain
        self.paths = settings.serves_edge_paths
        self._handled: dict[str, ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.domain is None and self.paths):
            await self.app(scope, receive, send)
            return
        if self.domain is not None:
            try:
                host = host_of(scope)
            except InvalidRequest:
                await self._handle(scope, "no_function")(scope, receive, send)
                return
            if host is not None and (host == self.domain or host.endswith("." + self.domain)):
                found = function_of(host, self.domain)
                if found is None:
                    await self._handle(scope, "no_function")(scope, receive, send)
                    return
                tenant, name = found
                scope = {**scope, "path_params": {"tenant": tenant, "name": name,
                                                  "path": scope["path"].removeprefix("/")}}
                await self._handle(scope, "call")(scope, receive, send)
                return
        if not self.paths and (scope["path"] + "/").startswith(EDGE_PATH_PREFIX):
            await self._handle(scope, "no_edge_path")(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _handle(self, scope: Scope, what: str) -> ASGIApp:
        """The endpoint ``what`` under the app's request-id layer and error handlers. This layer is the
        outermost (so the API's CORS layer never acts on a function's host, whatever the path), hence
        it wraps its endpoints in the same layers the app's routes have."""
        handled = self._handled.get(what)
        if handled is None:
            app = scope["app"]
            errors = app.state.gateway.metrics.errors
            endpoint = {"call": _call, "no_function": _no_function, "no_edge_path": _no_edge_path}[what]
            handled = RequestIdMiddleware(
                ExceptionMiddleware(request_response(endpoint), handlers=app.exception_handlers),
                on_internal_error=lambda: errors.labels("internal_error").inc())
            self._handled[what] = handled
        return handled

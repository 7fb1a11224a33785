"""CORS on the API routes (``/api/...``) for the console's origin and the operator's (``WASMTASK_CONSOLE_ORIGINS``).

Only those exact origins may call the API from a page; no other route (a function's
edge endpoint above all) gets CORS headers from the gateway. The credential travels
in the ``Authorization`` header, never in a cookie: ``allow_credentials`` stays off,
so a browser never attaches cookies to these cross-origin calls. No origin
configured: no CORS at all (the default).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.calls.logs_header import LOGS_HEADER

API_PREFIX = "/api/"
ALLOWED_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
ALLOWED_HEADERS = ("authorization", "content-type", "last-event-id", LOGS_HEADER)
EXPOSED_HEADERS = ("x-request-id", LOGS_HEADER, "retry-after", "ratelimit-limit", "ratelimit-remaining",
                   "ratelimit-reset")
PREFLIGHT_MAX_AGE_SECONDS = 600


class ApiCorsMiddleware:
    """Starlette's CORSMiddleware, applied to ``/api/`` paths only and only when origins are configured."""

    def __init__(self, app: ASGIApp, origins: Sequence[str] = ()) -> None:
        self.app = app
        self.cors: ASGIApp | None = None
        if origins:
            self.cors = CORSMiddleware(app, allow_origins=list(origins), allow_methods=ALLOWED_METHODS,
                                       allow_headers=ALLOWED_HEADERS, expose_headers=EXPOSED_HEADERS,
                                       allow_credentials=False, max_age=PREFLIGHT_MAX_AGE_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.cors is not None and scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

"""The outermost layer: an ``x-request-id`` on every response, and a 500 envelope (no traceback) for bugs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import envelope
from gateway.http import REQUEST_ID_HEADER, JSONResponse, accept_request_id

logger = logging.getLogger("wasmtask.gateway")


class RequestIdMiddleware:
    """Assigns ``scope["state"]["request_id"]`` (a well-formed incoming x-request-id, or a new one),
    echoes it on the response, and turns an unhandled exception into ``internal_error``."""

    def __init__(self, app: ASGIApp, on_internal_error: Callable[[], None] | None = None) -> None:
        self.app = app
        self.on_internal_error = on_internal_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode()
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER.encode()]
                headers.append((REQUEST_ID_HEADER.encode(), encoded))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            return  # the client left before sending its whole body: nobody to answer, not our bug
        except Exception:
            logger.exception("unhandled error (request_id=%s)", request_id)
            if self.on_internal_error is not None:
                self.on_internal_error()
            if started:
                raise
            response = JSONResponse(
                envelope("internal_error", "an unexpected error occurred; quote the request_id", request_id),
                status_code=500,
            )
            await response(scope, receive, send_with_id)

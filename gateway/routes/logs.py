"""``GET /api/logs/{tenant}``: the tenant's live log (SSE), for a token with the ``logs`` scope.

``?function=NAME`` keeps that function's records only. A token narrowed to one function
gets its function's records only, whatever it asks (another ``?function=`` is refused);
the stream's own notices (records dropped for a slow reader) come to every reader.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.identity.auth import authorize, check_function
from gateway.logs.bus import LogEvent, Subscription
from gateway.logs.sse import EventStreamResponse
from gateway.names import check_name
from gateway.service import Gateway

HEARTBEAT_SECONDS = 15.0  # as gateway/logs/sse.py's endpoint


class FunctionSubscription:
    """The events of ``subscription`` that belong to one function (and the bus's own notices)."""

    def __init__(self, subscription: Subscription, function: str) -> None:
        self._subscription = subscription
        self._function = function

    @property
    def closed(self) -> bool:
        return self._subscription.closed

    async def next_batch(self, timeout: float | None = None) -> list[LogEvent]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            batch = await self._subscription.next_batch(timeout=left)
            kept = [event for event in batch if event.id is None or event.record.get("function") == self._function]
            if kept or not batch or (deadline is not None and time.monotonic() >= deadline):
                return kept

    def close(self) -> None:
        self._subscription.close()


async def stream_logs(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    query = request.query_params
    function = check_name(query["function"], "function name") if query.get("function") else None
    principal = authorize(gateway.principal(request.headers), name, "logs", narrowed=True)
    if principal.function is not None:  # a narrowed token: its own function's records only
        check_function(principal, function or principal.function)
        function = principal.function
    await gateway.tenant(name, principal)
    if function is None:
        return await gateway.stream_logs(request)
    subscription = gateway.logs.subscribe(  # TooManyLogStreams: answered by the gateway's one error renderer
        name,
        last_event_id=request.headers.get("last-event-id"),
        replay=query.get("replay", "1") not in ("0", "false", "no"),
    )
    return EventStreamResponse(FunctionSubscription(subscription, function), HEARTBEAT_SECONDS)


routes = [Route("/api/logs/{tenant}", stream_logs, methods=["GET"])]

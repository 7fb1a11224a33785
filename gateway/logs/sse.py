"""The live log over HTTP: ``GET /api/logs/{tenant}`` as server-sent events of one hub subscription.

Each record is one event, ``id: <epoch>-<sequence>`` and ``data: <json>``, so a
reader that reconnects with ``Last-Event-ID`` resumes after the last record it saw.
An idle stream gets a ``: ping`` comment every ``heartbeat_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.logs.bus import LogBus, LogEvent, Record, Subscription

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
SSE_PREAMBLE = b": subscribed\n\n"  # sent once subscribed: flushes the headers for curl -N
SSE_PING = b": ping\n\n"


def encode_events(events: Iterable[LogEvent]) -> bytes:
    """Server-sent events, one ``id:`` + ``data: <json>`` event per record (orjson never emits a raw newline)."""
    chunks: list[bytes] = []
    for event in events:
        if event.id is not None:
            chunks.append(b"id: " + event.id.encode() + b"\n")
        chunks.append(b"data: " + _json(event.record) + b"\n\n")
    return b"".join(chunks)


def _json(record: Record) -> bytes:
    try:
        return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as exc:
        return orjson.dumps({"time": time.time(), "level": "error", "msg": f"unserializable log record: {exc}"})


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` of one subscription; the subscription is closed however the response ends."""

    media_type = "text/event-stream"

    def __init__(self, subscription: Subscription, heartbeat_seconds: float) -> None:
        self.subscription = subscription
        self.heartbeat_seconds = heartbeat_seconds
        super().__init__(self._stream(), headers=SSE_HEADERS)

    async def _stream(self) -> AsyncIterator[bytes]:
        yield SSE_PREAMBLE
        while True:
            batch = await self.subscription.next_batch(timeout=self.heartbeat_seconds)
            if batch:
                yield encode_events(batch)
            elif self.subscription.closed:
                return
            else:
                yield SSE_PING

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette (ASGI spec < 2.4, as uvicorn reports) cancels the stream when the
        # client disconnects; closing here also covers a body that never started.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.subscription.close()


def logs_endpoint(hub: LogBus, *, heartbeat_seconds: float = 15.0) -> Callable[[Request], Awaitable[Response]]:
    """``GET /api/logs/{tenant}``: the tenant's records as server-sent events. Authenticate before calling it.

    Honours ``Last-Event-ID`` (resume after that record) and ``?replay=0`` (live records only).
    """

    async def stream_logs(request: Request) -> Response:
        subscription = hub.subscribe(  # TooManyLogStreams: answered by the gateway's one error renderer
            request.path_params["tenant"],
            last_event_id=request.headers.get("last-event-id"),
            replay=request.query_params.get("replay", "1") not in ("0", "false", "no"),
        )
        return EventStreamResponse(subscription, heartbeat_seconds)

    return stream_logs

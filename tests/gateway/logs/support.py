"""A bare log endpoint under a real uvicorn on loopback, and a real SSE reader on its own thread."""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.logs import LogHub, logs_endpoint
from host_api.log import CallLog

TOKEN = "secret-token"


def make_app(hub: LogHub, heartbeat_seconds: float = 15.0) -> Starlette:
    stream_logs = logs_endpoint(hub, heartbeat_seconds=heartbeat_seconds)

    async def authenticated(request: Request) -> Response:  # what the gateway does before our endpoint
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": {"code": "unauthorized", "message": "bad token"}}, status_code=401)
        return await stream_logs(request)

    return Starlette(routes=[Route("/api/logs/{tenant}", authenticated)])


@dataclass
class Running:
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop_accepting(self) -> None:
        """Ask uvicorn to exit and wait until its listening socket refuses connections."""
        self.server.should_exit = True

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return True
            return False

        wait_for(refused)


@contextmanager
def serve(app: Starlette, port: int = 0) -> Iterator[Running]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Running(server, server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(5)


class SseReader:
    """A real HTTP client reading one SSE stream on its own thread; each record is stamped on arrival."""

    def __init__(self, url: str, **headers: str) -> None:
        self.received: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.comments: list[str] = []
        self.ids: list[str] = []
        self.subscribed = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._headers = {"authorization": f"Bearer {TOKEN}", **headers}
        self._url = url
        self._socket: socket.socket
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.subscribed.wait(5), "no SSE preamble"

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                        self.subscribed.set()
                    elif line.startswith("id: "):
                        self.ids.append(line[4:])
                    elif line.startswith("data: "):
                        self.received.put((time.time(), orjson.loads(line[6:])))
        except (httpx.TransportError, RuntimeError):
            pass  # closed by the test

    def until(self, predicate: Any, timeout: float = 5.0) -> list[tuple[float, dict[str, Any]]]:
        """Arrivals up to and including the first record matching ``predicate``."""
        arrivals: list[tuple[float, dict[str, Any]]] = []
        deadline = time.monotonic() + timeout
        while True:
            arrivals.append(self.received.get(timeout=max(0.0, deadline - time.monotonic())))
            if predicate(arrivals[-1][1]):
                return arrivals

    def close(self) -> None:
        """Hang up, as a client going away does (closing alone would not wake the reading thread)."""
        self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        assert not self._thread.is_alive()
        self._client.close()


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def call_log(hub: LogHub, tenant: str, request_id: str) -> CallLog:
    """The per-call log a worker thread writes into, publishing live like the gateway wires it."""
    fields = {"tenant": tenant, "function": "hello", "version": 3}
    return CallLog(max_bytes=64 * 1024, max_lines=256, request_id=request_id, fields=fields, sink=hub.sink(tenant))

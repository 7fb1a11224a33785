"""The gateway's app in this process, driven through ASGI: no sockets, no HTTP parsing, only the app's own work.

For measuring the gateway's CPU per call with ``time.process_time`` (what HTTP
costs is the same whatever the app does, so it is left out). Set-up (the bench
tenant, a deploy) goes through the app's own API over httpx's ASGI transport;
calls go straight to the ASGI callable, one minimal ``GET`` scope each. The
app's lifespan runs as under uvicorn (the runtime loaded, the change-feed
follower and, with Redis, the log writer started); run it on uvloop, as
uvicorn's default loop is when uvloop is installed.

``shared`` picks what goes through Redis when a ``redis_url`` is given: both
("rate-limit", "logs", as the gateway ships), or one of them with the other
swapped for the gateway's in-memory counterpart (an ablation, to attribute
the cost; it replaces ``Gateway.rate_limiter`` or ``Gateway.logs`` before start).
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

import httpx

from benches.gateway_server import RATE_LIMIT, TENANT

SHARED = ("rate-limit", "logs")


class InProcessGateway:
    def __init__(self, data_dir: Path, *, redis_url: str | None = None, shared: Collection[str] = SHARED,
                 queue_depth: int = 256) -> None:
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.shared = frozenset(shared)
        if not self.shared <= set(SHARED):
            raise ValueError(f"shared must be a subset of {SHARED}, not {sorted(self.shared)}")
        self.queue_depth = queue_depth
        self.admin_key = secrets.token_urlsafe(24)
        self.app: Any = None
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> InProcessGateway:
        from gateway.app import SWITCH_INTERVAL_SECONDS, create_app
        from gateway.config import Settings
        from gateway.coordination import LocalRateLimiter
        from gateway.logs import LogHub

        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)  # as tune_process() in a serving process
        settings = Settings(data_dir=self.data_dir, admin_key=self.admin_key, redis_url=self.redis_url,
                            queue_depth=self.queue_depth)
        app = create_app(settings)
        gateway = app.state.gateway
        from gateway.control_plane import create_control_app

        self.control_app = create_control_app(settings)  # tenants are the control plane's
        if self.redis_url is not None:
            if "rate-limit" not in self.shared:
                gateway.rate_limiter = LocalRateLimiter()
            if "logs" not in self.shared:
                gateway.logs = LogHub()
        await self._stack.enter_async_context(app.router.lifespan_context(app))
        self.app = app
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    @property
    def gateway(self) -> Any:
        """The app's ``gateway.service.Gateway`` (its rate limiter and log bus, for timing them alone)."""
        return self.app.state.gateway

    @contextlib.asynccontextmanager
    async def _admin(self, app: Any = None) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app or self.app), base_url="http://gateway",
                                     headers={"authorization": f"Bearer {self.admin_key}"}) as client:
            yield client

    async def set_up(self, name: str, code: str) -> None:
        """The bench tenant (rate limit effectively off) and ``code`` deployed as ``name``."""
        async with self._admin(self.control_app) as control, self._admin() as client:
            for response in (await control.post("/api/tenants", json={"name": TENANT, "rate_limit": RATE_LIMIT}),
                             await client.put(f"/api/functions/{TENANT}/{name}",
                                              json={"code": code, "language": "javascript"})):
                if response.status_code >= 300:
                    raise RuntimeError(f"set-up: HTTP {response.status_code}: {response.text[:300]}")

    async def redeploy(self, name: str, code: str) -> None:
        """Deploy ``code`` again as ``name``: a new version, so a fresh start for the inline policy."""
        async with self._admin() as client:
            response = await client.put(f"/api/functions/{TENANT}/{name}", json={"code": code,
                                                                               "language": "javascript"})
            if response.status_code >= 300:
                raise RuntimeError(f"redeploy: HTTP {response.status_code}: {response.text[:300]}")

    def inline_demotions(self) -> int:
        """Function versions the gateway stopped running inline (an inline attempt over its fuel or wall-clock
        cap: on a busy machine, a call descheduled for 20 ms is enough). Read from gateway/inline.py's
        ``InlinePolicy`` (its private set: the gateway counts them nowhere public)."""
        return len(getattr(self.gateway.inline, "_slow", ()))

    async def call(self, name: str) -> int:
        """One ``GET /run/bench/{name}`` through the ASGI callable; the response status."""
        path = f"/run/{TENANT}/{name}"
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
        }
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        await self.app(scope, receive, send)
        return status

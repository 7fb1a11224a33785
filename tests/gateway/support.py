"""Real gateways for the tests: uvicorn on 127.0.0.1, in a thread or in a subprocess, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from gateway.app import create_app
from gateway.config import Settings

REPO = Path(__file__).resolve().parents[2]
ADMIN_KEY = "test-admin-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class ThreadServer:
    """The app under uvicorn in a daemon thread of the test process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


class ProcessServer:
    """``wasmtask serve`` as a subprocess (so a test can kill -9 it and start it again)."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "WASMTASK_ADMIN_KEY": ADMIN_KEY, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / "server.log"  # appended to by every start on this data dir

    def start(self, *, demo: bool = False) -> ProcessServer:
        command = [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--data-dir", str(self.data_dir)]
        if not demo:
            command.append("--no-demo")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=open(self.log, "a"), stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited: {self.output()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the gateway did not become ready: {self.output()}")

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Api:
    """A test's view of one gateway: admin calls, tenants, tokens, and plain httpx."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30, trust_env=False)
        self.admin = {"authorization": f"Bearer {ADMIN_KEY}"}

    def create_tenant(self, name: str | None = None, **fields: Any) -> str:
        name = name or unique("t")
        response = self.http.post("/api/tenants", json={"name": name, **fields}, headers=self.admin)
        assert response.status_code == 201, response.text
        return name

    def token(self, tenant: str, scopes: str | list[str] = "run,deploy,logs", **fields: Any) -> dict[str, str]:
        response = self.http.post("/api/tokens", json={"tenant": tenant, "scopes": scopes, **fields},
                                  headers=self.admin)
        assert response.status_code == 201, response.text
        return {"authorization": f"Bearer {response.json()['token']}"}

    def deploy(self, tenant: str, name: str, code: str, headers: dict[str, str], **fields: Any) -> httpx.Response:
        return self.http.put(f"/api/functions/{tenant}/{name}", json={"code": code, **fields}, headers=headers)

    def deployed(self, tenant: str, name: str, code: str, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        response = self.deploy(tenant, name, code, headers, **fields)
        assert response.status_code == 200, response.text
        return response.json()


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return str(body["error"]["code"])

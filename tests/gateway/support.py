"""Real servers for the tests: gateways (uvicorn on 127.0.0.1, in a thread or in a subprocess, on a free
port) and a private PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from benches.processes import free_port
from gateway.app import create_app
from gateway.config import Settings
from gateway.control_plane import create_control_app

REPO = Path(__file__).resolve().parents[2]
ADMIN_KEY = "test-admin-key-0123456789"
REGISTRY_BACKENDS = ["sqlite", "postgres"]  # the gateway suite runs on each (tests/gateway/conftest.py)
# a serving listener's URL -> its control plane's (tenants, tokens): filled by the servers below, read by Api
CONTROL_URLS: dict[str, str] = {}


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class _Listener:
    """One ASGI app under uvicorn in a daemon thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


class ThreadServer:
    """The serving app and the control plane's (gateway/control_plane.py), each under uvicorn on its own
    port, in daemon threads of the test process (``wasmtask serve`` runs them as separate processes)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.serving = _Listener(self.app)
        self.control = _Listener(create_control_app(settings))
        self.url = self.serving.url
        self.control_url = self.control.url
        self.server = self.serving.server

    def start(self) -> ThreadServer:
        self.control.start()
        self.serving.start()
        CONTROL_URLS[self.url] = self.control_url
        return self

    def stop(self) -> None:
        CONTROL_URLS.pop(self.url, None)
        self.serving.stop()
        self.control.stop()


class ProcessServer:
    """``wasmtask serve`` as a subprocess (so a test can kill -9 it and start it again)."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.control_port = free_port()
        self.console_port = free_port()  # not port + 2 (serve's default): that one nobody checked is free
        self.url = f"http://127.0.0.1:{self.port}"
        self.control_url = f"http://127.0.0.1:{self.control_port}"
        CONTROL_URLS[self.url] = self.control_url
        self.env = {**os.environ, "WASMTASK_ADMIN_KEY": ADMIN_KEY, **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / "server.log"  # appended to by every start on this data dir

    def start(self, *, demo: bool = False) -> ProcessServer:
        command = [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--control-port", str(self.control_port), "--console-port", str(self.console_port),
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


PG_BIN = Path(os.environ.get("WASMTASK_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresServer:
    """A private PostgreSQL: ``initdb`` into a temporary directory, its socket there, no TCP, fsync off.

    PostgreSQL refuses to run as root: as root, it runs as the ``postgres`` user (FACTS.md).
    Started with ``start()``, stopped by the postmaster's PID with ``stop()``; ``start()``
    again restarts it on the same data. ``remove()`` deletes everything."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wasmtask-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.pid: int | None = None
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.dir, account.pw_uid, account.pw_gid)

    @staticmethod
    def missing() -> str | None:
        """Why a private PostgreSQL cannot run here (None if it can)."""
        if not (PG_BIN / "initdb").exists():
            return f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql-15)"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user"
        return None

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *command], check=True, cwd=self.dir, capture_output=True, timeout=60)

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                      "-E", "UTF8", "--locale=C")
        # fsync off: nothing survives a crash of the machine, everything a crash of PostgreSQL (the fault
        # tests stop it with SIGQUIT); synchronous_commit stays on, or that would lose the last commits
        options = f"-k {self.dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def stop(self, *, immediate: bool = False) -> None:
        """Stop the postmaster by its PID: a fast shutdown (SIGINT), or ``immediate`` (SIGQUIT: like
        ``pg_ctl stop -m immediate``, every backend gone at once, no checkpoint)."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGQUIT if immediate else signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.01)

    def backends(self) -> list[int]:
        """The postmaster and every process it started (their PIDs)."""
        if self.pid is None:
            return []
        return [self.pid, *sorted(child_pids(self.pid))]

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def private(cls) -> Iterator[PostgresServer]:
        """A running server of the caller's own, removed afterwards (the test skips where none can run)."""
        missing = cls.missing()
        if missing:
            pytest.skip(missing)
        server = cls().start()
        try:
            yield server
        finally:
            server.remove()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={quote(str(self.dir), safe='')}"

    def create_database(self, prefix: str = "test") -> str:
        """A new, empty database; its URL."""
        import psycopg  # here: only the PostgreSQL tests pay for the import

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count: the postmaster is not our child to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


class Api:
    """A test's view of one gateway: admin calls, tenants, tokens, and plain httpx.

    ``http`` talks to the serving listener (functions, runs, logs); ``control`` to its control
    plane (tenants, tokens), found in ``CONTROL_URLS`` unless given."""

    def __init__(self, url: str, control_url: str | None = None) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30, trust_env=False)
        self.control_url = control_url or CONTROL_URLS[url]
        self.control = httpx.Client(base_url=self.control_url, timeout=30, trust_env=False)
        self.admin = {"authorization": f"Bearer {ADMIN_KEY}"}

    def create_tenant(self, name: str | None = None, **fields: Any) -> str:
        name = name or unique("t")
        response = self.control.post("/api/tenants", json={"name": name, **fields}, headers=self.admin)
        assert response.status_code == 201, response.text
        wait_for_tenant(self.http, name)
        return name

    def token(self, tenant: str, scopes: str | list[str] = "run,deploy,logs", **fields: Any) -> dict[str, str]:
        response = self.control.post("/api/tokens", json={"tenant": tenant, "scopes": scopes, **fields},
                                     headers=self.admin)
        assert response.status_code == 201, response.text
        return {"authorization": f"Bearer {response.json()['token']}"}

    def delete_tenant(self, name: str) -> None:
        """Delete on the control plane, then wait until the serving listener has forgotten it
        (the change feed: within a poll)."""
        response = self.control.delete(f"/api/tenants/{name}", headers=self.admin)
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 10
        while self.http.get(f"/api/tenants/{name}", headers=self.admin).status_code != 404:
            assert time.monotonic() < deadline, f"the serving listener still knows tenant {name!r}"
            time.sleep(0.02)

    def deploy(self, tenant: str, name: str, code: str, headers: dict[str, str], **fields: Any) -> httpx.Response:
        return self.http.put(f"/api/functions/{tenant}/{name}", json={"code": code, **fields}, headers=headers)

    def deployed(self, tenant: str, name: str, code: str, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        response = self.deploy(tenant, name, code, headers, **fields)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def wait_for_tenant(http: httpx.Client, name: str, timeout: float = 10.0) -> None:
    """Until the serving listener knows a tenant the control plane created (it learns it from the
    registry's change feed within a poll: gateway/service.py)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http.get(f"/api/tenants/{name}", headers={"authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200:
            return
        time.sleep(0.02)
    raise AssertionError(f"the serving listener did not learn of tenant {name!r} in {timeout} s")


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return str(body["error"]["code"])

"""``wasmtask dev``: the project served by an embedded gateway, redeployed on every save.

No set-up: a gateway (the real one, ``create_app``) runs in this process on a
temporary data dir with a random admin key, and the project's function is
deployed to it through the HTTP API, like ``wasmtask deploy`` would. The function
answers at ``http://HOST:PORT/`` (any path; the gateway's own routes, ``/run/...``
and ``/api/...``, stay where they are). watchfiles (inotify: a save is seen in
~50 ms) reports changes of the entry, wasmtask.toml and the .env file; each is
one deploy. A deploy that fails (a syntax or build error, shown with file, line
and column) leaves the previous version serving, as on a real gateway.

Each call is printed when it ends: method, path, status, duration, and the
function's log lines under it (read from the tenant's live log, in process; a
call's lines wait for its end event, at most ``LINES_WAIT_SECONDS``).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from gateway.cli import output
from gateway.cli.client import ApiError, Connection, raise_for_error
from gateway.cli.errors import CliError, UsageProblem
from gateway.cli.project import Project, load, read_env_file
from gateway.cli.target import current_project

GATEWAY_PREFIXES = ("/run/", "/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")
LINES_WAIT_SECONDS = 1.0  # how long a finished call's line waits for its log lines
DEV_TENANT = "dev"


@dataclass
class _Call:
    since: float = field(default_factory=time.monotonic)
    response: tuple[str, str, int, float] | None = None  # method, target, status, milliseconds
    at: float = field(default_factory=time.time)  # when the call ended (or was first heard of)
    lines: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None
    started: bool = False


class CallPrinter:
    """One block per call: its response (from ``DevRouter``) and its log records (from the live log)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: dict[str, _Call] = {}

    def response(self, request_id: str, method: str, target: str, status: int, milliseconds: float) -> None:
        with self.lock:
            call = self.calls.setdefault(request_id, _Call())
            call.response = (method, target, status, milliseconds)
            call.at = time.time()
            self._maybe_print(request_id, call)

    def take(self, record: dict[str, Any]) -> None:
        """A record of the tenant's live log (``tail.RecordSink``)."""
        request_id = str(record.get("request_id") or "")
        if not request_id:
            return  # deploy events: the watcher prints its own
        with self.lock:
            call = self.calls.setdefault(request_id, _Call())
            event = record.get("event")
            if event == "invocation_start":
                call.started = True
            elif event == "invocation_end":
                call.end = record
            else:
                call.lines.append(record)
            self._maybe_print(request_id, call)

    def flush(self, *, everything: bool = False) -> None:
        """Print the calls that waited long enough for their lines."""
        now = time.monotonic()
        with self.lock:
            for request_id, call in list(self.calls.items()):
                waited = now - call.since > LINES_WAIT_SECONDS
                if everything or (waited and (call.response is not None or call.end is not None)):
                    self._print(request_id, call)

    def _maybe_print(self, request_id: str, call: _Call) -> None:
        if call.response is not None and (call.end is not None or (not call.started and not call.lines
                                                                   and call.response[2] in (404, 401, 403, 429))):
            self._print(request_id, call)

    def _print(self, request_id: str, call: _Call) -> None:
        from rich.markup import escape

        del self.calls[request_id]
        end = call.end or {}
        code = str(end.get("code") or "")
        if call.response is not None:
            method, target, status, milliseconds = call.response
        else:
            method, target, status = "", f"(call {request_id})", int(end.get("status") or 0)
            milliseconds = float(end.get("duration_ms") or 0)
        colour = "green" if 200 <= status < 400 else "yellow" if status < 500 else "red"
        version = f" [dim]{escape(str(end['version']))}[/]" if end.get("version") else ""
        outcome = f" {code}" if code and code != "ok" else ""
        clock = time.strftime("%H:%M:%S", time.localtime(call.at))
        output.say(f"[dim]{clock}[/] [bold]{escape(method)}[/] {escape(target)} "
                   f"[{colour}]{status}{escape(outcome)}[/] {milliseconds:.1f} ms{version}")
        for line in call.lines:
            level = str(line.get("level") or "info")
            style = {"error": "red", "warn": "yellow", "debug": "dim"}.get(level, "cyan")
            output.say(f"    [{style}]{level:5}[/] {escape(str(line.get('msg', '')))}")
        if code and code != "ok":
            output.say(f"    [red]{escape(str(end.get('msg', code)))}[/]")


class DevRouter:
    """ASGI around the gateway: any path that is not the gateway's own goes to the project's function
    (``/x`` -> ``/run/{tenant}/{name}/x``); each call's response, and each record of the tenant's live
    log (read in process, from the gateway's own log bus), go to the printer."""

    def __init__(self, app: Any, printer: CallPrinter, target: Any) -> None:
        self.app = app
        self.printer = printer
        self.target = target  # () -> (tenant, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the server's whole life: read the log meanwhile
            reader = asyncio.get_running_loop().create_task(self.read_logs(), name="wasmtask-dev-logs")
            try:
                await self.app(scope, receive, send)
            finally:
                reader.cancel()
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        shown = path + (f"?{query}" if query else "")
        if not path.startswith(GATEWAY_PREFIXES):
            tenant, name = self.target()
            inner = f"/run/{tenant}/{name}" + ("" if path == "/" else path)
            scope = {**scope, "path": inner, "raw_path": inner.encode()}
        if not scope["path"].startswith("/run/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, Any] = {"status": 0, "request_id": ""}

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"x-request-id":
                        seen["request_id"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.printer.response(seen["request_id"] or secrets.token_hex(6), scope["method"], shown,
                                  seen["status"], (time.perf_counter() - started) * 1000)


    async def read_logs(self) -> None:
        """The current tenant's records into the printer, and the printer flushed, until cancelled."""
        bus = self.app.state.gateway.logs
        while True:
            tenant = self.target()[0]
            subscription = bus.subscribe(tenant, replay=False)
            try:
                while tenant == self.target()[0] and not subscription.closed:
                    for event in await subscription.next_batch(timeout=0.2):
                        self.printer.take(dict(event.record))
                    self.printer.flush()
            finally:
                subscription.close()
            if subscription.closed:
                await asyncio.sleep(0.2)


class EmbeddedGateway:
    """The real gateway under uvicorn in a thread of this process, on a temporary data dir."""

    def __init__(self, host: str, port: int, printer: CallPrinter, target: Any) -> None:
        import uvicorn  # here, not at the top: start-up time (the whole server)

        from gateway.app import create_app
        from gateway.config import Settings

        self.stopped = threading.Event()
        self.data_dir = Path(tempfile.mkdtemp(prefix="wasmtask-dev-"))
        self.admin_key = secrets.token_urlsafe(24)
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections labelled TCP (else every
        # small response waits for the client's delayed ACK: gateway/confinement/serving.py)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                                  socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise UsageProblem(f"cannot listen on {host}:{port}: {exc.strerror} (pick another with --port)",
                               code="port_unavailable") from None
        bound_port = self.sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{bound_port}"
        settings = Settings(data_dir=self.data_dir, admin_key=self.admin_key)
        app = create_app(settings)
        self.gateway = app.state.gateway
        # tenants are the control plane's (gateway/control_plane.py): its listener, on a free loopback port
        from gateway.control_plane import create_control_app

        self.control_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.control_sock.bind(("127.0.0.1", 0))
        self.control_url = f"http://127.0.0.1:{self.control_sock.getsockname()[1]}"
        self.control_server = uvicorn.Server(uvicorn.Config(create_control_app(settings), log_level="warning",
                                                            lifespan="on", access_log=False))
        self.control_thread = threading.Thread(target=self.control_server.run,
                                               kwargs={"sockets": [self.control_sock]}, daemon=True,
                                               name="wasmtask-dev-control")
        config = uvicorn.Config(DevRouter(app, printer, target), log_level="warning", lifespan="on",
                                access_log=False, timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name="wasmtask-dev-gateway")

    def start(self) -> EmbeddedGateway:
        self.control_thread.start()
        self.thread.start()
        while not self.server.started or not self.control_server.started:
            if not self.thread.is_alive() or not self.control_thread.is_alive():
                raise CliError("the local gateway did not start (see the messages above)", code="internal_error")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.server.should_exit = True
        self.control_server.should_exit = True
        self.thread.join(timeout=10)
        self.control_thread.join(timeout=10)
        self.sock.close()
        self.control_sock.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def connection(self) -> Connection:
        return Connection(url=self.url, token=None, admin_key=self.admin_key, control_url=self.control_url)


class DevSession:
    """What ``dev`` keeps between deploys: the project as last read, and the version serving."""

    def __init__(self, project: Project, env_file: Path | None) -> None:
        self.project = project
        self.env_file = env_file
        self.serving: str | None = None
        self.tenants: set[str] = set()

    @property
    def tenant(self) -> str:
        return self.project.tenant or DEV_TENANT

    def target(self) -> tuple[str, str]:
        return self.tenant, self.project.name

    def watched(self) -> set[Path]:
        return self.project.watched() | ({self.env_file.resolve()} if self.env_file else set())

    def deploy(self, connection: Connection, *, reload: bool) -> None:
        """Read the project again (``reload``) and deploy it; print what happened, never raise for the user's errors."""
        from gateway.cli.deploy import deploy_project_or_file

        try:
            if reload:
                self.project = load(self.project.manifest)
            secrets_values = read_env_file(self.env_file) if self.env_file and self.env_file.is_file() else {}
            self._ensure_tenant(connection)
            started = time.monotonic()
            answer = deploy_project_or_file(connection, file=None, project=self.project, name=None,
                                            tenant=self.tenant, language=None, secrets=secrets_values)
        except ApiError as error:
            from rich.markup import escape

            location = error.details.get("location") or {}
            where = ":".join(str(location[key]) for key in ("file", "line", "column") if location.get(key))
            name = error.details.get("name")
            still = f"; still serving {self.serving}" if self.serving else "; nothing is serving yet"
            output.say(f"[red]✗ deploy failed[/] ({error.code}{still})")
            output.say(f"  [red]{escape(''.join(f'{part}: ' for part in (where, name) if part) + error.message)}[/]")
            return
        except CliError as error:
            still = f"; still serving {self.serving}" if self.serving else ""
            output.say(f"[red]✗ {error.message}[/]{still}")
            return
        self.serving = answer["version"]
        took = (time.monotonic() - started) * 1000
        output.say(f"[green]✓[/] deployed [bold]{answer['name']}[/] {answer['version']} "
                   f"({answer['language']}, {took:.0f} ms)")

    def _ensure_tenant(self, connection: Connection) -> None:
        if self.tenant in self.tenants:
            return
        with connection.control_client(admin=True) as client:
            response = client.send("POST", "/api/tenants", json={"name": self.tenant})
            if response.status_code not in (201, 409):  # 409: it exists
                raise_for_error(response)
        self.tenants.add(self.tenant)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
              help="The port (0: any free one).")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Secrets for the function, NAME=value lines (default: .env next to wasmtask.toml).")
def dev(host: str, port: int, env_file: Path | None) -> int:
    """Serve the project here on a local gateway; redeploy on every save.

    Prints each call with its status, duration and log lines. A deploy that fails
    (shown with file, line and column) leaves the previous version serving.
    """
    project = current_project()
    if project is None:
        raise UsageProblem("no wasmtask.toml here or above: `wasmtask init` makes a project", code="no_project")
    chosen_env = env_file or (project.root / ".env")
    session = DevSession(project, chosen_env if env_file or chosen_env.is_file() else None)
    printer = CallPrinter()
    with output.progress("starting a local gateway"):
        gateway = EmbeddedGateway(host, port, printer, session.target).start()
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it like Ctrl-C: the temp dir goes too
    try:
        session.deploy(gateway.connection(), reload=False)
        tenant, name = session.target()
        output.say(f"[bold]{name}[/] serving at [link]{gateway.url}/[/]  (also {gateway.url}/run/{tenant}/{name}/)")
        output.say(f"[dim]watching {', '.join(sorted(str(p.relative_to(project.root)) for p in session.watched()))}"
                   " for changes; Ctrl-C stops[/]")
        watch(session, gateway)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        printer.flush(everything=True)
        gateway.stop()
    output.say("[dim]stopped[/]")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def watch(session: DevSession, gateway: EmbeddedGateway) -> None:
    """Redeploy each time a watched file changes (a burst of saves is one deploy), until interrupted."""
    import watchfiles  # here, not at the top: start-up time

    root = session.project.root

    def relevant(change: watchfiles.Change, path: str) -> bool:
        return Path(path).resolve() in session.watched()

    for changes in watchfiles.watch(root, watch_filter=relevant, stop_event=gateway.stopped, debounce=200, step=50,
                                    rust_timeout=1000, yield_on_timeout=False):
        changed = sorted({Path(path).name for _, path in changes})
        output.say(f"[dim]{time.strftime('%H:%M:%S')} changed: {', '.join(changed)}[/]")
        session.deploy(gateway.connection(), reload=True)

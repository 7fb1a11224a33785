"""``wasmtask serve``: the control plane's process (tenants, tokens; it prints the development banner:
admin key, demo token), then the gateway under uvicorn, in this process or several workers."""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import TextIO

import click
import uvicorn

from gateway.app import EVENT_LOOP, create_app, tune_process
from gateway.config import Settings, parse_workers
from gateway.confinement.serving import BUILDER_VARIABLE, confine_serving, run_workers
from gateway.console.server import AssetsMissing, console_settings, start_console
from gateway.control_plane import (
    ControlPlaneFailed,
    ControlPlaneProcess,
    exec_without_credentials,
    serving_environment,
    serving_settings,
)
from gateway.coordination.redis_server import PrivateRedis, RedisServerError
from gateway.service import Gateway
from toolchains.builder import BuilderProcess


def serve(settings: Settings, host: str, port: int, *, demo: bool = True, out: TextIO = sys.stdout,
          console_port: int | None = None, control_host: str = "127.0.0.1", control_port: int | None = None,
          control_url: str | None = None, reexec: bool = False) -> int:
    """Serve until stopped: in this process (one worker), or under uvicorn's supervisor (several).
    ``console_port``: the web console's own origin (gateway/console), none when None.

    First the control plane's process (gateway/control_plane.py) on ``control_port`` (default
    ``port`` + 1): it creates the keys and prints the banner. Then this process drops every key
    that mints credentials (``reexec``: when the operator's environment holds one, it re-executes
    itself without them) before it builds the gateway, which will run guest code. ``control_url``:
    a control plane that runs elsewhere (a service of its own, deploy/compose.yaml): none is started."""
    tune_process()
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    control: ControlPlaneProcess | None = None
    if control_url is None:  # started here, unless a re-executed serve adopts the one it started
        try:
            control = ControlPlaneProcess.adopt() or ControlPlaneProcess.start(
                settings, control_host, control_port or port + 1, serving_url=url, demo=demo)
        except ControlPlaneFailed as exc:
            print(f"wasmtask: {exc}", file=sys.stderr, flush=True)
            return 2
        control_url = control.url
        atexit.register(control.stop)
    if reexec and (settings.admin_key or settings.signing_key):
        exec_without_credentials(sys.orig_argv[1:], control)
    settings = serving_settings(settings, control_url)
    inherited = serving_environment(os.environ)  # what workers and the builder inherit: no key that mints one
    os.environ.clear()
    os.environ.update({**inherited, "WASMTASK_CONTROL_URL": settings.control_url or control_url})
    console_url = None
    if console_port:
        settings, console_url = console_settings(settings, host, console_port)
    # builds (compilers, esbuild) run in the builder process: serving processes never exec (gateway/confinement)
    builder = BuilderProcess.start(artifacts=settings.data_dir / "artifacts")  # it writes them; workers read
    atexit.register(builder.stop)
    os.environ[BUILDER_VARIABLE] = str(builder.directory)  # for --workers N
    gateway = Gateway(settings, compiler=builder.client())  # reads the keys, opens the registry before any worker
    if not demo or control is None:  # with the demo, the control plane printed the banner
        print(f"wasmtask gateway on {url}  (data dir: {settings.data_dir})\n"
              f"  control plane (tenants, tokens) on {control_url}", file=out, flush=True)
    if settings.workers == 1:  # this process will run guest code: it locks itself in while it has one thread
        confine_serving(settings, bind_ports=(port, console_port) if console_port else (port,), gateway=gateway)
    if console_port and console_url:
        show_console(url, host, console_port, console_url, out)
    if settings.workers == 1:
        uvicorn.run(create_app(gateway=gateway), host=host, port=port, log_level="info", loop=EVENT_LOOP,
                    access_log=settings.access_log,  # off by default: each call's events are on its tenant's log
                    timeout_graceful_shutdown=5)
        return 0
    gateway.close()
    return serve_workers(settings, host, port, out)


def show_console(api_url: str, host: str, console_port: int, console_url: str, out: TextIO) -> None:
    """Start the console's listener (a thread of this process) and print its URL, or why it is not there."""
    try:
        start_console(api_url, host, console_port)
    except (AssetsMissing, OSError) as exc:
        print(f"  console: not started ({exc})", file=out, flush=True)
        return
    print(f"  console: {console_url}  (sign in with a tenant token or the admin key)", file=out, flush=True)


def serve_workers(settings: Settings, host: str, port: int, out: TextIO) -> int:
    """``--workers N``: uvicorn's supervisor (one listening socket, a dead worker is replaced,
    SIGTERM drains) over N worker processes, each configured through the environment.

    Several workers share rate limits and live logs through Redis: ``WASMTASK_REDIS_URL``,
    or a private redis-server started here on a unix socket in the data dir (and stopped with us).
    """
    private: PrivateRedis | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        try:
            private = PrivateRedis(settings.data_dir.resolve() / "redis").start()
        except RedisServerError as exc:
            print(f"wasmtask: --workers {settings.workers} needs Redis: set WASMTASK_REDIS_URL, or install "
                  f"redis-server for a private one ({exc})", file=sys.stderr)
            return 2
        redis_url = private.url
        print(f"  {settings.workers} workers sharing a private redis-server ({private.socket})", file=out, flush=True)
    os.environ.update({
        "WASMTASK_DATA_DIR": str(settings.data_dir.resolve()),
        "WASMTASK_WORKERS": str(settings.workers),
        "WASMTASK_REDIS_URL": redis_url,
    })
    try:
        run_workers("gateway.app:worker_app", factory=True, workers=settings.workers, host=host, port=port,
                    log_level="info", loop=EVENT_LOOP, access_log=settings.access_log, timeout_graceful_shutdown=5)
    finally:
        if private is not None:
            private.stop()
    return 0


def _workers(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_workers(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: a number of processes, or auto (e.g. --workers 4)") from None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="The port.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Registry and keys (env WASMTASK_DATA_DIR; default ./data).")
@click.option("--no-demo", is_flag=True, help="Do not create the demo tenant or print its token.")
@click.option("--workers", metavar="N", callback=_workers,
              help="Gateway processes sharing the port: a number or auto (one per CPU); more than 1 needs Redis "
                   "(env WASMTASK_WORKERS; default 1).")
@click.option("--console-port", type=click.IntRange(0, 65535), default=None,
              help="The web console's own port (default: --port + 2; 0: no console).")
@click.option("--control-host", default="127.0.0.1", show_default=True,
              help="The control plane's address (tenants, tokens: the admin's API; keep it private).")
@click.option("--control-port", type=click.IntRange(1, 65535), default=None,
              help="The control plane's port (default: --port + 1).")
@click.option("--control-url", metavar="URL",
              help="Start no control plane: one runs elsewhere, at URL (a service of its own; no demo then).")
def serve_command(host: str, port: int, data_dir: Path | None, no_demo: bool, workers: int | None,
                  console_port: int | None, control_host: str, control_port: int | None,
                  control_url: str | None) -> int:
    """Run the gateway: the HTTP API, the functions' endpoints and the live logs.

    Configuration: the WASMTASK_* variables (gateway/README.md, "Configuration").
    """
    try:
        settings = Settings.from_env(data_dir=data_dir, workers=workers)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if control_port is None and port == 65535 and control_url is None:
        raise click.UsageError("--port 65535 leaves no default --control-port: give one")
    return serve(settings, host, port, demo=not no_demo,
                 console_port=port + 2 if console_port is None and port <= 65533 else console_port,
                 control_host=control_host, control_port=control_port,
                 control_url=control_url.rstrip("/") if control_url else None, reexec=True)

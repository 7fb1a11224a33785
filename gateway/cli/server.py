"""``wasmtask serve``: the gateway under uvicorn, with a development banner (admin key, demo token)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

import click
import uvicorn

from gateway.app import create_app, tune_process
from gateway.config import Settings, parse_workers
from gateway.coordination.redis_server import PrivateRedis, RedisServerError
from gateway.errors import Conflict
from gateway.identity.tokens import SCOPES, issue
from gateway.service import Gateway

DEMO_TENANT = "demo"
DEMO_TOKEN_TTL_SECONDS = 24 * 3600


def ensure_demo_tenant(gateway: Gateway) -> None:
    defaults = gateway.settings.tenant
    try:
        gateway.registry.create_tenant(
            DEMO_TENANT,
            max_limits=defaults.max_limits,
            rate_per_second=defaults.rate_per_second,
            rate_burst=defaults.rate_burst,
            concurrency=gateway.settings.tenant_concurrency,
        )
    except Conflict:
        pass


def banner(gateway: Gateway, url: str, out: TextIO) -> None:
    """What a newcomer needs to curl at once: the admin key (if it is a generated dev key) and a demo token."""
    keys = gateway.keys
    demo = gateway.registry.get_tenant(DEMO_TENANT)
    token, _ = issue(keys.jwt_secret, DEMO_TENANT, list(SCOPES), tenant_id=demo.uid, ttl_seconds=DEMO_TOKEN_TTL_SECONDS)
    data_dir = gateway.settings.data_dir
    lines = [
        f"wasmtask gateway on {url}  (data dir: {data_dir})",
        (f"  admin key (development; stored in {data_dir / 'admin.key'}): {keys.admin_key}"
         if keys.admin_key_generated else "  admin key: from WASMTASK_ADMIN_KEY"),
        f"  token for tenant '{DEMO_TENANT}' (scopes {','.join(SCOPES)}; valid 24 h):",
        f"    export WASMTASK_URL={url}",
        f"    export WASMTASK_TOKEN={token}",
        *([f"    export WASMTASK_ADMIN_KEY={keys.admin_key}   # for wasmtask tenants / token"]
          if keys.admin_key_generated else []),
        "  try:",
        f'    curl -s -X POST "$WASMTASK_URL/api/run/{DEMO_TENANT}?name=you" -H "authorization: Bearer $WASMTASK_TOKEN"'
        " -H 'content-type: text/javascript' --data-binary @examples/webtask-ctx.js",
        f"    wasmtask deploy examples/worker.js --tenant {DEMO_TENANT} --name hello"
        f' && curl -s "$WASMTASK_URL/run/{DEMO_TENANT}/hello?name=you"',
        f"    wasmtask logs --tenant {DEMO_TENANT}"
        f'   # or: curl -N -H "authorization: Bearer $WASMTASK_TOKEN" $WASMTASK_URL/api/logs/{DEMO_TENANT}',
        f"  API reference: {url}/docs  (OpenAPI: {url}/openapi.json)",
    ]
    if shutil.which("wasmtask") is None:
        lines.append(f"  (the CLI is {Path(sys.executable).parent / 'wasmtask'}: `. .venv/bin/activate` puts "
                     "wasmtask on your PATH)")
    print("\n".join(lines), file=out, flush=True)


def serve(settings: Settings, host: str, port: int, *, demo: bool = True, out: TextIO = sys.stdout) -> int:
    """Serve until stopped: in this process (one worker), or under uvicorn's supervisor (several)."""
    tune_process()
    gateway = Gateway(settings)  # creates the keys and the registry before any worker starts
    if demo:
        ensure_demo_tenant(gateway)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    if demo:
        banner(gateway, url, out)
    else:
        print(f"wasmtask gateway on {url}  (data dir: {settings.data_dir})", file=out, flush=True)
    if settings.workers == 1:
        uvicorn.run(create_app(gateway=gateway), host=host, port=port, log_level="info",
                    access_log=settings.access_log,  # off by default: each call's events are on its tenant's log
                    timeout_graceful_shutdown=5)
        return 0
    gateway.close()
    return serve_workers(settings, host, port, out)


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
        uvicorn.run("gateway.app:worker_app", factory=True, workers=settings.workers, host=host, port=port,
                    log_level="info", access_log=settings.access_log, timeout_graceful_shutdown=5)
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
def serve_command(host: str, port: int, data_dir: Path | None, no_demo: bool, workers: int | None) -> int:
    """Run the gateway: the HTTP API, the functions' endpoints and the live logs.

    Configuration: the WASMTASK_* variables (gateway/README.md, "Configuration").
    """
    try:
        settings = Settings.from_env(data_dir=data_dir, workers=workers)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return serve(settings, host, port, demo=not no_demo)

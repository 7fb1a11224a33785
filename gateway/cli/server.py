"""``wasmtask serve``: the gateway under uvicorn, with a development banner (admin key, demo token)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import uvicorn

from gateway.app import create_app
from gateway.config import Settings
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
    ]
    print("\n".join(lines), file=out, flush=True)


SWITCH_INTERVAL_SECONDS = 0.0005


def serve(settings: Settings, host: str, port: int, *, demo: bool = True, out: TextIO = sys.stdout) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gateway = Gateway(settings)
    if demo:
        ensure_demo_tenant(gateway)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    if demo:
        banner(gateway, url, out)
    else:
        print(f"wasmtask gateway on {url}  (data dir: {settings.data_dir})", file=out, flush=True)
    # Guest code runs on worker threads without the GIL, but each host call (a log
    # line, a clock read) needs it back: with the default 5 ms switch interval a
    # busy event loop makes such a call wait up to 5 ms. 0.5 ms bounds that wait.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    uvicorn.run(
        create_app(gateway=gateway),
        host=host,
        port=port,
        log_level="info",
        access_log=settings.access_log,  # off by default: each call's events are on the tenant's log stream
        timeout_graceful_shutdown=5,
    )
    return 0

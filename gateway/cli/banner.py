"""``wasmtask serve``'s start-up banner: the URLs, the dev admin key, a demo tenant and its token.

Printed by the control plane's process (gateway/control_plane.py), the one that
holds the signing key and may read a generated admin key: the serving
process, where guest code runs, never sees either.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TextIO

from gateway.control_plane import ControlPlane
from gateway.errors import Conflict
from gateway.identity.keys import ADMIN_KEY_FILE
from gateway.identity.tokens import SCOPES

DEMO_TENANT = "demo"
DEMO_TOKEN_TTL_SECONDS = 24 * 3600


def ensure_demo_tenant(control: ControlPlane) -> None:
    defaults = control.settings.tenant
    try:
        control.registry.create_tenant(
            DEMO_TENANT,
            max_limits=defaults.max_limits,
            rate_per_second=defaults.rate_per_second,
            rate_burst=defaults.rate_burst,
            concurrency=control.settings.tenant_concurrency,
        )
    except Conflict:
        pass


def banner(control: ControlPlane, url: str, control_url: str, admin_key: str | None, out: TextIO) -> None:
    """What a newcomer needs to curl at once: the URLs, the admin key (if it is a generated dev key) and
    a demo token."""
    demo = control.registry.get_tenant(DEMO_TENANT)
    token, _ = control.issue(DEMO_TENANT, list(SCOPES), tenant_id=demo.uid, ttl_seconds=DEMO_TOKEN_TTL_SECONDS)
    data_dir = control.settings.data_dir
    lines = [
        f"wasmtask gateway on {url}  (data dir: {data_dir})",
        f"  control plane (tenants, tokens) on {control_url}",
        (f"  admin key (development; stored in {data_dir / ADMIN_KEY_FILE}): {admin_key}"
         if admin_key else "  admin key: from WASMTASK_ADMIN_KEY"),
        f"  token for tenant '{DEMO_TENANT}' (scopes {','.join(SCOPES)}; valid 24 h):",
        f"    export WASMTASK_URL={url}",
        f"    export WASMTASK_CONTROL_URL={control_url}",
        f"    export WASMTASK_TOKEN={token}",
        *([f"    export WASMTASK_ADMIN_KEY={admin_key}   # for wasmtask tenants / token"] if admin_key else []),
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

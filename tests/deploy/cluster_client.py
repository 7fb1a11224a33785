"""Drive two real gateways of one deployment: what one is told, the other serves.

    python cluster_client.py --admin-key KEY http://172.28.0.21:8080 http://172.28.0.22:8080

Waits for both to be ready, then: creates a tenant through the first, gets its
token from the second (the same JWT secret), deploys a function with a secret
through the first and times until the second serves it (the same registry and
secret key); deploys v2 through the second and times until the first serves
it; and calls a tenant with a burst of 6 alternately on both (one Redis
bucket). Prints one JSON object; the test judges it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import Any

import httpx

FUNCTION = "module.exports = function (ctx, cb) { cb(null, {version: '%s', secret: ctx.secrets.KEY}); };"
SECRET = "shared-" + uuid.uuid4().hex[:8]


def wait_ready(http: httpx.Client, deadline_s: float = 90) -> dict[str, Any]:
    until = time.monotonic() + deadline_s
    while True:
        try:
            response = http.get("/readyz")
            if response.status_code == 200:
                return dict(response.json())
        except httpx.TransportError:
            pass
        if time.monotonic() > until:
            raise SystemExit(f"{http.base_url} did not become ready")
        time.sleep(0.2)


def until_served(http: httpx.Client, path: str, version: str, deadline_s: float = 10) -> dict[str, Any]:
    """Call ``path`` until it answers ``version``; that answer, the seconds it took and what came before."""
    started = time.monotonic()
    seen: list[Any] = []
    while time.monotonic() - started < deadline_s:
        response = http.get(path)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
        seen.append(body if response.status_code == 200 else response.status_code)
        if isinstance(body, dict) and body.get("version") == version:
            return {"body": body, "after_s": round(time.monotonic() - started, 3), "calls": len(seen)}
        time.sleep(0.02)
    return {"body": None, "after_s": None, "seen": seen[-5:]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--control", required=True, help="the control plane's URL (tenants, tokens)")
    parser.add_argument("gateways", nargs=2)
    args = parser.parse_args()
    first, second = (httpx.Client(base_url=url, timeout=30, trust_env=False) for url in args.gateways)
    control = httpx.Client(base_url=args.control, timeout=30, trust_env=False)
    admin = {"authorization": f"Bearer {args.admin_key}"}
    result: dict[str, Any] = {"ready": [wait_ready(first), wait_ready(second)]}

    tenant = "cluster-" + uuid.uuid4().hex[:8]
    created = control.post("/api/tenants", json={"name": tenant}, headers=admin)
    assert created.status_code == 201, created.text
    token = control.post("/api/tokens", json={"tenant": tenant, "scopes": "run,deploy"}, headers=admin)
    assert token.status_code == 201, token.text
    headers = {"authorization": f"Bearer {token.json()['token']}"}
    path = f"/run/{tenant}/hello"

    deployed = first.put(f"/api/functions/{tenant}/hello", headers=headers,
                         json={"code": FUNCTION % "v1", "secrets": {"KEY": SECRET}})
    assert deployed.status_code == 200, deployed.text
    result["v1_through_the_second"] = until_served(second, path, "v1")
    deployed = second.put(f"/api/functions/{tenant}/hello", headers=headers,
                          json={"code": FUNCTION % "v2", "secrets": {"KEY": SECRET}})
    assert deployed.status_code == 200, deployed.text
    result["v2_through_the_first"] = until_served(first, path, "v2")
    result["secret"] = SECRET

    limited = tenant + "-rl"
    created = control.post("/api/tenants", json={"name": limited, "rate_limit": {"per_second": 0.01, "burst": 6}},
                           headers=admin)
    assert created.status_code == 201, created.text
    token = control.post("/api/tokens", json={"tenant": limited, "scopes": "deploy"}, headers=admin)
    deployed = first.put(f"/api/functions/{limited}/hello", json={"code": FUNCTION % "rl"},
                         headers={"authorization": f"Bearer {token.json()['token']}"})
    assert deployed.status_code == 200, deployed.text
    result["rate_limited"] = [(first, second)[n % 2].get(f"/run/{limited}/hello").status_code for n in range(12)]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drive a real wasmtask gateway: deploy a function that fetches, and call it per target.

    python fetch_client.py --gateway http://10.200.1.1:8080 --admin-key KEY \\
        --allowed-host http://169.254.169.254 URL...

Creates a tenant and a token, deploys FETCHER with the given allow-list (the
app-level egress policy), then calls it once per URL (concurrently) and prints
one JSON object: {url: {"status": HTTP status, "body": the JSON answer}}.
Run it from a namespace that can reach the gateway.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

FETCHER = """
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("url");
    try {
      const response = await fetch(target);
      return Response.json({ reached: true, status: response.status, text: await response.text() });
    } catch (error) {
      return Response.json({ reached: false, error: String(error) });
    }
  },
};
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--control", help="the control plane's URL (default: the gateway's port + 1)")
    parser.add_argument("--allowed-host", action="append", default=[])
    parser.add_argument("--wall-clock-ms", type=int, default=5000)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    http = httpx.Client(base_url=args.gateway, timeout=30, trust_env=False)
    deadline = time.monotonic() + 60
    while True:  # the gateway may still be starting
        try:
            if http.get("/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the gateway did not become ready")
        time.sleep(0.1)
    admin = {"authorization": f"Bearer {args.admin_key}"}
    gateway = urlsplit(args.gateway)
    control = httpx.Client(base_url=args.control or f"{gateway.scheme}://{gateway.hostname}:{(gateway.port or 80) + 1}",
                           timeout=30, trust_env=False)
    tenant = "egress"
    created = control.post("/api/tenants", json={"name": tenant}, headers=admin)
    assert created.status_code in (201, 409), created.text
    token = control.post("/api/tokens", json={"tenant": tenant, "scopes": "run,deploy"}, headers=admin)
    assert token.status_code == 201, token.text
    headers = {"authorization": f"Bearer {token.json()['token']}"}
    deployed = http.put(f"/api/functions/{tenant}/fetcher", headers=headers, json={
        "code": FETCHER, "allowed_hosts": args.allowed_host, "limits": {"wall_clock_ms": args.wall_clock_ms},
    })
    assert deployed.status_code == 200, deployed.text

    def call(url: str) -> dict[str, object]:
        response = http.get(f"/run/{tenant}/fetcher", params={"url": url}, headers=headers)
        try:
            body: object = response.json()
        except ValueError:
            body = response.text
        return {"status": response.status_code, "body": body}

    with ThreadPoolExecutor(len(args.urls)) as pool:
        print(json.dumps(dict(zip(args.urls, pool.map(call, args.urls), strict=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

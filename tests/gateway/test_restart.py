"""``wasmtask serve`` as a real process: the start-up banner, restarts, and a deploy killed midway."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx

from tests.gateway.support import Api, ProcessServer

SECRET = "restart-secret-value-42"
OLD = """
module.exports = function (ctx, cb) { cb(null, { version: "old", secret_ok: ctx.secrets.KEY === "%s" }); };
""" % SECRET
# top-level code that takes ~3 s of wall-clock time to initialise (at deploy, before the snapshot)
SLOW_NEW = """
const until = Date.now() + 3000; while (Date.now() < until) {}
module.exports = function (cb) { cb(null, { version: "new" }); };
"""


def test_serve_prints_a_dev_admin_key_and_a_demo_token(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "data", env={"WASMTASK_ADMIN_KEY": ""}).start(demo=True)
    try:
        output = server.output()
        admin_key = re.search(r"admin key \(development; stored in .*\): (\S+)", output)
        token = re.search(r"export WASMTASK_TOKEN=(\S+)", output)
        control_url = re.search(r"export WASMTASK_CONTROL_URL=(\S+)", output)
        assert admin_key and token and control_url, output
        assert control_url.group(1) == server.control_url
        http = httpx.Client(base_url=server.url, trust_env=False)

        tenants = httpx.get(control_url.group(1) + "/api/tenants",
                            headers={"authorization": f"Bearer {admin_key.group(1)}"}, trust_env=False)
        ran = http.post("/api/run/demo", content="module.exports = function (cb) { cb(null, 'hi'); };",
                        headers={"authorization": f"Bearer {token.group(1)}", "content-type": "text/javascript"})

        assert [t["name"] for t in tenants.json()["tenants"]] == ["demo"]
        assert ran.json() == "hi"
        assert (tmp_path / "data" / "admin.key").read_text().strip() == admin_key.group(1)
    finally:
        server.stop()


def in_flight(url: str) -> float:
    metrics = httpx.get(url + "/metrics", timeout=5).text
    match = re.search(r"^wasmtask_isolates_in_flight (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_restart_keeps_functions_and_secrets_and_a_killed_deploy_keeps_the_old_version(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = ProcessServer(data_dir).start()
    try:
        api = Api(server.url)
        tenant = api.create_tenant("survivor")
        token = api.token(tenant)
        deployed = api.deployed(tenant, "f", OLD, token, secrets={"KEY": SECRET})
        assert api.http.get(f"/run/{tenant}/f").json() == {"version": "old", "secret_ok": True}
    finally:
        server.stop()

    # a clean restart: same function, same secret, same token
    server = ProcessServer(data_dir).start()
    try:
        api = Api(server.url)
        assert api.http.get(f"/run/{tenant}/f").json() == {"version": "old", "secret_ok": True}
        assert api.http.get(f"/api/functions/{tenant}/f", headers=token).json()["version"] == deployed["version"]

        # a deploy of slow-to-initialise code, killed (-9) while it initialises
        outcome: list[object] = []

        def deploy_slowly() -> None:
            try:
                outcome.append(api.deploy(tenant, "f", SLOW_NEW, token, limits={"wall_clock_ms": 10_000}))
            except httpx.TransportError as exc:
                outcome.append(exc)

        deployer = threading.Thread(target=deploy_slowly)
        deployer.start()
        deadline = time.monotonic() + 10
        while in_flight(server.url) < 1:
            assert time.monotonic() < deadline, "the deploy never started initialising"
            time.sleep(0.02)
        server.kill()
        deployer.join(timeout=10)
        assert isinstance(outcome[0], httpx.TransportError)
    finally:
        server.stop()

    server = ProcessServer(data_dir).start()
    try:
        api = Api(server.url)
        assert api.http.get(f"/run/{tenant}/f").json() == {"version": "old", "secret_ok": True}
        versions = api.http.get(f"/api/functions/{tenant}/f/versions", headers=token).json()["versions"]
        assert [v["version"] for v in versions] == [deployed["version"]]
    finally:
        server.stop()
    assert SECRET not in server.output()

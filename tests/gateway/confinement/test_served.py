"""A real ``wasmtask serve`` on loopback, confined: it serves deploys and calls of every kind, and the
escaped guest's moves fail inside it (``GET /debug/sandbox``, served with WASMTASK_SANDBOX_PROBES=1).

The probes (gateway/confinement/probes.py) run in the serving process itself, on a
thread started after confinement, exactly where guest code runs; the control run
(WASMTASK_SANDBOX=off, as root) shows each move succeeds without the confinement.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.confinement import landlock, seccomp
from tests.gateway.support import Api, ProcessServer
from tests.toolchains.support import require_bundler, require_toolchain

REPO = Path(__file__).resolve().parents[3]
HELLO_JS = "module.exports = function (cb) { cb(null, 'hello from js'); };"
PROBES = {"WASMTASK_SANDBOX_PROBES": "1"}
# What every confined serving process must refuse (names from gateway/confinement/probes.py).
# (the admin key is WASMTASK_ADMIN_KEY in these tests: no admin.key file to probe)
ESCAPES = ("exec", "spawn", "fork", "read_shadow", "read_outside", "write_outside", "ptrace_parent", "raw_socket",
           "netlink_socket", "mount", "unshare", "bpf", "read_data_dir:secret.key",
           "read_data_dir:signing.key", "read_data_dir:planted", "create_artifact", "create_module_cache")


def require_kernel_sandbox() -> None:
    if landlock.abi() < 1 or seccomp.available():
        pytest.skip("this kernel lacks Landlock or seccomp")


def served(tmp_path: Path, env: dict[str, str]) -> ProcessServer:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "planted").write_text("another tenant's secret")  # a file in the data dir, not the registry's
    return ProcessServer(data_dir, env)


@pytest.fixture
def confined(tmp_path: Path) -> Iterator[ProcessServer]:
    require_kernel_sandbox()
    server = served(tmp_path, PROBES).start()
    yield server
    server.stop()


def probe(server: ProcessServer) -> dict[str, Any]:
    response = httpx.get(server.url + "/debug/sandbox", timeout=30, trust_env=False)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_readyz_says_both_layers_are_enforced(confined: ProcessServer) -> None:
    ready = httpx.get(confined.url + "/readyz", trust_env=False).json()
    assert ready["status"] == "ready"
    assert ready["sandbox"]["mode"] == "on"
    assert ready["sandbox"]["landlock"].startswith("enforced (ABI ")
    assert ready["sandbox"]["seccomp"] == "enforced"


def test_every_escape_fails_inside_the_serving_process(confined: ProcessServer) -> None:
    found = probe(confined)["probes"]
    assert set(ESCAPES) <= set(found), found
    allowed = {name: result["detail"] for name, result in found.items() if result["allowed"]}
    assert allowed == {}
    assert found["exec"]["detail"].startswith("EPERM")  # seccomp, before Landlock's EACCES
    assert found["read_shadow"]["detail"].startswith("EACCES")  # Landlock


def test_the_control_run_without_confinement_lets_every_escape_through(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the control needs root (raw sockets, mount, ptrace of the parent)")
    server = served(tmp_path, {**PROBES, "WASMTASK_SANDBOX": "off"}).start()
    try:
        deploy_javascript(server)  # an artifact to open for writing
        found = probe(server)
        assert found["sandbox"] == {"mode": "off", "landlock": "off", "seccomp": "off"}
        denied = {name: result["detail"] for name, result in found["probes"].items() if not result["allowed"]}
        assert denied == {}
        assert {*ESCAPES, "write_artifact", "write_module_cache"} <= set(found["probes"])
    finally:
        server.stop()


def deploy_javascript(server: ProcessServer) -> str:
    """A tenant with a JS function ``js`` deployed and called once; returns the tenant's name."""
    api = Api(server.url)
    tenant = api.create_tenant()
    api.deployed(tenant, "js", HELLO_JS, api.token(tenant))
    assert api.http.get(f"/run/{tenant}/js").json() == "hello from js"
    return tenant


def artifacts_of(server: ProcessServer, tenant: str) -> list[Path]:
    return sorted((server.data_dir / "artifacts").glob(f"*/{tenant}/js/*.cwasm"))


def test_an_escaped_guest_can_neither_rewrite_an_artifact_nor_plant_one(confined: ProcessServer) -> None:
    tenant = deploy_javascript(confined)
    assert len(artifacts_of(confined, tenant)) == 1  # written by the builder: the serving process may not

    found = probe(confined)["probes"]

    assert found["write_artifact"]["allowed"] is False, found["write_artifact"]
    assert found["write_artifact"]["detail"].startswith("EACCES")  # Landlock: read-only there
    assert found["create_artifact"]["allowed"] is False
    assert found["create_artifact"]["detail"].startswith("EACCES")


def test_a_cache_miss_is_compiled_by_the_builder_and_the_cache_stays_read_only(tmp_path: Path) -> None:
    require_kernel_sandbox()
    require_toolchain("c")
    cache = tmp_path / "cache"  # a fresh module cache: the C module's code is a real miss
    server = served(tmp_path, {**PROBES, "WASMTASK_CACHE_DIR": str(cache)}).start()
    try:
        api = Api(server.url)
        tenant = api.create_tenant()
        before = set(cache.glob("*.cwasm"))
        api.deployed(tenant, "c", (REPO / "examples/c/hello.c").read_text(), api.token(tenant), language="c")
        answer = api.http.get(f"/run/{tenant}/c", params={"name": "cache"})
        assert answer.json() == {"hello": "cache", "method": "GET", "language": "c"}

        [compiled] = set(cache.glob("*.cwasm")) - before  # written by the builder: the server may not write here
        assert len(compiled.stem) == 64 and compiled.stat().st_size > 0
        [built] = (cache / "guests").glob("c-*.wasm")  # the builder's build cache, next to it
        found = probe(server)["probes"]
        for name in ("create_module_cache", "write_module_cache"):
            assert found[name]["allowed"] is False, found[name]
            assert found[name]["detail"].startswith("EACCES")  # Landlock: read-only there
        assert built.exists()
    finally:
        server.stop()


def restarted_and_called(server: ProcessServer, tenant: str) -> str:
    """The server restarted, its function called once; returns its metrics."""
    server.stop()
    server.start()
    api = Api(server.url)
    assert api.http.get(f"/run/{tenant}/js").json() == "hello from js"
    return api.http.get("/metrics").text


def test_a_confined_server_serves_javascript_from_the_builders_artifact_after_a_restart(tmp_path: Path) -> None:
    require_kernel_sandbox()
    server = served(tmp_path, {})
    server.start()
    try:
        tenant = deploy_javascript(server)
        [artifact] = artifacts_of(server, tenant)
        written = artifact.stat().st_ino

        metrics = restarted_and_called(server, tenant)
        assert "wasmtask_program_loads_total 1.0" in metrics  # mapped from the builder's file...
        assert "wasmtask_program_prepares_total 0.0" in metrics  # ...not snapshotted again
        assert [path.stat().st_ino for path in artifacts_of(server, tenant)] == [written]

        for path in artifact.parent.iterdir():  # this host lost the file: the first call builds it again
            path.unlink()
        metrics = restarted_and_called(server, tenant)
        assert "wasmtask_program_prepares_total 1.0" in metrics
        assert len(artifacts_of(server, tenant)) == 1  # written by the builder again, under the build lock
        assert (artifact.parent / ".lock").exists()
    finally:
        server.stop()


def test_a_confined_server_deploys_and_calls_javascript_c_and_rust(confined: ProcessServer) -> None:
    api = Api(confined.url)
    tenant = api.create_tenant()
    token = api.token(tenant)
    api.deployed(tenant, "js", HELLO_JS, token)
    assert api.http.get(f"/run/{tenant}/js").json() == "hello from js"
    for language, path in (("c", "examples/c/hello.c"), ("rust", "examples/rust/hello.rs")):
        require_toolchain(language)
        api.deployed(tenant, language, (REPO / path).read_text(), token, language=language)  # built by the builder
        answer = api.http.get(f"/run/{tenant}/{language}", params={"name": "sandbox"})
        assert answer.json() == {"hello": "sandbox", "method": "GET", "language": language}


def test_a_confined_server_bundles_npm_imports_in_the_builder(confined: ProcessServer) -> None:
    require_bundler()
    api = Api(confined.url)
    tenant = api.create_tenant()
    token = api.token(tenant)
    code = "import { nanoid } from 'nanoid';\nexport default { fetch() { return new Response(String(nanoid().length)); } };"
    api.deployed(tenant, "ids", code, token)
    assert api.http.get(f"/run/{tenant}/ids").text == "21"
    broken = api.deploy(tenant, "broken", "import x from 'no-such-package-here';\nexport default x;", token)
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "invalid_code"
    assert "no-such-package-here" in broken.json()["error"]["message"]


def test_a_build_error_through_the_builder_names_the_users_file(confined: ProcessServer) -> None:
    require_toolchain("c")
    api = Api(confined.url)
    tenant = api.create_tenant()
    broken = api.deploy(tenant, "c", "void handle(const char *r) { oops; }\n", api.token(tenant), language="c",
                        filename="broken.c")
    assert broken.status_code == 400, broken.text
    assert broken.json()["error"]["code"] == "invalid_code"
    assert "broken.c:1:" in broken.json()["error"]["message"]


def test_each_of_several_workers_is_confined(tmp_path: Path) -> None:
    require_kernel_sandbox()
    server = served(tmp_path, {**PROBES, "WASMTASK_WORKERS": "2"}).start()
    try:
        answers = [probe(server) for _ in range(6)]  # connections land on either worker
        for answer in answers:
            assert answer["sandbox"]["seccomp"] == "enforced"
            assert not [name for name, result in answer["probes"].items() if result["allowed"]]
        api = Api(server.url)
        tenant = api.create_tenant()
        api.deployed(tenant, "js", HELLO_JS, api.token(tenant))
        assert {api.http.get(f"/run/{tenant}/js").json() for _ in range(4)} == {"hello from js"}
    finally:
        server.stop()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_required_without_a_layer_refuses_to_start(tmp_path: Path, workers: str) -> None:
    server = served(tmp_path, {"WASMTASK_SANDBOX": "required", "WASMTASK_SANDBOX_SIMULATE_UNAVAILABLE": "seccomp",
                               "WASMTASK_WORKERS": workers})
    with pytest.raises(RuntimeError, match="the gateway exited"):
        server.start()
    assert server.process is not None and server.process.wait(10) == 2
    assert "WASMTASK_SANDBOX=required, but seccomp is unavailable" in server.output()


def test_on_without_a_layer_serves_with_a_loud_warning_and_readyz_degraded(tmp_path: Path) -> None:
    require_kernel_sandbox()
    server = served(tmp_path, {**PROBES, "WASMTASK_SANDBOX_SIMULATE_UNAVAILABLE": "landlock"}).start()
    try:
        ready = httpx.get(server.url + "/readyz", trust_env=False)
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert "landlock unavailable" in ready.json()["degraded"]["sandbox"]
        assert ready.json()["sandbox"]["seccomp"] == "enforced"
        deadline = time.monotonic() + 5
        while "SANDBOX INCOMPLETE" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "SANDBOX INCOMPLETE: landlock unavailable" in server.output()
        found = probe(server)["probes"]
        assert found["exec"]["allowed"] is False  # seccomp still holds
        assert found["read_data_dir:planted"]["allowed"] is True  # what Landlock would have refused
    finally:
        server.stop()


FETCHER = """
export default {
  async fetch(request, env) {
    const answer = await fetch(env.TARGET + "/healthz");
    return Response.json({ status: answer.status, body: await answer.json() });
  },
};
"""


def test_a_confined_guest_fetch_resolves_names_and_connects(confined: ProcessServer) -> None:
    api = Api(confined.url)
    tenant = api.create_tenant()
    target = f"http://localhost:{confined.port}"  # a name: getaddrinfo inside the confined process
    api.deployed(tenant, "fetcher", FETCHER, api.token(tenant), allowed_hosts=[target], env={"TARGET": target})
    assert api.http.get(f"/run/{tenant}/fetcher").json() == {"status": 200, "body": {"status": "ok"}}

"""The Docker tier: build the real image in a private dockerd and prove its limits.

Runs only with WASMTASK_DOCKER_TESTS=1 (``make test-docker``): it installs
Debian's docker.io and debootstrap if missing, starts its own dockerd
(docker_engine.py), makes the base image (debootstrap, cached under build/),
builds deploy/Dockerfile, runs it the way compose.yaml does with
``--network none``, and reaches it through a veth from a namespace of its own.
Everything it made is removed afterwards, also on failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy import netlab
from tests.deploy.docker_engine import DockerEngine
from tests.deploy.support import DEPLOY, HERE, REPO, real_service_available, require_root, require_tool

sys.path.insert(0, str(DEPLOY))
import launch
import render_egress

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

CONTAINER_ADDRESS = "10.201.0.2"
CLIENT_ADDRESS = "10.201.0.1"
HEALTH = f"tcp:{CONTAINER_ADDRESS}:8080"
ALLOWED = f"tcp:{CLIENT_ADDRESS}:8081"
OTHER_PORT = f"tcp:{CLIENT_ADDRESS}:8082"
METADATA = "tcp:169.254.169.254:80"
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
ADMIN_KEY = "docker-test-admin-key-0123456789"
TIMINGS: dict[str, float] = {}


def compose_limits() -> dict[str, str]:
    """The limits compose.yaml sets (the launcher's defaults if PyYAML is missing)."""
    try:
        import yaml
    except ImportError:
        return {"memory": launch.DEFAULT_MEMORY, "cpus": str(launch.DEFAULT_CPUS), "pids": str(launch.DEFAULT_PIDS)}
    service = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["wasmtask"]
    return {"memory": str(service["mem_limit"]), "cpus": str(service["cpus"]), "pids": str(service["pids_limit"])}


@pytest.fixture(scope="module")
def engine() -> Iterator[DockerEngine]:
    require_root()
    started = time.monotonic()
    dockerd = require_tool("dockerd", "docker.io")
    require_tool("debootstrap", "debootstrap")
    docker = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else require_tool("docker", "docker.io")
    TIMINGS["tools"] = time.monotonic() - started
    engine = DockerEngine(dockerd, docker)
    try:
        started = time.monotonic()
        engine.start()
        TIMINGS["dockerd start"] = time.monotonic() - started
        yield engine
    finally:
        engine.stop()
        print(f"\ndocker tier timings (s): {json.dumps({k: round(v, 1) for k, v in TIMINGS.items()})}")
        print(f"removed cgroups: {[str(p) for p in engine.created_cgroups]}")


def _script(engine: DockerEngine, *command: str, timeout: float, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env={**engine.env(), **(env or {})}, capture_output=True, text=True,
                            timeout=timeout, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


@pytest.fixture(scope="module")
def image(engine: DockerEngine) -> str:
    tag = "wasmtask:test"
    started = time.monotonic()
    _script(engine, str(DEPLOY / "make-base-image.sh"), "wasmtask-base:bookworm", timeout=600)
    TIMINGS["base image"] = time.monotonic() - started
    started = time.monotonic()
    # This machine's CAs (a TLS-intercepting proxy may stand before PyPI): build stage only.
    extra_ca = {"EXTRA_CA_DIR": str(EXTRA_CA_DIR)} if list(EXTRA_CA_DIR.glob("*.crt")) else {}
    _script(engine, str(DEPLOY / "build-image.sh"), tag, timeout=900, env=extra_ca)
    TIMINGS["image build"] = time.monotonic() - started
    return tag


@dataclass
class Container:
    id: str
    pid: int
    netns: str  # the container's namespace, attached under a name
    client: str  # the test's namespace on the other end of the veth


@pytest.fixture(scope="module")
def container(engine: DockerEngine, image: str, ip: str, nft: str) -> Iterator[Container]:
    limits = compose_limits()
    prefix = f"wd{os.getpid() % 100000}"
    name, volume = f"{prefix}-wasmtask", f"{prefix}-data"
    netns, client = f"{prefix}-ctr", f"{prefix}-client"
    run = [
        "run", "-d", "--name", name, "--network", "none",
        "--read-only", "--tmpfs", "/tmp:size=64m,mode=1777",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--memory", limits["memory"], "--memory-swap", limits["memory"],
        "--cpus", limits["cpus"], "--pids-limit", limits["pids"],
        "-v", f"{volume}:/data", "--health-interval", "1s", "--health-timeout", "5s",
        "-e", f"WASMTASK_ADMIN_KEY={ADMIN_KEY}",
    ]
    if real_service_available():
        run.append(image)
    else:  # until `wasmtask serve` exists: the stand-in, in the same image and settings
        run += ["-v", f"{HERE / 'standin_service.py'}:/opt/standin.py:ro", "--entrypoint", "/opt/venv/bin/python",
                image, "/opt/standin.py", "--host", "0.0.0.0", "--port", "8080"]
    world: subprocess.Popen[str] | None = None
    try:
        container_id = engine.cli(*run).stdout.strip()
        pid = int(engine.cli("inspect", "-f", "{{.State.Pid}}", container_id).stdout)
        netlab.run(ip, "netns", "attach", netns, str(pid))
        netlab.run(ip, "netns", "add", client)
        outside, inside = f"{prefix}c", f"{prefix}k"
        netlab.run(ip, "-n", client, "link", "add", outside, "type", "veth", "peer", "name", inside, "netns", netns)
        netlab.run(ip, "-n", client, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", outside)
        netlab.run(ip, "-n", client, "addr", "add", "169.254.169.254/32", "dev", outside)
        netlab.run(ip, "-n", netns, "addr", "add", f"{CONTAINER_ADDRESS}/24", "dev", inside)
        for namespace, link in ((client, outside), (client, "lo"), (netns, inside)):
            netlab.run(ip, "-n", namespace, "link", "set", link, "up")
        netlab.run(ip, "-n", netns, "route", "add", "169.254.169.254/32", "dev", inside)
        servers = [a for target in (ALLOWED, OTHER_PORT, METADATA) for a in ("--tcp", target.removeprefix("tcp:"))]
        world = subprocess.Popen([ip, "netns", "exec", client, sys.executable, str(HERE / "world_server.py"), *servers],
                                 stdout=subprocess.PIPE, text=True)
        assert world.stdout is not None and world.stdout.readline().strip() == "ready"
        yield Container(container_id, pid, netns, client)
    finally:
        netlab.stop(world)
        engine.cli("rm", "-f", "-v", name, check=False)
        engine.cli("volume", "rm", "-f", volume, check=False)
        for namespace in (netns, client):
            netlab.run(ip, "netns", "del", namespace, check=False)


def probe_from(netns: str, *targets: str) -> dict[str, str]:
    result = netlab.run("ip", "netns", "exec", netns, sys.executable, str(HERE / "probe.py"), *targets)
    return json.loads(result.stdout)


def probe_inside(engine: DockerEngine, container: Container, *targets: str) -> dict[str, str]:
    """probe.py run by the service's own Python, as the service user, inside the container."""
    result = subprocess.run([engine.docker, "exec", "-i", container.id, "python", "-", *targets],
                            input=(HERE / "probe.py").read_text(), env=engine.env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_until(predicate, deadline_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    until = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > until:
            pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}")
        time.sleep(0.5)


def test_healthz_answers_through_the_veth(container: Container) -> None:
    wait_until(lambda: probe_from(container.client, HEALTH)[HEALTH] == "ok", 60, "/healthz through the veth")


def test_docker_healthcheck_reports_healthy(engine: DockerEngine, container: Container) -> None:
    def status() -> str:
        return engine.cli("inspect", "-f", "{{.State.Health.Status}}", container.id).stdout.strip()

    wait_until(lambda: status() == "healthy", 90, "the image's HEALTHCHECK to pass")


def test_limits_are_in_force(engine: DockerEngine, container: Container) -> None:
    limits = compose_limits()
    host_config = json.loads(engine.cli("inspect", container.id).stdout)[0]["HostConfig"]
    memory = launch.parse_size(limits["memory"])

    assert host_config["Memory"] == memory
    assert host_config["NanoCpus"] == int(float(limits["cpus"]) * 1e9)
    assert host_config["PidsLimit"] == int(limits["pids"])
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host_config["SecurityOpt"]

    groups = dict(line.split(":", 2)[1:] for line in Path(f"/proc/{container.pid}/cgroup").read_text().splitlines())
    cgroup = Path("/sys/fs/cgroup")
    assert int((cgroup / "memory" / groups["memory"].lstrip("/") / "memory.limit_in_bytes").read_text()) == memory
    cpu = cgroup / "cpu" / groups["cpu"].lstrip("/")
    quota, period = int((cpu / "cpu.cfs_quota_us").read_text()), int((cpu / "cpu.cfs_period_us").read_text())
    assert quota / period == pytest.approx(float(limits["cpus"]))
    assert (cgroup / "pids" / groups["pids"].lstrip("/") / "pids.max").read_text().strip() == limits["pids"]

    lines = Path(f"/proc/{container.pid}/status").read_text().splitlines()
    status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    assert status["Uid"].split()[0] == "10001"
    assert status["NoNewPrivs"].strip() == "1"
    assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0


def test_root_filesystem_is_read_only_and_data_is_writable(engine: DockerEngine, container: Container) -> None:
    def sh(command: str) -> int:
        return engine.cli("exec", container.id, "/bin/sh", "-c", command, check=False).returncode

    assert sh("touch /opt/venv/x") != 0
    assert sh("touch /etc/x") != 0
    assert sh("touch /data/x && rm /data/x") == 0
    assert sh("touch /tmp/x && rm /tmp/x") == 0


def guest_fetches(container: Container, *urls: str) -> dict[str, dict]:
    """A function deployed with an allow-list naming every test host fetches each URL (fetch_client.py)."""
    allowed_hosts = ["http://10.201.0.1:8081", "http://10.201.0.1:8082", "http://169.254.169.254"]
    command = [sys.executable, str(HERE / "fetch_client.py"), "--gateway", f"http://{CONTAINER_ADDRESS}:8080",
               "--admin-key", ADMIN_KEY, *[a for host in allowed_hosts for a in ("--allowed-host", host)], *urls]
    return json.loads(netlab.run("ip", "netns", "exec", container.client, *command).stdout)


def test_egress_ruleset_in_the_container_namespace(engine: DockerEngine, container: Container, nft: str) -> None:
    """Loaded by the host into the container's namespace (the container has no CAP_NET_ADMIN to undo it)."""
    urls = [f"http://{target.removeprefix('tcp:')}/" for target in (ALLOWED, OTHER_PORT, METADATA)]
    control = probe_inside(engine, container, ALLOWED, OTHER_PORT, METADATA)
    assert control == {ALLOWED: "ok", OTHER_PORT: "ok", METADATA: "ok"}, "without rules every test host must answer"
    fetched = guest_fetches(container, *urls) if real_service_available() else {}
    assert all(answer["body"]["reached"] for answer in fetched.values()), fetched

    config = render_egress.config_from([], [ALLOWED.removeprefix("tcp:")], [])
    netlab.run("ip", "netns", "exec", container.netns, nft, "-f", "-", input=render_egress.render(config))
    try:
        result = probe_inside(engine, container, ALLOWED, OTHER_PORT, METADATA)
        inbound = probe_from(container.client, HEALTH)
        fetched = guest_fetches(container, *urls) if real_service_available() else {}
        flush = engine.cli("exec", container.id, "nft", "flush", "ruleset", check=False)
    finally:
        netlab.run("ip", "netns", "exec", container.netns, nft, "delete", "table", "inet", "wasmtask_egress", check=False)

    assert result[ALLOWED] == "ok"
    assert result[OTHER_PORT] != "ok" and result[METADATA] != "ok"
    assert inbound[HEALTH] == "ok", "the ruleset must not stop inbound requests and their replies"
    if fetched:
        assert [fetched[url]["body"]["reached"] for url in urls] == [True, False, False], fetched
    assert flush.returncode != 0  # no nft in the image, and no capability to use one

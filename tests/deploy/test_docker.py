"""The Docker tier: build the real images in a private dockerd and prove their settings.

Runs only with WASMTASK_DOCKER_TESTS=1 (``make test-docker``): it installs
Debian's docker.io and debootstrap if missing, starts its own dockerd
(docker_engine.py), makes the base image (debootstrap, cached under build/),
builds deploy/Dockerfile, runs it the way compose.single.yaml does with
``--network none``, and reaches it through a veth from a namespace of its own.
Then the scaled-out deployment, compose.yaml: it builds the Redis and
PostgreSQL images from the same base and runs Redis, PostgreSQL and two
gateways of two workers each with compose.yaml's settings on a network of its
own (docker_cluster.py). Everything it made is removed afterwards, also on failure.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy import compose_file, netlab
from tests.deploy.docker_cluster import HUB_ADDRESS, Cluster
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
    """The limits compose.single.yaml sets (the launcher's defaults if PyYAML is missing)."""
    try:
        import yaml
    except ImportError:
        return {"memory": launch.DEFAULT_MEMORY, "cpus": str(launch.DEFAULT_CPUS), "pids": str(launch.DEFAULT_PIDS)}
    service = yaml.safe_load((DEPLOY / "compose.single.yaml").read_text())["services"]["wasmtask"]
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
               "--control", f"http://{CONTAINER_ADDRESS}:8081", "--admin-key", ADMIN_KEY, *[a for host in allowed_hosts for a in ("--allowed-host", host)], *urls]
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


# --- the scaled-out deployment: compose.yaml --------------------------------


def fresh_secrets() -> dict[str, str]:
    """What deploy/make-env.py writes into the operator's env file."""
    spec = importlib.util.spec_from_file_location("make_env", DEPLOY / "make-env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.generate())


CLUSTER_SECRETS = fresh_secrets()  # the cluster's env file (the admin key in it goes to no container)


@pytest.fixture(scope="module")
def cluster(engine: DockerEngine, image: str, ip: str) -> Iterator[Cluster]:
    """compose.yaml's redis, postgres, gateway-1 and gateway-2, with its settings and fresh secrets."""
    pytest.importorskip("yaml")
    if not real_service_available():
        pytest.skip("the scaled-out deployment needs the real `wasmtask serve`")
    document = compose_file.load(DEPLOY / "compose.yaml", CLUSTER_SECRETS)
    images: dict[str, str] = {}
    builds: list[list[str]] = []
    for name, service in document["services"].items():
        build = service.get("build")
        if build is None or build["context"] == "..":  # deploy/Dockerfile (gateways, control plane): `image`
            images[name] = image
            continue
        images[name] = service["image"].rpartition(":")[0] + ":test"
        arguments = [a for key, value in (build.get("args") or {}).items() for a in ("--build-arg", f"{key}={value}")]
        builds.append(["build", "-q", "--network", build["network"], *arguments, "-t", images[name],
                       str(DEPLOY / build["context"])])
    started = time.monotonic()
    with ThreadPoolExecutor(len(builds)) as pool:  # Redis and PostgreSQL at once: mostly apt-get downloads
        list(pool.map(lambda command: engine.cli(*command, timeout=600), builds))
    TIMINGS["redis+postgres images"] = time.monotonic() - started
    cluster = Cluster(engine, ip, document, images, holder_image="wasmtask-base:bookworm",
                      prefix=f"wc{os.getpid() % 100000}")
    started = time.monotonic()
    try:
        cluster.up()
        TIMINGS["cluster up"] = time.monotonic() - started
        yield cluster
    finally:
        cluster.down()


def drive_the_cluster(cluster: Cluster) -> dict:
    """cluster_client.py from the hub: tenants and tokens on the control plane, then deploy through one
    gateway, call through the other (and back)."""
    control = cluster.url("control-plane").rsplit(":", 1)[0] + ":8081"
    return cluster.hub_python("cluster_client.py", "--admin-key", CLUSTER_SECRETS["WASMTASK_ADMIN_KEY"],
                              "--control", control, cluster.url("gateway-1"), cluster.url("gateway-2"))


def check_one_service(answers: dict) -> None:
    assert [ready["status"] for ready in answers["ready"]] == ["ready", "ready"], answers["ready"]  # not degraded
    for step, version in (("v1_through_the_second", "v1"), ("v2_through_the_first", "v2")):
        served = answers[step]
        assert served["body"] == {"version": version, "secret": answers["secret"]}, served
        assert served["after_s"] < 2.0, served  # the registry's change feed: 0.2 s (gateway/README.md)
    statuses = answers["rate_limited"]
    assert statuses.count(200) == 6 and set(statuses) == {200, 429}, statuses  # one Redis bucket, burst 6


def test_cluster_deploy_through_one_gateway_call_through_the_other(engine: DockerEngine, cluster: Cluster) -> None:
    started = time.monotonic()
    answers = drive_the_cluster(cluster)
    TIMINGS["cluster calls"] = time.monotonic() - started
    print(f"\ncluster: v1 served by the other gateway after {answers['v1_through_the_second']['after_s']} s, "
          f"v2 after {answers['v2_through_the_first']['after_s']} s; rate limited: {answers['rate_limited']}")
    check_one_service(answers)

    for name, member in cluster.members.items():
        service = cluster.services[name]
        inspected = json.loads(engine.cli("inspect", member.container).stdout)[0]
        host_config = inspected["HostConfig"]
        assert host_config["Memory"] == launch.parse_size(service["mem_limit"]) == host_config["MemorySwap"], name
        assert host_config["NanoCpus"] == int(float(service["cpus"]) * 1e9), name
        assert host_config["PidsLimit"] == int(service["pids_limit"]), name
        assert host_config["ReadonlyRootfs"] is True and host_config["CapDrop"] == ["ALL"], name
        lines = Path(f"/proc/{inspected['State']['Pid']}/status").read_text().splitlines()
        status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
        assert int(status["Uid"].split()[0]) >= 10001, name  # each image's own non-root user
        assert status["NoNewPrivs"].strip() == "1" and int(status["CapEff"], 16) == 0, name
        if name.startswith("gateway"):
            processes = engine.cli("top", member.container, "-eo", "pid,args").stdout
            workers = [line for line in processes.splitlines() if "spawn_main" in line]
            assert len(workers) == int(service["environment"]["WASMTASK_WORKERS"]), processes


def test_cluster_documented_egress_rules_let_the_gateways_reach_redis_and_postgres(
        engine: DockerEngine, cluster: Cluster, ip: str, nft: str) -> None:
    """compose.yaml's render_egress.py command, loaded where the bridge's traffic is routed (the hub)."""
    stores = [f"connect:{cluster.members['redis'].address}:6379", f"connect:{cluster.members['postgres'].address}:5432"]
    other = f"tcp:{HUB_ADDRESS}:8082"  # a private host that is not allowed
    world = subprocess.Popen([ip, "netns", "exec", cluster.hub, sys.executable, str(HERE / "world_server.py"),
                              "--tcp", other.removeprefix("tcp:")], stdout=subprocess.PIPE, text=True)
    try:
        assert world.stdout is not None and world.stdout.readline().strip() == "ready"
        control = cluster.probe_from("gateway-1", *stores, other)
        assert set(control.values()) == {"ok"}, f"without rules every target must answer: {control}"
        arguments = compose_file.documented_egress_arguments(DEPLOY / "compose.yaml")
        documented = render_egress.config_from_args(render_egress.build_parser().parse_args(arguments))
        # On a host: --forward-from the compose bridge; here: the hub's link to each container.
        config = dataclasses.replace(documented, forward_from=tuple(m.link for m in cluster.members.values()))
        netlab.run(ip, "netns", "exec", cluster.hub, nft, "-f", "-", input=render_egress.render(config))
        try:
            result = cluster.probe_from("gateway-1", *stores, other)
            started = time.monotonic()
            engine.cli("restart", cluster.members["gateway-2"].container)  # new connections, under the rules
            cluster.wait_healthy("gateway-2", 120)
            TIMINGS["gateway restart"] = time.monotonic() - started
            answers = drive_the_cluster(cluster)
            counters = netlab.ruleset_counters(ip, nft, cluster.hub)
        finally:
            netlab.run(ip, "netns", "exec", cluster.hub, nft, "delete", "table", "inet", "wasmtask_egress", check=False)
    finally:
        netlab.stop(world)

    assert result == {**{target: "ok" for target in stores}, other: "timeout"}, result
    check_one_service(answers)
    assert counters.get("allowed", 0) > 0 and counters.get("private", 0) > 0, counters

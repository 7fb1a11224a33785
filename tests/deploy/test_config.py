"""The deploy files agree with each other; configuration parses as documented (no root)."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy import compose_file
from tests.deploy.support import DEPLOY

sys.path.insert(0, str(DEPLOY))
import launch
import render_egress
from render_egress import Destination, EgressConfigError, parse_destination

CLUSTER = DEPLOY / "compose.yaml"
SINGLE = DEPLOY / "compose.single.yaml"
GATEWAYS = ("gateway-1", "gateway-2")
STORES = {"redis": ("redis-server", 6379), "postgres": ("postgresql-15", 5432)}
ALL_GATEWAYS = [(SINGLE, "wasmtask"), *((CLUSTER, name) for name in GATEWAYS)]


def make_env_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_env", DEPLOY / "make-env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SECRETS = make_env_module().generate()  # a sample env file's values


def compose(path: Path = CLUSTER, env: dict[str, str] | None = None) -> dict[str, Any]:
    pytest.importorskip("yaml")
    return compose_file.load(path, SECRETS if env is None else env)


def compose_service(path: Path = SINGLE, name: str = "wasmtask") -> dict[str, Any]:
    return compose(path)["services"][name]


def dockerfile_healthcheck(dockerfile: Path) -> list[str]:
    """The exec-form command of a Dockerfile's HEALTHCHECK."""
    text = dockerfile.read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.MULTILINE)
    assert match, f"{dockerfile}: no exec-form HEALTHCHECK"
    return list(json.loads(match.group(1)))


def dockerfile_volumes(dockerfile: Path) -> list[str]:
    return [v for m in re.findall(r"^VOLUME (\[.*\])$", dockerfile.read_text(), re.MULTILINE) for v in json.loads(m)]


# --- the gateways: the single one (compose.single.yaml) and the cluster's (compose.yaml)


@pytest.mark.parametrize(("path", "name"), ALL_GATEWAYS)
def test_compose_limits_match_the_launcher_defaults(path: Path, name: str) -> None:
    service = compose_service(path, name)

    assert launch.parse_size(service["mem_limit"]) == launch.parse_size(launch.DEFAULT_MEMORY)
    assert service["memswap_limit"] == service["mem_limit"]
    assert float(service["cpus"]) == launch.DEFAULT_CPUS
    assert service["pids_limit"] == launch.DEFAULT_PIDS


@pytest.mark.parametrize(("path", "name"), ALL_GATEWAYS)
def test_compose_drops_privileges(path: Path, name: str) -> None:
    service = compose_service(path, name)

    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert any(entry.endswith(":/data") for entry in service["volumes"])
    assert any(entry.startswith("/tmp") for entry in service["tmpfs"])
    assert "/healthz" in " ".join(service["healthcheck"]["test"])
    assert service["pull_policy"] == "never"  # built locally, never fetched from a registry


def test_the_cluster_gateways_are_the_single_gateway_with_shared_state() -> None:
    """Same image, build, limits and lock-down as the single gateway; only state and workers differ."""
    single = compose_service(SINGLE, "wasmtask")
    same = ("image", "build", "read_only", "tmpfs", "cap_drop", "security_opt", "mem_limit", "memswap_limit",
            "cpus", "pids_limit", "healthcheck", "stop_grace_period", "restart", "pull_policy")
    for name in GATEWAYS:
        gateway = compose_service(CLUSTER, name)
        assert {key: gateway[key] for key in same} == {key: single[key] for key in same}, name


def test_dockerfile_runs_the_service_as_documented() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    assert ('ENTRYPOINT ["wasmtask", "serve", "--host", "0.0.0.0", "--port", "8080", "--control-host", "0.0.0.0"]'
            in dockerfile)
    assert "USER 10001:10001" in dockerfile
    assert "WASMTASK_DATA_DIR=/data" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert dockerfile_healthcheck(DEPLOY / "Dockerfile") == compose_service()["healthcheck"]["test"][1:]


# --- the cluster: compose.yaml


def test_no_container_that_runs_guest_code_gets_a_key_that_mints_credentials() -> None:
    """The signing key only in the control plane (no guest code there, no secrets' key); the admin key,
    only its SHA-256, anywhere (the key itself is the operator's, for the CLI)."""
    services = compose()["services"]
    control = services["control-plane"]
    minting = {"WASMTASK_ADMIN_KEY", "WASMTASK_SIGNING_KEY", "WASMTASK_JWT_SECRET"}

    for name in GATEWAYS:
        assert not minting & set(services[name]["environment"]), name
    assert control["environment"]["WASMTASK_SIGNING_KEY"] == SECRETS["WASMTASK_SIGNING_KEY"]
    assert control["environment"]["WASMTASK_ADMIN_KEY_SHA256"] == SECRETS["WASMTASK_ADMIN_KEY_SHA256"]
    assert not {"WASMTASK_ADMIN_KEY", "WASMTASK_SECRET_KEY", "WASMTASK_REDIS_URL"} & set(control["environment"])
    assert control["entrypoint"][1:3] == ["-m", "gateway.control_plane"]
    assert control["ports"] == ["127.0.0.1:8090:8081"], "the admin's API stays on the host's loopback"
    assert control["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert control["read_only"] is True and control["cap_drop"] == ["ALL"]
    assert "8081/healthz" in " ".join(control["healthcheck"]["test"])
    for name in GATEWAYS:  # what a gateway names when asked for a tenant or token route
        assert services[name]["command"][-1].endswith(control["ports"][0].rsplit(":", 2)[1])


def test_the_cluster_is_redis_postgres_and_two_gateways() -> None:
    services = compose()["services"]

    assert set(services) == {"redis", "postgres", "control-plane", *GATEWAYS}
    for name in GATEWAYS:
        gateway = services[name]
        assert gateway["environment"]["WASMTASK_WORKERS"] == "2"
        # no demo tenant, no token printed to the logs; the control plane is a service of its own
        assert gateway["command"] == ["--no-demo", "--control-url", "http://127.0.0.1:8090"]
        assert gateway["depends_on"] == {store: {"condition": "service_healthy"} for store in STORES}
    ports = [services[name]["ports"][0].rsplit(":", 1) for name in GATEWAYS]
    assert [container for _, container in ports] == ["8080", "8080"]
    assert len({host for host, _ in ports}) == 2
    assert all("ports" not in services[store] for store in STORES), "Redis and PostgreSQL stay off the host's ports"
    data = [services[name]["volumes"] for name in GATEWAYS]
    assert data[0] != data[1], "each gateway host has its own data volume (its compiled-module cache)"


def test_the_gateways_point_at_redis_and_postgres() -> None:
    services = compose()["services"]
    redis_env, postgres_env = services["redis"]["environment"], services["postgres"]["environment"]
    for name in GATEWAYS:
        env = services[name]["environment"]
        redis = urlsplit(env["WASMTASK_REDIS_URL"])
        assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", STORES["redis"][1])
        assert redis.password == redis_env["REDIS_PASSWORD"] == SECRETS["WASMTASK_REDIS_PASSWORD"]
        database = urlsplit(env["WASMTASK_DATABASE_URL"])
        assert (database.scheme, database.hostname, database.port) == ("postgresql", "postgres", STORES["postgres"][1])
        assert database.username == postgres_env["POSTGRES_USER"]
        assert database.password == postgres_env["POSTGRES_PASSWORD"] == SECRETS["WASMTASK_POSTGRES_PASSWORD"]
        assert database.path == "/" + postgres_env["POSTGRES_DB"]
        for key in ("WASMTASK_ADMIN_KEY_SHA256", "WASMTASK_TOKEN_PUBLIC_KEY", "WASMTASK_SECRET_KEY"):
            assert env[key] == SECRETS[key], key
    assert "requirepass" not in (DEPLOY / "redis" / "redis.conf").read_text().replace("`requirepass`", "")
    assert re.search(r"^port 6379$", (DEPLOY / "redis" / "redis.conf").read_text(), re.MULTILINE)


@pytest.mark.parametrize("variable", sorted(set(SECRETS) - {"WASMTASK_ADMIN_KEY"}))
def test_every_secret_comes_from_the_env_file(variable: str) -> None:
    """Unset, Compose stops with a message (``${VAR:?...}``); no value is written in the file. (The admin
    key itself is in the env file for the operator's CLI only: no container gets it.)"""
    with pytest.raises(compose_file.MissingVariable, match=variable):
        compose(env={k: v for k, v in SECRETS.items() if k != variable})
    assert "${WASMTASK_ADMIN_KEY:" not in CLUSTER.read_text()


def test_no_secret_is_written_in_compose_yaml() -> None:
    settings = [line for line in CLUSTER.read_text().splitlines()
                if re.match(r"\s*[A-Z_]*(KEY|SECRET|PASSWORD)[A-Z0-9_]*:", line)]
    # the gateways' three keys, the control plane's two, the two servers' passwords (the URLs: see above)
    assert len(settings) == 7
    for line in settings:
        assert re.search(r":\s*\"\$\{WASMTASK_[A-Z0-9_]+:\?[^}]+\}\"$", line), line


@pytest.mark.parametrize("store", sorted(STORES))
def test_redis_and_postgres_images_are_built_here_from_the_local_base(store: str) -> None:
    service = compose()["services"][store]
    dockerfile = DEPLOY / service["build"]["context"] / "Dockerfile"
    text = dockerfile.read_text()
    gateway_base = re.search(r"^ARG BASE_IMAGE=(\S+)$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)

    assert service["pull_policy"] == "never"
    assert service["build"]["args"] == compose_service(CLUSTER, "gateway-1")["build"]["args"]
    assert gateway_base and f"ARG BASE_IMAGE={gateway_base.group(1)}" in text
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.MULTILINE)
    assert re.search(rf"apt-get install .*--no-install-recommends {STORES[store][0]}\b", text)
    assert re.search(r"^USER 100\d\d:100\d\d$", text, re.MULTILINE), "a fixed non-root user"
    for line in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
        assert (dockerfile.parent / line).is_file(), line


@pytest.mark.parametrize("store", sorted(STORES))
def test_redis_and_postgres_keep_data_on_volumes_and_have_healthchecks(store: str) -> None:
    document = compose()
    service = document["services"][store]
    dockerfile = DEPLOY / service["build"]["context"] / "Dockerfile"

    volume, _, target = service["volumes"][0].partition(":")
    assert volume in document["volumes"]
    assert [target] == dockerfile_volumes(dockerfile)
    assert service["healthcheck"]["test"] == ["CMD", *dockerfile_healthcheck(dockerfile)]
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert launch.parse_size(service["mem_limit"]) < launch.parse_size(launch.DEFAULT_MEMORY)
    assert service["memswap_limit"] == service["mem_limit"]
    assert service["cpus"] and service["pids_limit"]
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile.read_text(), re.MULTILINE)
    assert user
    for entry in service.get("tmpfs", []):  # writable by the image's non-root user
        options = dict(option.split("=", 1) for option in entry.partition(":")[2].split(",") if "=" in option)
        assert (options.get("uid"), options.get("gid")) == user.groups(), entry


def test_documented_egress_rules_let_the_gateways_reach_redis_and_postgres() -> None:
    """The render_egress.py command in compose.yaml (and the README) allows exactly the stores' ports."""
    document = compose()
    network = document["networks"]["default"]
    subnet = render_egress.parse_network(network["ipam"]["config"][0]["subnet"])
    arguments = compose_file.documented_egress_arguments(CLUSTER)
    config = render_egress.config_from_args(render_egress.build_parser().parse_args(arguments))

    assert config.forward_from == (network["driver_opts"]["com.docker.network.bridge.name"],)
    expected = []
    for store, (_, port) in sorted(STORES.items()):
        address = render_egress.parse_network(document["services"][store]["networks"]["default"]["ipv4_address"])
        assert address.subnet_of(subnet)  # type: ignore[arg-type]
        expected.append(Destination(address, port, port))
        assert f"--allow {address.network_address}:{port}" in (DEPLOY / "README.md").read_text()
    assert sorted(config.allow, key=str) == sorted(expected, key=str)
    assert "add element inet wasmtask_egress allow_v4 { 172.28.0.10 . 6379, 172.28.0.11 . 5432 }" in (
        render_egress.render(config))


@pytest.mark.parametrize("path", [CLUSTER, SINGLE])
def test_every_compose_key_has_a_docker_run_translation(path: Path) -> None:
    """The Docker tier runs the services from these files through compose_file.run_arguments."""
    document = compose(path)
    for service in document["services"].values():
        flags, _ = compose_file.run_arguments(service, project="p", volumes=document.get("volumes"))
        assert "--read-only" in flags and flags[flags.index("--cap-drop"):][:2] == ["--cap-drop", "ALL"]


def test_make_env_writes_fresh_secrets_once(tmp_path: Path) -> None:
    path = tmp_path / "wasmtask.env"
    make_env = make_env_module()

    assert make_env.main([str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = compose_file.read_env_file(path)
    assert set(values) == set(SECRETS)
    assert values != make_env.generate()
    for name, value in values.items():
        assert len(value) >= 16 and re.fullmatch(r"[A-Za-z0-9._~=-]+", value), name
    assert len(base64.urlsafe_b64decode(values["WASMTASK_SECRET_KEY"])) == 32  # a Fernet key
    from gateway.identity.keys import AdminKey, decode_private, encode_public

    assert AdminKey.from_plaintext(values["WASMTASK_ADMIN_KEY"]).hex == values["WASMTASK_ADMIN_KEY_SHA256"]
    assert encode_public(decode_private(values["WASMTASK_SIGNING_KEY"]).public_key()) == values[
        "WASMTASK_TOKEN_PUBLIC_KEY"]  # derived without cryptography (the script is standard library only)
    compose(env=values)  # every variable compose.yaml needs is there
    before = path.read_text()
    assert make_env.main([str(path)]) == 1  # never replaced: a new secret key would orphan stored secrets
    assert path.read_text() == before


def test_the_env_file_is_kept_out_of_git() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is missing")
    result = subprocess.run([git, "check-ignore", "-q", str(make_env_module().DEFAULT)], cwd=DEPLOY)
    assert result.returncode == 0, "deploy/.gitignore must ignore deploy/wasmtask.env"


@pytest.mark.parametrize("script", ["redis/entrypoint.sh", "redis/healthcheck.sh",
                                    "postgres/entrypoint.sh", "postgres/healthcheck.sh"])
def test_container_scripts_parse(script: str) -> None:
    assert subprocess.run(["sh", "-n", str(DEPLOY / script)]).returncode == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.200.1.2:8080", Destination(render_egress.parse_network("10.200.1.2"), 8080, 8080)),
        ("10.0.0.0/8", Destination(render_egress.parse_network("10.0.0.0/8"), 0, 65535)),
        ("10.0.0.5:8000-8100", Destination(render_egress.parse_network("10.0.0.5"), 8000, 8100)),
        ("[fd00::1]:443", Destination(render_egress.parse_network("fd00::1"), 443, 443)),
        ("fd00::/8", Destination(render_egress.parse_network("fd00::/8"), 0, 65535)),
    ],
)
def test_destinations_parse(text: str, expected: Destination) -> None:
    assert parse_destination(text) == expected


@pytest.mark.parametrize("text", ["example.com:443", "10.0.0.1:70000", "10.0.0.1:9-1", "[fd00::1", "10.0.0.1:http"])
def test_bad_destinations_are_refused(text: str) -> None:
    with pytest.raises(EgressConfigError):
        parse_destination(text)


def test_render_fills_sets_and_keeps_the_rules() -> None:
    config = render_egress.config_from(["10.0.0.2", "fd00::53"], ["10.200.1.2:8080", "[fd00::5]:443"], ["80,443"])

    text = render_egress.render(config)

    assert text.startswith((DEPLOY / "egress.nft").read_text().rstrip("\n"))
    assert "add element inet wasmtask_egress resolvers_v4 { 10.0.0.2 }" in text
    assert "add element inet wasmtask_egress resolvers_v6 { fd00::53 }" in text
    assert "add element inet wasmtask_egress allow_v4 { 10.200.1.2 . 8080 }" in text
    assert "add element inet wasmtask_egress allow_v6 { fd00::5 . 443 }" in text
    assert "add element inet wasmtask_egress public_ports { 80, 443 }" in text


def test_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "egress.toml"
    path.write_text('resolvers = ["10.0.0.2"]\nallow = ["10.30.0.0/16:443"]\npublic_ports = [80, 443]\nuid = 10001\n')

    config = render_egress.load_config(path)

    assert config.uid == 10001
    assert config.public_ports == ((80, 80), (443, 443))
    assert config.allow == (Destination(render_egress.parse_network("10.30.0.0/16"), 443, 443),)


def test_uid_and_forward_scopes_are_exclusive() -> None:
    with pytest.raises(EgressConfigError):
        render_egress.render(render_egress.config_from([], [], [], uid=10001, forward_from=["wasmtask0"]))


def test_launcher_refuses_to_filter_the_whole_host_by_accident() -> None:
    args = launch.build_parser().parse_args(["--no-cgroup"])

    with pytest.raises(launch.LaunchError, match="--netns, --user or --whole-netns"):
        launch.launch(args, ["true"])


@pytest.mark.parametrize(
    ("text", "size"),
    [("67108864", 64 << 20), ("64M", 64 << 20), ("64MiB", 64 << 20), ("1G", 1 << 30), ("1.5g", 3 << 29)],
)
def test_sizes(text: str, size: int) -> None:
    assert launch.parse_size(text) == size

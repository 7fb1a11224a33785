"""The deploy files agree with each other; configuration parses as documented (no root)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY

sys.path.insert(0, str(DEPLOY))
import launch
import render_egress
from render_egress import Destination, EgressConfigError, parse_destination


def compose_service() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["wasmtask"]


def test_compose_limits_match_the_launcher_defaults() -> None:
    service = compose_service()

    assert launch.parse_size(service["mem_limit"]) == launch.parse_size(launch.DEFAULT_MEMORY)
    assert service["memswap_limit"] == service["mem_limit"]
    assert float(service["cpus"]) == launch.DEFAULT_CPUS
    assert service["pids_limit"] == launch.DEFAULT_PIDS


def test_compose_drops_privileges() -> None:
    service = compose_service()

    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert "data:/data" in service["volumes"]
    assert any(entry.startswith("/tmp") for entry in service["tmpfs"])
    assert "/healthz" in " ".join(service["healthcheck"]["test"])


def test_dockerfile_runs_the_service_as_documented() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    assert 'ENTRYPOINT ["wasmtask", "serve", "--host", "0.0.0.0", "--port", "8080"]' in dockerfile
    assert "USER 10001:10001" in dockerfile
    assert "WASMTASK_DATA_DIR=/data" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile


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

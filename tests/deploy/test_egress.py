"""The egress ruleset, proven in network namespaces this module makes (root; seconds).

Every test host lives in the ``world`` namespace (netlab.py), so no packet
leaves the two namespaces these tests create.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy import netlab
from tests.deploy.netlab import ALL_TARGETS, ALLOWED, METADATA, OTHER_PORT, OTHER_RESOLVER, PRIVATE, RESOLVER, Lab
from tests.deploy.support import DEPLOY, REPO, real_service_available, service_command

sys.path.insert(0, str(DEPLOY))
import render_egress

CONFIG = ["--resolver", "10.200.1.53", "--allow", "10.200.1.2:8080"]


def rendered(*arguments: str) -> str:
    return render_egress.render(render_egress.config_from_args(render_egress.build_parser().parse_args(list(arguments))))


@pytest.fixture(scope="module")
def lab(ip: str, nft: str) -> Iterator[Lab]:
    lab = Lab(ip, nft)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


@pytest.fixture
def clean(lab: Lab) -> Iterator[Lab]:
    """The lab with no ruleset loaded before and after the test."""
    lab.clear_ruleset()
    try:
        yield lab
    finally:
        lab.clear_ruleset()


def test_ruleset_blocks_what_the_control_pass_reaches(clean: Lab) -> None:
    control = clean.probe(*ALL_TARGETS)
    assert control == {target: "ok" for target in ALL_TARGETS}, "without rules every test host must answer"

    clean.load_ruleset(rendered(*CONFIG))
    result = clean.probe(*ALL_TARGETS)

    assert result[ALLOWED] == "ok"
    assert result[RESOLVER] == "ok"
    for blocked in (METADATA, PRIVATE, OTHER_PORT, OTHER_RESOLVER):
        assert result[blocked] != "ok", f"{blocked} was reachable through the ruleset"
    counters = clean.counters()
    assert counters["metadata"] >= 1
    assert counters["private"] >= 3  # PRIVATE, OTHER_PORT, OTHER_RESOLVER


def test_metadata_stays_blocked_when_an_allow_entry_covers_it(clean: Lab) -> None:
    clean.load_ruleset(rendered("--allow", "169.254.0.0/16", "--allow", "10.200.1.0/24"))

    result = clean.probe(METADATA, PRIVATE, OTHER_PORT)

    assert result[METADATA] != "ok"
    assert result[PRIVATE] == "ok"  # a private range is reachable only through an allow entry
    assert result[OTHER_PORT] == "ok"


def test_ruleset_alone_allows_only_loopback_and_replies(clean: Lab) -> None:
    clean.load_ruleset((DEPLOY / "egress.nft").read_text())

    result = clean.probe(*ALL_TARGETS)

    assert all(outcome != "ok" for outcome in result.values()), result


def test_loading_twice_replaces_the_table(clean: Lab) -> None:
    clean.load_ruleset(rendered("--allow", "10.200.1.3:8080"))
    clean.load_ruleset(rendered(*CONFIG))

    result = clean.probe(ALLOWED, PRIVATE)

    assert result == {ALLOWED: "ok", PRIVATE: result[PRIVATE]} and result[PRIVATE] != "ok"


def test_uid_scope_filters_only_the_service_user(clean: Lab) -> None:
    nobody = 65534
    clean.load_ruleset(rendered(*CONFIG, "--uid", str(nobody)))

    as_root = clean.probe(PRIVATE, METADATA)
    as_service = clean.probe(ALLOWED, PRIVATE, METADATA, uid=nobody)

    assert as_root == {PRIVATE: "ok", METADATA: "ok"}
    assert as_service[ALLOWED] == "ok"
    assert as_service[PRIVATE] != "ok" and as_service[METADATA] != "ok"


def test_forward_scope_filters_routed_traffic_and_not_the_host(clean: Lab) -> None:
    control = clean.probe(ALLOWED, PRIVATE, METADATA, netns=clean.guest)
    assert control == {ALLOWED: "ok", PRIVATE: "ok", METADATA: "ok"}

    clean.load_ruleset(rendered(*CONFIG, "--forward-from", clean.bridge))
    routed = clean.probe(ALLOWED, RESOLVER, PRIVATE, OTHER_RESOLVER, METADATA, netns=clean.guest)
    local = clean.probe(PRIVATE, METADATA)

    assert routed[ALLOWED] == "ok" and routed[RESOLVER] == "ok"
    assert all(routed[target] != "ok" for target in (PRIVATE, OTHER_RESOLVER, METADATA)), routed
    assert local == {PRIVATE: "ok", METADATA: "ok"}, "the host's own traffic is out of this scope"


ADMIN_KEY = "deploy-test-admin-key-0123456789"


@contextlib.contextmanager
def launched_service(lab: Lab, data_dir: Path, *launcher_flags: str) -> Iterator[subprocess.Popen[str]]:
    """The service started by deploy/launch.py inside svc (cgroup, ruleset, no_new_privs); stopped by PID."""
    name = f"egress-{lab.prefix}"
    command = [
        sys.executable, str(DEPLOY / "launch.py"), "--netns", lab.svc, "--name", name,
        "--memory", "512M", "--cpus", "1", "--pids", "128", "--data-dir", str(data_dir), *launcher_flags,
        "--", *service_command("0.0.0.0", 8080),
    ]
    log = open(data_dir.parent / "service.log", "w")
    process = subprocess.Popen(command, cwd=REPO, text=True, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "WASMTASK_ADMIN_KEY": ADMIN_KEY})
    try:
        yield process
    finally:
        netlab.stop(process)
        log.close()
        subprocess.run([sys.executable, str(DEPLOY / "launch.py"), "--remove", "--name", name], check=False)


def test_service_runs_behind_the_ruleset_and_answers_inbound(clean: Lab, tmp_path: Path) -> None:
    health = f"tcp:{netlab.SERVICE_ADDRESS}:8080"

    with launched_service(clean, tmp_path / "data", *CONFIG) as process:
        result = clean.wait_for_http(health, netns=clean.world)

        assert process.poll() is None, (tmp_path / "service.log").read_text()
        assert result[health] == "ok", (tmp_path / "service.log").read_text()
        assert clean.has_ruleset()
        assert f"wasmtask-egress-{clean.prefix}" in Path(f"/proc/{process.pid}/cgroup").read_text()
        assert "NoNewPrivs:\t1" in Path(f"/proc/{process.pid}/status").read_text()


def test_launcher_puts_an_outbound_client_behind_the_ruleset(clean: Lab) -> None:
    name = f"client-{clean.prefix}"
    command = [
        sys.executable, str(DEPLOY / "launch.py"), "--netns", clean.svc, "--name", name, *CONFIG,
        "--", sys.executable, str(netlab.HERE / "probe.py"), ALLOWED, RESOLVER, METADATA, PRIVATE,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    finally:
        subprocess.run([sys.executable, str(DEPLOY / "launch.py"), "--remove", "--name", name], check=False)

    outcome = json.loads(result.stdout)
    assert outcome[ALLOWED] == "ok" and outcome[RESOLVER] == "ok"
    assert outcome[METADATA] != "ok" and outcome[PRIVATE] != "ok"


@pytest.mark.skipif(not real_service_available(), reason="needs guest fetch (the real `wasmtask serve`)")
def test_guest_fetch_allowed_by_a_misconfigured_app_allow_list_is_stopped_by_the_ruleset(clean: Lab, tmp_path: Path) -> None:
    """The function's allow-list wrongly grants the metadata address and a private host: the ruleset still stops both."""
    allowed, metadata, private = "http://10.200.1.2:8080/", "http://169.254.169.254/", "http://10.200.1.3:8080/"
    misconfigured = ["http://10.200.1.2:8080", "http://169.254.169.254", "http://10.200.1.3:8080"]

    def guest_fetches() -> dict[str, dict]:
        command = [sys.executable, str(netlab.HERE / "fetch_client.py"), "--gateway", f"http://{netlab.SERVICE_ADDRESS}:8080",
                   "--admin-key", ADMIN_KEY, "--wall-clock-ms", "2000",
                   *[a for host in misconfigured for a in ("--allowed-host", host)], allowed, metadata, private]
        return json.loads(netlab.run(*clean.exec_in(clean.world, *command)).stdout)

    with launched_service(clean, tmp_path / "data", "--no-egress"):
        control = guest_fetches()
        clean.load_ruleset(rendered(*CONFIG))
        enforced = guest_fetches()

    for url in (allowed, metadata, private):
        assert control[url]["body"]["reached"] is True, f"control: the app-level list lets {url} through: {control[url]}"
    assert enforced[allowed]["body"] == control[allowed]["body"]
    for url in (metadata, private):
        assert enforced[url]["body"].get("reached") is False, f"{url} was fetched through the ruleset: {enforced[url]}"
        assert "fetch failed" in enforced[url]["body"]["error"]  # a network failure, not the app's egress_denied
    assert clean.counters()["metadata"] >= 1 and clean.counters()["private"] >= 1

"""The launcher's cgroup limits, proven on real processes (root; seconds).

Each test runs a small hostile Python program through deploy/launch.py, so
what is proven is the launcher's own cgroup set-up, not a copy of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, require_root

sys.path.insert(0, str(DEPLOY))
import launch

MIB = 1 << 20

MEMORY_HOG = """
chunks = []
for _ in range(256):
    chunks.append(bytearray(1 << 20))  # touched: bytearray zero-fills
print("allocated 256 MiB")
"""

FORK_BOMB = """
import os, time
read_end, write_end = os.pipe()
children, refused = [], None
for _ in range(200):
    try:
        pid = os.fork()
    except BlockingIOError as exc:  # EAGAIN: the pids controller said no
        refused = exc.errno
        break
    if pid == 0:
        os.close(write_end)
        os.read(read_end, 1)  # wait until the parent closes the pipe
        os._exit(0)
    children.append(pid)
os.close(write_end)
for pid in children:
    os.waitpid(pid, 0)
print(len(children), refused)
"""

BUSY_LOOP = """
import time
start = time.monotonic()
while time.monotonic() - start < 1.5:
    pass
print(time.process_time(), time.monotonic() - start)
"""


@pytest.fixture
def cgroup_name() -> Iterator[str]:
    require_root()
    name = f"test-{os.getpid()}"
    try:
        launch.find_cgroup(name)
    except launch.LaunchError as exc:
        pytest.skip(f"no usable cgroup hierarchy: {exc}")
    try:
        yield name
    finally:
        cgroup = launch.find_cgroup(name)
        for directory in set(cgroup.directories.values()):
            procs = directory / "cgroup.procs"
            for pid in procs.read_text().split() if procs.exists() else []:
                os.kill(int(pid), signal.SIGKILL)  # leftovers of the program this test started
        cgroup.remove()


def run_limited(name: str, program: str, *limits: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(DEPLOY / "launch.py"), "--name", name, "--no-egress", *limits,
               "--", sys.executable, "-c", textwrap.dedent(program)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def control_file(name: str, controller: str, v1: str, v2: str) -> str:
    cgroup = launch.find_cgroup(name)
    return (cgroup.directories[controller] / (v1 if cgroup.version == 1 else v2)).read_text()


def stat(name: str, controller: str, v1: str, v2: str) -> dict[str, int]:
    lines = control_file(name, controller, v1, v2).split("\n")
    return {key: int(value) for key, value in (line.split() for line in lines if line.strip())}


def test_memory_limit_ends_in_an_oom_kill(cgroup_name: str) -> None:
    control = run_limited(cgroup_name, MEMORY_HOG, "--memory", "1G")
    assert control.returncode == 0 and "allocated" in control.stdout, control.stderr

    result = run_limited(cgroup_name, MEMORY_HOG, "--memory", "64M")

    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stdout, result.stderr)
    assert "allocated" not in result.stdout
    assert int(control_file(cgroup_name, "memory", "memory.limit_in_bytes", "memory.max")) == 64 * MIB
    events = stat(cgroup_name, "memory", "memory.oom_control", "memory.events")
    assert events["oom_kill"] >= 1


def test_pids_limit_stops_a_fork_bomb(cgroup_name: str) -> None:
    result = run_limited(cgroup_name, FORK_BOMB, "--pids", "32")

    assert result.returncode == 0, result.stderr
    forked, refused = result.stdout.split()
    assert int(forked) < 32
    assert refused == "11"  # EAGAIN
    assert control_file(cgroup_name, "pids", "pids.max", "pids.max").strip() == "32"
    assert stat(cgroup_name, "pids", "pids.events", "pids.events")["max"] >= 1


def test_cpu_quota_throttles(cgroup_name: str) -> None:
    result = run_limited(cgroup_name, BUSY_LOOP, "--cpus", "0.2")

    assert result.returncode == 0, result.stderr
    cpu_seconds, wall_seconds = map(float, result.stdout.split())
    assert cpu_seconds < 0.35 * wall_seconds, f"{cpu_seconds:.2f} s CPU in {wall_seconds:.2f} s at a 20% quota"
    throttled = stat(cgroup_name, "cpu", "cpu.stat", "cpu.stat")
    assert throttled["nr_throttled"] >= 1


def test_v2_layout(tmp_path: Path) -> None:
    """cgroup v2 is not usable on this machine: check the files the launcher writes, in a stand-in tree."""
    for directory in (tmp_path, tmp_path / "session"):
        directory.mkdir(exist_ok=True)
        (directory / "cgroup.subtree_control").write_text("")
    group = tmp_path / "session" / "wasmtask-x"
    cgroup = launch.Cgroup(2, {c: group for c in launch.CONTROLLERS}, mount=tmp_path)

    cgroup.create(launch.Limits(memory_bytes=64 * MIB, cpus=0.5, pids=32))

    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (tmp_path / "session" / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (group / "memory.max").read_text() == str(64 * MIB)
    assert (group / "cpu.max").read_text() == "50000 100000"
    assert (group / "pids.max").read_text() == "32"

"""A private Docker engine for the Docker tier: its own dockerd, state and cgroup parent.

Nothing is shared with another Docker on the machine: data-root, exec-root,
pidfile and socket live in one temporary directory; dockerd makes no bridge,
no iptables rules and no IP forwarding; container cgroups go under a parent
named after this test process at the root of each hierarchy. ``stop()``
removes containers, images, volumes, dockerd (by PID), the directory and
those cgroups.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_hierarchies() -> list[Path]:
    return [p for p in CGROUP_ROOT.iterdir() if p.is_dir() and (p / "cgroup.procs").exists()] if CGROUP_ROOT.exists() else []


def _remove_cgroup_tree(directory: Path) -> None:
    """rmdir a cgroup and its children, deepest first (they must be empty of processes)."""
    for child in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        child.rmdir()
    directory.rmdir()


@dataclass
class DockerEngine:
    dockerd: str
    docker: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wtd", dir="/tmp")))
    cgroup_parent: str = field(default_factory=lambda: f"wasmtask-test-{os.getpid()}")
    process: subprocess.Popen[bytes] | None = None
    created_cgroups: list[Path] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    def start(self, timeout_s: float = 60.0) -> None:
        before = {h / name for h in _cgroup_hierarchies() for name in (self.cgroup_parent, "docker") if (h / name).exists()}
        log = open(self.root / "dockerd.log", "wb")
        self.process = subprocess.Popen(
            [self.dockerd, "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "x"),
             "--pidfile", str(self.root / "dockerd.pid"), "-H", f"unix://{self.socket}",
             "--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
             "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", f"/{self.cgroup_parent}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._before = before
        deadline = time.monotonic() + timeout_s
        while self.cli("version", check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start:\n{self.log_tail()}")
            time.sleep(0.3)

    def log_tail(self, lines: int = 40) -> str:
        path = self.root / "dockerd.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER": self.docker, "DOCKER_BUILDKIT": "0"}

    def cli(self, *args: str, check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([self.docker, *args], env=self.env(), capture_output=True, text=True, timeout=timeout,
                                input=input)
        if check and result.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def stop(self) -> None:
        """Remove everything this engine made; safe to call after a failed start."""
        if self.process is not None and self.process.poll() is None:
            ids = self.cli("ps", "-aq", check=False).stdout.split()
            if ids:
                self.cli("rm", "-f", "-v", *ids, check=False)
            self.cli("system", "prune", "-a", "-f", "--volumes", check=False, timeout=300)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for line in reversed(Path("/proc/self/mounts").read_text().splitlines()):
            mount_point = line.split()[1]
            if mount_point.startswith(str(self.root) + "/"):
                subprocess.run(["umount", "-l", mount_point], check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        for hierarchy in _cgroup_hierarchies():
            for name in (self.cgroup_parent, "docker"):
                directory = hierarchy / name
                if directory.exists() and directory not in getattr(self, "_before", set()):
                    _remove_cgroup_tree(directory)
                    self.created_cgroups.append(directory)

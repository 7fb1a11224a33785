"""Helpers for the host-layer tests: paths, root, tools, and how the service is started."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEPLOY = REPO / "deploy"
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"


# --- the service under test: the one place to switch it --------------------


@functools.cache
def real_service_available() -> bool:
    """Whether `wasmtask serve` exists in this venv (it answers `serve --help`)."""
    wasmtask = Path(sys.executable).parent / "wasmtask"
    if os.environ.get("WASMTASK_DEPLOY_SERVICE") == "standin" or not wasmtask.exists():
        return False
    result = subprocess.run([str(wasmtask), "serve", "--help"], capture_output=True, timeout=60)
    return result.returncode == 0


def service_command(host: str, port: int) -> list[str]:
    """How the tests start the service: the real `wasmtask serve`, or the stand-in until it exists."""
    if real_service_available():
        # the control plane (tenants, tokens) on port + 1, on the same address: the tests' clients reach it
        return [str(Path(sys.executable).parent / "wasmtask"), "serve", "--host", host, "--port", str(port),
                "--control-host", host]
    return [sys.executable, str(HERE / "standin_service.py"), "--host", host, "--port", str(port)]


# --- root and tools ---------------------------------------------------------


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: it creates network namespaces, cgroups and nftables rules")


POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def _apt_install(packages: list[str]) -> bool:
    """apt-get install, with `apt-get update` first if that fails; never starts a service.

    Debian's docker.io would start a system dockerd (bridge, iptables rules) on a
    host without a policy-rc.d: one that refuses every start is in place for
    the install (the Debian convention) and removed again if we put it there.
    """
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    placed = not POLICY_RC_D.exists()
    if placed:
        POLICY_RC_D.write_text("#!/bin/sh\n# put here by wasmtask's tests during apt-get install\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    try:
        if subprocess.run(command, env=env, capture_output=True).returncode == 0:
            return True
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        return subprocess.run(command, env=env, capture_output=True).returncode == 0
    finally:
        if placed:
            POLICY_RC_D.unlink(missing_ok=True)


@functools.cache
def find_tool(binary: str, package: str) -> str | None:
    """The tool's path, installing its Debian package once if it is missing (as root)."""
    search = os.environ.get("PATH", "") + ":" + SBIN_PATH
    found = shutil.which(binary, path=search)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_install([package])
        found = shutil.which(binary, path=search)
    return found


def require_tool(binary: str, package: str) -> str:
    require_root()
    found = find_tool(binary, package)
    if found is None:
        pytest.skip(f"{binary} is missing and `apt-get install {package}` did not provide it")
    return found

"""Peers on the same machine, serving the same hello Workers module: bare Starlette, workerd, Node vm, Node spawn.

Each ``start_*`` returns a started Server or raises PeerUnavailable with the reason.
A system named ``<name>-<N>w`` is ``<name>`` with N worker processes (``starlette-2w``:
uvicorn's supervisor over 2 workers; ``wasmtask-2w``: ``wasmtask serve --workers 2`` + Redis).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from benches.processes import Server, free_port

SERVERS_DIR = Path(__file__).parent / "servers"
REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_PREFIX = REPO_ROOT / "build" / "bench-node"
# The version FACTS.md measured; pinned so runs compare.
WORKERD_PACKAGE = "workerd@1.20261117.1"

PEERS = ("starlette", "workerd", "node-vm", "node-spawn")
LABELS = {
    "wasmtask": "wasmtask, 1 worker",
    "starlette": "bare Starlette, 1 worker",
    "workerd": "workerd",
    "node-vm": "Node vm per request",
    "node-spawn": "Node spawn per request",
}
_WORKERS_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<workers>\d+)w$")


def with_workers(system: str, workers: int) -> str:
    """The system's name with ``workers`` processes: ``starlette`` and 2 -> ``starlette-2w`` (1 -> itself)."""
    return system if workers == 1 else f"{system}-{workers}w"


def split_workers(system: str) -> tuple[str, int]:
    """The inverse of ``with_workers``: ``starlette-2w`` -> (``starlette``, 2)."""
    match = _WORKERS_SUFFIX.match(system)
    return (match["base"], int(match["workers"])) if match else (system, 1)


def label(system: str) -> str:
    base, workers = split_workers(system)
    if workers == 1:
        return LABELS.get(system, system)
    name = LABELS.get(base, base).removesuffix(", 1 worker")
    return f"{name}, {workers} workers" + (" + Redis" if base == "wasmtask" else "")


class PeerUnavailable(RuntimeError):
    """A peer's runtime is missing; the message says which and how to get it."""


def node_binary() -> str | None:
    return shutil.which("node")


def workerd_binary(install: bool = True) -> str:
    """workerd from npm in build/bench-node/ (the package ships the binary); installed there on first use."""
    binary = NODE_PREFIX / "node_modules" / ".bin" / "workerd"
    if binary.exists():
        return str(binary)
    npm = shutil.which("npm")
    if not install or npm is None:
        raise PeerUnavailable(f"workerd not installed in {NODE_PREFIX} and npm not found "
                              f"(npm install --prefix {NODE_PREFIX} {WORKERD_PACKAGE})")
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [npm, "install", "--prefix", str(NODE_PREFIX), "--no-audit", "--no-fund", WORKERD_PACKAGE],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    if completed.returncode != 0 or not binary.exists():
        raise PeerUnavailable(f"npm install {WORKERD_PACKAGE} into {NODE_PREFIX} failed: "
                              f"{completed.stderr.strip()[-500:]}")
    try:
        subprocess.run([str(binary), "--version"], capture_output=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        raise PeerUnavailable(f"workerd from npm does not run here: {error}") from error
    return str(binary)


def start_starlette(work_dir: Path, workers: int = 1) -> Server:
    port = free_port()
    name = with_workers("starlette", workers)
    argv = [sys.executable, str(SERVERS_DIR / "starlette_hello.py"), str(port), str(workers)]
    return Server(name, argv, port, work_dir / f"{name}.log").start()


def start_workerd(work_dir: Path, hello_js: Path) -> Server:
    binary = workerd_binary()
    config_dir = work_dir / "workerd"
    config_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(SERVERS_DIR / "workerd.capnp", config_dir / "workerd.capnp")
    shutil.copy(hello_js, config_dir / "hello.js")
    port = free_port()
    argv = [binary, "serve", "workerd.capnp", "--socket-addr", f"http=127.0.0.1:{port}"]
    return Server("workerd", argv, port, work_dir / "workerd.log", cwd=config_dir).start()


def _node_server(name: str, script: str, work_dir: Path, hello_js: Path) -> Server:
    node = node_binary()
    if node is None:
        raise PeerUnavailable("node not found on PATH (apt-get install -y nodejs)")
    port = free_port()
    argv = [node, str(SERVERS_DIR / script), str(hello_js), str(port)]
    return Server(name, argv, port, work_dir / f"{name}.log", env={**os.environ, "NODE_ENV": "production"}).start()


def start(name: str, work_dir: Path, hello_js: Path) -> Server:
    base, workers = split_workers(name)
    if base == "starlette":
        return start_starlette(work_dir, workers)
    if name == "workerd":
        return start_workerd(work_dir, hello_js)
    if name == "node-vm":
        return _node_server(name, "node_vm.js", work_dir, hello_js)
    if name == "node-spawn":
        return _node_server(name, "node_spawn.js", work_dir, hello_js)
    raise ValueError(f"unknown peer {name!r}")

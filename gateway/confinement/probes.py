"""``GET /debug/sandbox``: the serving process tries what a guest that escaped Wasm would, and reports.

Served only when the process started with ``WASMTASK_SANDBOX_PROBES=1`` (the
route does not exist otherwise). The probes are fixed: no input chooses what
runs, so the route is no way in even when on. Each runs on a new thread (which
inherits the process's confinement, and whose namespace changes, if any,
end with it) and reports whether the kernel let it through:

- ``exec``: execve("/bin/sh") with an argv the kernel cannot read, so that a
  permitted call fails with EFAULT after the checks instead of replacing the
  server; ``spawn``: subprocess.run(["/bin/true"]); ``fork``: os.fork().
- ``read_shadow``, ``read_outside`` (/etc/hostname), ``read_data_dir:NAME``: the
  keys in the data dir, and a file named ``planted`` there when a test put one.
- ``write_outside``: create a file in /tmp.
- ``write_artifact``: open a prepared program's .cwasm (native code every worker
  maps: any tenant's, the first found) for writing, writing nothing;
  ``create_artifact``: create a file in the artifacts directory (both written
  only by the builder process: gateway/artifact_files.py).
- ``write_module_cache``: open a compiled module of the module cache (native
  code every worker maps) for writing, writing nothing; ``create_module_cache``:
  create a file there (both written only by the builder process under
  ``wasmtask serve``: isolates/module_cache.py; the toolchains' ``guests/`` and
  ``bundles/`` caches are under it).
- ``ptrace_parent``: PTRACE_SEIZE of the parent (nothing stops: a seize
  neither stops nor signals the tracee).
- ``raw_socket``, ``netlink_socket``, ``mount`` (of a path that does not
  exist: permitted, it fails with ENOENT), ``unshare`` (a new UTS namespace, for
  the probing thread only), ``bpf``.

A control run with ``WASMTASK_SANDBOX=off`` (as root) shows each one allowed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.config import Settings
from gateway.confinement import current
from gateway.http import JSONResponse
from isolates.module_cache import default_cache_dir

SYS_EXECVE = 59
SYS_PTRACE = 101
SYS_MOUNT = 165
SYS_BPF = 321
PTRACE_SEIZE = 0x4206
CLONE_NEWUTS = 0x04000000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class Denied(Exception):
    pass


def _syscall(number: int, *args: object) -> int:
    result = int(_libc.syscall(number, *args))
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return result


def probe_exec() -> str:
    try:
        _syscall(SYS_EXECVE, b"/bin/sh", ctypes.c_void_p(1), ctypes.c_void_p(0))
    except OSError as exc:
        if exc.errno == errno.EFAULT:  # past every check: only the bad argv stopped it
            return "execve reached the program loader"
        raise
    return "execve returned"


def probe_spawn() -> str:
    return f"/bin/true exited {subprocess.run(['/bin/true'], check=False).returncode}"


def probe_fork() -> str:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return f"forked {pid}"


def probe_read(path: str) -> Callable[[], str]:
    def read() -> str:
        with open(path, "rb") as file:
            return f"read {len(file.read(64))} bytes of {path}"
    return read


def probe_write_outside() -> str:
    path = f"/tmp/wasmtask-sandbox-probe-{os.getpid()}"
    with open(path, "w") as file:
        file.write("escaped")
    os.unlink(path)
    return f"wrote {path}"


def probe_write_artifact(path: str) -> Callable[[], str]:
    def write() -> str:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC))
        return f"opened {path} for writing"
    return write


def probe_create_artifact(directory: Path) -> Callable[[], str]:
    def create() -> str:
        path = directory / f"planted-{os.getpid()}.cwasm"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
        path.unlink()
        return f"created {path}"
    return create


def probe_ptrace_parent() -> str:
    _syscall(SYS_PTRACE, PTRACE_SEIZE, os.getppid(), None, None)
    return f"seized {os.getppid()} (released when this process ends)"


def probe_raw_socket() -> str:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    return "raw ICMP socket"


def probe_netlink_socket() -> str:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()
    return "netlink socket"


def probe_mount() -> str:
    try:
        _syscall(SYS_MOUNT, b"none", b"/nonexistent-wasmtask-probe", b"tmpfs", 0, None)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return "mount reached path lookup"
        raise
    return "mounted"


def probe_unshare() -> str:
    if _libc.unshare(CLONE_NEWUTS) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return "new UTS namespace"


def probe_bpf() -> str:
    try:
        _syscall(SYS_BPF, 0, None, 0)  # BPF_MAP_CREATE with no attributes
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EFAULT):
            return "bpf reached attribute checks"
        raise
    return "bpf answered"


def probes(settings: Settings, data_files: list[str]) -> dict[str, Callable[[], str]]:
    found: dict[str, Callable[[], str]] = {
        "exec": probe_exec, "spawn": probe_spawn, "fork": probe_fork,
        "read_shadow": probe_read("/etc/shadow"), "read_outside": probe_read("/etc/hostname"),
        "write_outside": probe_write_outside, "ptrace_parent": probe_ptrace_parent,
        "raw_socket": probe_raw_socket, "netlink_socket": probe_netlink_socket, "mount": probe_mount,
        "unshare": probe_unshare, "bpf": probe_bpf,
    }
    for path in data_files:
        found[f"read_data_dir:{Path(path).name}"] = probe_read(path)
    artifacts = settings.data_dir.resolve() / ARTIFACTS
    found["create_artifact"] = probe_create_artifact(artifacts)
    artifact = first_artifact(artifacts)
    if artifact is not None:
        found["write_artifact"] = probe_write_artifact(artifact)
    cache = default_cache_dir().resolve()
    found["create_module_cache"] = probe_create_artifact(cache)
    compiled = next((entry.path for entry in sorted(os.scandir(cache), key=lambda entry: entry.name)
                     if entry.name.endswith(".cwasm") and entry.is_file()), None) if cache.is_dir() else None
    if compiled is not None:
        found["write_module_cache"] = probe_write_artifact(compiled)
    return found


def first_artifact(directory: Path) -> str | None:
    """A prepared program's .cwasm under ``directory`` (listing it is reading: allowed), if any."""
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".cwasm"):
                return os.path.join(root, name)
    return None


def run_probe(probe: Callable[[], str]) -> dict[str, object]:
    """One probe on a thread of its own: ``{"allowed": bool, "detail": str}``."""
    result: dict[str, object] = {}

    def attempt() -> None:
        try:
            result.update(allowed=True, detail=probe())
        except OSError as exc:
            result.update(allowed=False, detail=f"{errno.errorcode.get(exc.errno or 0, exc.errno)}: {exc.strerror}")

    thread = threading.Thread(target=attempt, name="wasmtask-sandbox-probe")
    thread.start()
    thread.join()
    return result


ARTIFACTS = "artifacts"  # under the data dir (gateway/artifacts.py)
# The files a data dir holds besides the registry: the keys (gateway/identity/keys.py), and what a test plants.
DATA_DIR_FILES = ("admin.key", "signing.key", "secret.key", "jwt.key", "planted")


def data_dir_files(settings: Settings) -> list[str]:
    """Those of ``DATA_DIR_FILES`` that exist (a stat: Landlock lets that through, not an open)."""
    data_dir = settings.data_dir.resolve()
    return [str(data_dir / name) for name in DATA_DIR_FILES if (data_dir / name).exists()]


def probe_routes(settings: Settings) -> list[BaseRoute]:
    """The probe route when ``settings.sandbox_probes``; nothing otherwise."""
    if not settings.sandbox_probes:
        return []

    async def sandbox(request: Request) -> Response:
        state = current()
        results = {name: run_probe(probe) for name, probe in probes(settings, data_dir_files(settings)).items()}
        return JSONResponse({"sandbox": state.to_dict() if state else None, "probes": results})

    return [Route("/debug/sandbox", sandbox, methods=["GET"])]

"""What a serving process may touch after boot: the paths it reads, the files and directories it writes,
the TCP ports it binds. Computed from its settings before it confines itself (gateway/confinement/__init__.py).

Read-only: this Python (the interpreter, its stdlib, the venv with every dependency),
wasmtask's own packages, the runtime artifacts under build/, the system's shared
libraries (/usr, /lib), the few files under /etc that libc, DNS and TLS read, and
this process's own /proc entry. Never executed: the ruleset grants no EXECUTE.

Read-only too: ``artifacts`` in the data dir, the prepared programs the host's
workers share (gateway/artifacts.py). They are native code every worker maps,
so only the builder process writes them, compiling each from Wasm itself
(gateway/artifact_files.py, toolchains/builder.py). So is the module cache
(``default_cache_dir()``: compiled modules and components keyed by their
Wasm's hash, and the toolchains' ``guests/`` and ``bundles/`` build caches): on
a miss the builder compiles the Wasm it is sent and writes the file under the
name those bytes make (isolates/module_cache.py).

Read-write: the registry's SQLite files (the database, its WAL and shared-memory
files, each by name: not the data dir, where the keys are) and a private temp
dir in the data dir.

Not reachable: everything else, notably the keys in the data dir, other users'
files, /etc/shadow, the toolchains (builds run in the builder process,
toolchains/builder.py).
"""

from __future__ import annotations

import importlib.util
import os
import site
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.config import Settings
from gateway.registry import REGISTRY_FILE
from isolates.module_cache import default_cache_dir
from toolchains.sandbox import ETC_FILES

# wasmtask's own packages (importable code and data: the SDKs, the console's sources)
PACKAGES = ("gateway", "isolates", "host_api", "toolchains", "guest_sdk")
# What libc's name lookup and TLS read, besides the dynamic loader's files.
NETWORK_ETC_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/host.conf", "/etc/gai.conf", "/etc/services",
                     "/etc/protocols", "/etc/ssl", "/etc/ca-certificates", "/etc/mime.types")
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/sys/devices/system/cpu", "/dev/urandom", "/dev/random")
DEVICES_WRITE = ("/dev/null",)
# The registry's files in the data dir: SQLite opens the WAL and shared-memory files next to the database
# and keeps them while a connection is open (the gateway holds two for its life).
SQLITE_SUFFIXES = ("", "-wal", "-shm")
TEMP_DIR = "tmp"  # under the data dir: TMPDIR of a confined process
# The data dir's directories that serving processes write (their temp dir), and those they only read (the
# prepared programs the host's workers share, written by the builder: gateway/artifacts.py). Created before
# confinement.
WORKING_DIRS = (TEMP_DIR,)
READ_DIRS = ("artifacts",)


@dataclass(frozen=True)
class Policy:
    read: tuple[str, ...]
    write_files: tuple[str, ...]
    write_dirs: tuple[str, ...]
    bind_ports: tuple[int, ...] = ()

    def describe(self) -> dict[str, object]:
        return {"read": list(self.read), "write": [*self.write_files, *self.write_dirs],
                "bind_tcp": list(self.bind_ports)}


def python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(value for key, value in sysconfig.get_paths().items() if key in ("stdlib", "platstdlib",
                                                                                  "purelib", "platlib"))
    paths.update(site.getsitepackages())  # not sys.path: with `python -m` it starts with the working directory
    return sorted(paths)


def package_paths() -> list[str]:
    paths: list[str] = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            paths.extend(os.path.realpath(location) for location in spec.submodule_search_locations)
    return paths


def build_paths() -> list[str]:
    """The runtime artifacts: build/ (jsrt.wasm, the console's assets) and the JS runtime's own path."""
    repo = Path(__file__).resolve().parent.parent.parent
    paths = [os.environ.get("WASMTASK_BUILD_DIR", str(repo / "build"))]
    runtime = os.environ.get("WASMTASK_JS_RUNTIME")
    if runtime:
        paths.append(runtime)
    return paths


def temp_dir(settings: Settings) -> Path:
    return settings.data_dir.resolve() / TEMP_DIR


def working_dirs(settings: Settings) -> list[Path]:
    return [settings.data_dir.resolve() / name for name in WORKING_DIRS]


def read_dirs(settings: Settings) -> list[Path]:
    return [settings.data_dir.resolve() / name for name in READ_DIRS]


def serving_policy(settings: Settings, bind_ports: Iterable[int] = ()) -> Policy:
    """The policy of a process that serves calls with ``settings`` (its working paths must exist already)."""
    data_dir = settings.data_dir.resolve()
    registry = [] if settings.database_url else [str(data_dir / (REGISTRY_FILE + s)) for s in SQLITE_SUFFIXES]
    proc_self = os.path.realpath("/proc/self")  # /proc/PID: this process's own entries, not its neighbours'
    read = [*SYSTEM_READ, *ETC_FILES, *NETWORK_ETC_FILES, proc_self, *python_paths(), *package_paths(),
            *build_paths(), *map(str, read_dirs(settings)),  # not the data dir: its key files get no rule
            str(default_cache_dir().resolve())]  # written by the builder (isolates/module_cache.py)
    return Policy(
        read=tuple(dict.fromkeys(read)),
        write_files=(*DEVICES_WRITE, *registry),
        write_dirs=tuple(map(str, working_dirs(settings))),
        bind_ports=tuple(bind_ports),
    )

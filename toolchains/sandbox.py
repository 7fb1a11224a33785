"""Run one compiler in a subprocess: its own time, memory and file-size limits (prlimit), its own
environment, and (Landlock, where the kernel has it) only the files it needs.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolchains import landlock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildLimits:
    """What one build may use.

    timeout_s
        wall-clock seconds for each compiler process; over it, its whole
        process group is killed.
    memory_bytes
        RLIMIT_DATA: writable private memory (heap and anonymous mappings).
        Unlike RLIMIT_AS it does not count address space that is only reserved,
        which V8 (node) and wasmtime (componentize-py) reserve by the gigabyte.
    address_space_bytes
        RLIMIT_AS, the hard ceiling on the process's virtual memory.
    output_bytes
        RLIMIT_FSIZE: the largest file the compiler may write.
    """

    timeout_s: float = 60.0
    memory_bytes: int = 1 << 30
    address_space_bytes: int = 4 << 30
    output_bytes: int = 256 << 20


@dataclass(frozen=True)
class Confinement:
    """The paths a compiler may read (and execute), and those it may also write."""

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()

    def plus(self, read: Sequence[str | Path] = (), write: Sequence[str | Path] = ()) -> Confinement:
        return Confinement(self.read + tuple(map(str, read)), self.write + tuple(map(str, write)))


def _interpreter_paths() -> list[str]:
    executable = Path(sys.executable)
    return sorted({sys.prefix, sys.base_prefix, str(executable.parent), str(executable.resolve().parent.parent)})


# From /etc only what a dynamic loader and libc look at (not shadow, not the server's own config).
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives", "/etc/ssl/openssl.cnf")

# What every compiler may read: the system, and this Python (zig and componentize-py run in it).
SYSTEM = Confinement(
    read=("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", *ETC_FILES, *_interpreter_paths()),
    write=("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"),
)


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: str  # stdout and stderr, interleaved


PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"  # util-linux, in every Debian base image


class BuildTimedOut(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the build ran over its time limit of {seconds:g} s")
        self.seconds = seconds


# The environment a compiler sees: nothing from the server's own environment
# (tokens, keys) besides what locates the tools and their caches.
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "ZIG_GLOBAL_CACHE_DIR", "XDG_CACHE_HOME")


def compiler_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(extra or {})
    return env


def sandbox_missing() -> str | None:
    """Why builds cannot be limited here, or None."""
    return None if os.access(PRLIMIT, os.X_OK) else f"{PRLIMIT} is missing (apt-get install util-linux)"


def limited_command(argv: Sequence[str], limits: BuildLimits) -> list[str]:
    """``argv`` under util-linux ``prlimit``: the limits are set before the compiler starts.

    (Not ``preexec_fn``: it runs Python between fork and exec, which the
    subprocess docs call unsafe in a threaded process such as the gateway.)
    """
    cpu_seconds = int(limits.timeout_s) + 5
    return [
        PRLIMIT,
        f"--data={limits.memory_bytes}",
        f"--as={limits.address_space_bytes}",
        f"--fsize={limits.output_bytes}",
        f"--cpu={cpu_seconds}",
        "--core=0",
        "--",
        *argv,
    ]


_warned_unconfined = False


def confined_command(argv: Sequence[str], confinement: Confinement | None) -> list[str]:
    """``argv`` under toolchains/landlock.py, or as it is where Landlock is unavailable."""
    global _warned_unconfined
    if confinement is None:
        return list(argv)
    if landlock.abi_version() < 1:
        if not _warned_unconfined:
            logger.warning("Landlock is not available: guest builds can read any file the server can read")
            _warned_unconfined = True
        return list(argv)
    wrapper = [sys.executable, "-I", landlock.__file__]
    for path in confinement.read:
        wrapper += ["--read", path]
    for path in confinement.write:
        wrapper += ["--write", path]
    return [*wrapper, "--", *argv]


def run_limited(
    argv: Sequence[str],
    *,
    cwd: Path,
    limits: BuildLimits,
    env: dict[str, str] | None = None,
    confinement: Confinement | None = None,
) -> Finished:
    """Run ``argv`` in ``cwd`` under ``limits`` (and ``confinement``); raise BuildTimedOut when it overruns."""
    process = subprocess.Popen(
        limited_command(confined_command(argv, confinement), limits),
        cwd=cwd,
        env=compiler_environment(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a timeout kills the compiler's children too
    )
    try:
        output, _ = process.communicate(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:  # the group ended on its own meanwhile
            pass
        process.communicate()
        raise BuildTimedOut(limits.timeout_s) from None
    return Finished(process.returncode, output.decode("utf-8", "replace"))

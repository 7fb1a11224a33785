"""Run one compiler in a subprocess with its own time, memory and file-size limits (prlimit)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


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


def run_limited(argv: Sequence[str], *, cwd: Path, limits: BuildLimits, env: dict[str, str] | None = None) -> Finished:
    """Run ``argv`` in ``cwd`` under ``limits``; raise BuildTimedOut when it overruns."""
    process = subprocess.Popen(
        limited_command(argv, limits),
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

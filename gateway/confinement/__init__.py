"""A serving process locks itself in after boot: Landlock (files, TCP bind, signals) and seccomp-bpf (syscalls).

Wasm is the first wall; this is the second. A guest that escaped wasmtime would
run with this process's rights, so after boot (keys read, registry open, builder
started, and before uvicorn, asyncio or wasmtime start a thread) the process
gives up for the rest of its life:

- every file but the ones it serves from (``policy.py``): the installed code
  and its module cache read-only, the registry's SQLite files read-write, not
  the keys in the data dir, not /etc/shadow, not the toolchains;
- binding any TCP port but its listener's, signalling or reaching abstract
  unix sockets of processes outside its own Landlock domain;
- starting programs or processes, tracing, namespaces, mounts, BPF, keyrings,
  raw and netlink sockets (``seccomp.py``).

Builds, which must exec compilers, run in the builder process
(toolchains/builder.py), started before the serving process confines itself.

``WASMTASK_SANDBOX``: ``on`` (the default: where the kernel lacks Landlock or
seccomp the process serves anyway, with a loud warning and ``/readyz``
degraded), ``required`` (then that is fatal), ``off``. Only the serve paths
(gateway/cli/server.py, ``gateway.app.worker_app``) confine: an app built in a
test process never does.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass

from gateway.config import Settings
from gateway.confinement import landlock, seccomp
from gateway.confinement.policy import Policy, read_dirs, serving_policy, temp_dir, working_dirs
from isolates.module_cache import default_cache_dir

logger = logging.getLogger("wasmtask.sandbox")

MODES = ("on", "required", "off")
LAYERS = ("landlock", "seccomp")


class SandboxUnavailable(Exception):
    """``WASMTASK_SANDBOX=required`` and a layer cannot be enforced here."""


@dataclass(frozen=True)
class SandboxState:
    """What this process enforces: per layer, "enforced ..." or why not."""

    mode: str
    landlock: str
    seccomp: str
    enforced: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.mode == "off" or set(self.enforced) == set(LAYERS)

    def to_dict(self) -> dict[str, str]:
        return {"mode": self.mode, "landlock": self.landlock, "seccomp": self.seccomp}


_state: SandboxState | None = None


def current() -> SandboxState | None:
    """This process's confinement, or None when it never tried (an app built in a test process)."""
    return _state


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def wait_for_one_thread(timeout: float = 2.0) -> int:
    """The number of threads, once only this one is left, or when ``timeout`` is up: a thread just
    joined (threading's join returns before the kernel has reaped it) is gone within microseconds."""
    deadline = time.monotonic() + timeout
    while (count := thread_count()) != 1 and threading.active_count() == 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    return count


def why_unavailable(layer: str, simulated: frozenset[str] = frozenset()) -> str | None:
    if layer in simulated:
        return "unavailable (simulated by WASMTASK_SANDBOX_SIMULATE_UNAVAILABLE)"
    if layer == "landlock":
        return None if landlock.abi() >= 1 else ("unavailable: the kernel has no Landlock (Linux 5.13+, lsm=landlock),"
                                                 " or a container's seccomp profile refuses its calls")
    return seccomp.available()


def check_required(settings: Settings) -> dict[str, str]:
    """The layers this kernel cannot enforce, by why; raises SandboxUnavailable when ``settings``
    require them (a supervisor checks before it starts workers that would fail one by one)."""
    reasons = {layer: why_unavailable(layer, settings.sandbox_simulate_unavailable) for layer in LAYERS}
    missing = {layer: reason for layer, reason in reasons.items() if reason}
    if missing and settings.sandbox == "required":
        raise SandboxUnavailable("WASMTASK_SANDBOX=required, but " + "; ".join(
            f"{layer} is {reason}" for layer, reason in missing.items()))
    return missing


def prepare(settings: Settings) -> None:
    """Create the working paths a confined process cannot create later, and point TMPDIR into them."""
    for directory in (*working_dirs(settings), *read_dirs(settings)):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_tmp = temp_dir(settings)
    default_cache_dir().mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(private_tmp)
    tempfile.tempdir = str(private_tmp)


def confine(settings: Settings, policy: Policy | None = None) -> SandboxState:
    """Confine this process for the rest of its life, as ``settings.sandbox`` says; returns what it enforces.

    Raises SandboxUnavailable (``required``, and a layer cannot be enforced) and RuntimeError when
    called with a second thread running (Landlock would leave it out: a bug of the caller).
    """
    global _state
    mode = settings.sandbox
    if mode == "off":
        logger.warning("WASMTASK_SANDBOX=off: this process runs guest code without Landlock or seccomp")
        _state = SandboxState(mode, "off", "off")
        return _state
    threads = wait_for_one_thread()
    if threads != 1:
        names = ", ".join(thread.name for thread in threading.enumerate() if thread is not threading.current_thread())
        raise RuntimeError(f"confine() with {threads} threads ({names or 'native'}): Landlock would not confine "
                           "the others")
    missing = check_required(settings)
    prepare(settings)
    policy = policy or serving_policy(settings)
    status: dict[str, str] = {}
    enforced: list[str] = []
    if "landlock" in missing:
        status["landlock"] = missing["landlock"]
    else:
        status["landlock"] = f"enforced (ABI {landlock.apply(policy)})"
        enforced.append("landlock")
    if "seccomp" in missing:
        status["seccomp"] = missing["seccomp"]
    else:
        seccomp.apply()
        status["seccomp"] = "enforced"
        enforced.append("seccomp")
    _state = SandboxState(mode, status["landlock"], status["seccomp"], tuple(enforced))
    if missing:
        logger.warning("\n%s\n!! SANDBOX INCOMPLETE: %s.\n!! A guest escaping Wasm would reach more of this host;"
                       " WASMTASK_SANDBOX=required refuses to start like this.\n%s", "!" * 78,
                       "; ".join(f"{layer} {reason}" for layer, reason in missing.items()), "!" * 78)
    else:
        logger.info("sandbox: landlock %s, seccomp %s", status["landlock"], status["seccomp"])
    return _state


__all__ = ["MODES", "Policy", "SandboxState", "SandboxUnavailable", "check_required", "confine", "current", "prepare",
           "serving_policy"]

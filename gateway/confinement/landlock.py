"""The Landlock ruleset of a serving process: which files it may read and write, which TCP port it may bind.

Through PyPI ``landlockpy`` (ctypes over the kernel's three calls). Best effort
across kernel versions: rights the running kernel does not know are dropped,
and ``abi()`` says which version was enforced. Landlock confines the calling
thread and the threads it starts later, not earlier ones (ABI 7 has no thread
sync): ``gateway.confinement.confine`` refuses to run with a second thread.
"""

from __future__ import annotations

import errno
import os

import landlockpy
from landlockpy import AccessFS, AccessNet, Scope

from gateway.confinement.policy import Policy

# Read: files and directories, never execute (mapping a shared library is not "execute" to Landlock).
READ = AccessFS.READ_FILE | AccessFS.READ_DIR
FILE_READ = AccessFS.READ_FILE
_RESOLVE_UNIX = getattr(AccessFS, "RESOLVE_UNIX", AccessFS.NONE)
FILE_WRITE = AccessFS.READ_FILE | AccessFS.WRITE_FILE | AccessFS.TRUNCATE


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is unavailable (an old kernel, or a seccomp
    profile that refuses its calls with EPERM, as Docker's default one before Docker 23 does)."""
    try:
        return landlockpy.abi_version()
    except landlockpy.LandlockError:
        return 0


def apply(policy: Policy) -> int:
    """Confine this thread and its future threads to ``policy``; returns the ABI enforced (raises OSError)."""
    version = abi()
    if version < 1:
        raise OSError(errno.EOPNOTSUPP, "Landlock is not available in this kernel")
    # Not RESOLVE_UNIX (ABI 9): named unix sockets (the builder, Redis, PostgreSQL) stay reachable as on ABI 7.
    handled_fs = landlockpy.fs_for_abi(version) & ~_RESOLVE_UNIX
    with landlockpy.Ruleset(handled_fs=handled_fs, handled_net=AccessNet.BIND_TCP,
                            scoped=Scope.ABSTRACT_UNIX_SOCKET | Scope.SIGNAL) as ruleset:
        for path in policy.read:
            _allow(ruleset, path, READ, FILE_READ)
        for path in policy.write_files:
            _allow(ruleset, path, FILE_WRITE, FILE_WRITE)
        for path in policy.write_dirs:
            _allow(ruleset, path, ruleset.handled_fs & ~AccessFS.EXECUTE, FILE_WRITE)
        for port in policy.bind_ports:
            ruleset.allow_port(port, AccessNet.BIND_TCP)
        ruleset.restrict()
        return ruleset.abi_version


def _allow(ruleset: landlockpy.Ruleset, path: str, directory_rights: AccessFS, file_rights: AccessFS) -> None:
    try:
        is_directory = os.path.isdir(path)
        ruleset.allow_path(path, directory_rights if is_directory else file_rights)
    except (FileNotFoundError, PermissionError, NotADirectoryError):
        pass  # what does not exist now cannot be reached later either

"""Run a command confined by Landlock: it reads only the given paths and writes only some of them.

    python landlock.py --read /usr --read /etc --write /tmp/build -- zig cc ...

A compiler reads whatever its input names: ``#include "/proc/1/environ"``,
C23 ``#embed``, ``.incbin``, Rust's ``include_bytes!``. Deploy-time builds of
tenant source run under this wrapper, so a build sees the toolchains and its
own temp dir, not the server's data directory, and (Landlock's ptrace scoping)
not the memory or environment of processes outside its domain. TCP bind and
connect are denied too (Landlock ABI 4+). Unprivileged: it sets no_new_privs.

A standalone script (stdlib only, no wasmtask imports): it runs as
``python -I landlock.py``, then replaces itself with the command.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
O_PATH = 0o10000000

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM, REFER, TRUNCATE, IOCTL_DEV = (
    1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15,
)
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR


def all_fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(number, *args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return int(result)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is unavailable (old kernel, seccomp)."""
    try:
        return _syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    except OSError:
        return 0


def restrict(read: list[str], write: list[str]) -> None:
    """Confine this process (and what it execs) to ``read`` and ``write``; raises OSError."""
    abi = abi_version()
    if abi < 1:
        raise OSError("Landlock is not available")
    handled = all_fs_rights(abi)
    attr = RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:
        attr.handled_access_net = 1 | 2  # BIND_TCP | CONNECT_TCP: none allowed
        size = 16
    if abi >= 6:
        attr.scoped = 1 | 2  # abstract unix sockets, signals: only within the domain
        size = 24
    ruleset = _syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    try:
        for paths, rights in ((read, READ), (write, handled)):
            for path in paths:
                try:
                    fd = os.open(path, O_PATH | os.O_CLOEXEC)
                except (FileNotFoundError, PermissionError):
                    continue  # what the command cannot reach anyway
                try:
                    allowed = rights if os.path.isdir(path) else rights & FILE_ONLY
                    rule = PathBeneathAttr(allowed_access=allowed & handled, parent_fd=fd)
                    _syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0)
                finally:
                    os.close(fd)
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        _syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read", action="append", default=[], help="a path the command may read (and execute)")
    parser.add_argument("--write", action="append", default=[], help="a path the command may read and write")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    try:
        restrict(args.read, args.write)
    except OSError as exc:
        print(f"landlock: cannot confine the build: {exc}", file=sys.stderr)
        sys.exit(125)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()

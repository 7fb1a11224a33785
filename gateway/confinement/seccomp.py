"""The seccomp-bpf filter of a serving process: what no code in it may ask the kernel for.

A default-allow filter with a deny list (libseccomp through PyPI ``pyseccomp``):
a serving process runs CPython, uvicorn, SQLite, Redis/PostgreSQL clients and
wasmtime, whose exact syscall sets change with every release; the calls that
matter to an escaped guest are the few that create processes, change
namespaces or mounts, reach other processes or load kernel code, and those are
denied by name. Loaded with TSYNC: every thread of the process, earlier ones too.

Denied calls return an error instead of killing the process: EPERM for all of
them, except ``clone3``, which answers ENOSYS so that glibc falls back to
``clone`` (where the CLONE_THREAD rule decides), and sockets of a family not
allowed, which answer EAFNOSUPPORT as a kernel without that family would. Killing would be no safer (an
escaped guest can exit the process anyway) and returning keeps the libraries
that probe a call and fall back (glibc's posix_spawn, getaddrinfo's netlink
probe) working, and keeps one guest's probe from ending every other tenant's
calls in flight on the same process.
"""

from __future__ import annotations

import errno
import socket

import pyseccomp as seccomp

CLONE_THREAD = 0x00010000
SOCK_TYPE_MASK = 0xF
SOCK_RAW = 3
SOCK_PACKET = 10

# Calls denied outright (EPERM), by what they would give an escaped guest.
DENIED: dict[str, tuple[str, ...]] = {
    "new programs": ("execve", "execveat"),
    "new processes": ("fork", "vfork"),
    "other processes' memory": ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
                                "process_madvise"),
    "namespaces and mounts": ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
                              "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr"),
    "kernel attack surface": ("bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
                              "io_uring_register", "keyctl", "add_key", "request_key"),
    "files by handle (bypasses paths, so Landlock)": ("open_by_handle_at", "name_to_handle_at"),
    "the machine": ("kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
                    "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime",
                    "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm",
                    "lookup_dcookie", "personality"),
}

# The socket families a serving process uses: TCP/UDP over IPv4 and IPv6 (the listener, fetch, Redis,
# PostgreSQL, DNS) and unix sockets (the builder, Redis and PostgreSQL on a socket). Not netlink: glibc's
# getaddrinfo falls back when its AF_NETLINK probe fails (tests/gateway/confinement prove name lookup works).
ALLOWED_FAMILIES = frozenset({socket.AF_UNIX, socket.AF_INET, socket.AF_INET6})
# every family above the highest allowed one (AF_INET6) is refused by one rule, those below it one by one
ABOVE_ALLOWED = max(ALLOWED_FAMILIES) + 1


def denied_syscalls() -> list[str]:
    return [name for names in DENIED.values() for name in names]


def build_filter() -> seccomp.SyscallFilter:
    """The filter, not yet loaded."""
    eperm = seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    flt.set_attr(seccomp.Attr.CTL_TSYNC, 1)
    try:
        flt.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)  # a binary tree over syscall numbers, not a linear scan
    except (OSError, RuntimeError, ValueError):  # libseccomp before 2.5
        pass
    for name in denied_syscalls():
        try:
            flt.add_rule(eperm, name)
        except (OSError, RuntimeError, ValueError):  # a call this architecture or libseccomp does not know
            continue
    # threads yes, processes no: clone without CLONE_THREAD; clone3 (flags in memory, out of BPF's reach) ENOSYS
    flt.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for call in ("socket", "socketpair"):
        for family in range(ABOVE_ALLOWED):
            if family not in ALLOWED_FAMILIES:
                flt.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.EQ, family))
        flt.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.GE, ABOVE_ALLOWED))
        for kind in (SOCK_RAW, SOCK_PACKET):  # raw IP: forged packets, sniffing
            flt.add_rule(eperm, call, seccomp.Arg(1, seccomp.MASKED_EQ, SOCK_TYPE_MASK, kind))
    return flt


def available() -> str | None:
    """Why the filter cannot be loaded here, or None when it can."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            if not any(line.startswith("Seccomp:") for line in status):
                return "the kernel has no seccomp"
        seccomp.get_api()
    except (OSError, RuntimeError) as exc:
        return f"libseccomp is unusable: {exc}"
    return None


def apply() -> None:
    """Load the filter on every thread of this process, for the rest of its life (raises OSError)."""
    build_filter().load()

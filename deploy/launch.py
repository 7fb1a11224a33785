"""Run wasmtask on a bare host with the limits the Docker image gets.

The launcher, as root, in this order:

1. creates a cgroup ``wasmtask-<name>`` under this process's own cgroup (read
   from /proc/self/cgroup) with memory, CPU and pids limits, and moves itself
   into it; cgroup v1 (one hierarchy per controller) and v2 (unified) both work;
2. optionally enters a network namespace (``--netns``, as made by ``ip netns add``);
3. loads the egress ruleset (deploy/egress.nft filled by render_egress.py) into
   the namespace it is in: the whole namespace with ``--netns``, or only the
   service user's traffic with ``--user`` (nftables ``meta skuid``);
4. drops to ``--user``, sets no_new_privs (Docker's no-new-privileges);
5. execs the service (by default ``wasmtask serve --host 0.0.0.0 --port 8080``).

Example::

    python deploy/launch.py --user wasmtask --memory 1G --cpus 1.5 --pids 256 \\
        --resolver 10.0.0.2 --public-ports 80,443 --data-dir /var/lib/wasmtask

Limits are units a reader can check: ``--memory`` in bytes with an optional
K/M/G suffix (powers of 1024), ``--cpus`` in cores (a CFS quota per 100 ms
period), ``--pids`` in tasks (processes and threads). After the service exits,
``launch.py --remove --name NAME`` deletes the (then empty) cgroup.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render_egress

CGROUP_PREFIX = "wasmtask-"
CPU_PERIOD_US = 100_000
CONTROLLERS = ("memory", "cpu", "pids")

# The same limits as each gateway in deploy/compose.yaml and compose.single.yaml (tests/deploy checks they agree).
DEFAULT_MEMORY = "1G"
DEFAULT_CPUS = 1.5
DEFAULT_PIDS = 256

CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38


class LaunchError(RuntimeError):
    """The service could not be placed in its cgroup, namespace or ruleset."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    cpus: float
    pids: int


def parse_size(text: str) -> int:
    """``67108864``, ``64M``, ``64MiB``, ``1G`` -> bytes (K/M/G are powers of 1024)."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    suffix = value[-1:] if value[-1:] in units else ""
    try:
        number = float(value[: len(value) - len(suffix)])
    except ValueError:
        raise LaunchError(f"bad size {text!r}") from None
    return int(number * units[suffix])


# --- cgroups ---------------------------------------------------------------


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fstype, super options) for each cgroup mount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, tail = line.partition(" - ")
        parts, extra = fields.split(), tail.split()
        if extra and extra[0] in ("cgroup", "cgroup2"):
            found.append((parts[3], parts[4], extra[0], set(extra[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Controller (or "" for the unified hierarchy) -> this process's cgroup path."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _below(path: str, root: str) -> str:
    """A cgroup path relative to a mount whose root is ``root`` (cgroup namespaces, bind mounts)."""
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):] or "/"
    return path.lstrip("/")


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise LaunchError(f"cannot write {value!r} to {path}: {exc.strerror}") from exc


class Cgroup:
    """One service cgroup: a directory per v1 controller, or one v2 directory."""

    def __init__(self, version: int, directories: dict[str, Path], mount: Path | None = None):
        self.version = version
        self.directories = directories  # controller -> directory (v2: all the same)
        self.mount = mount  # v2: the hierarchy's mount point

    def __repr__(self) -> str:
        return f"Cgroup(v{self.version}, {sorted({str(d) for d in self.directories.values()})})"

    def create(self, limits: Limits) -> None:
        for directory in dict.fromkeys(self.directories.values()):
            directory.parent.mkdir(parents=True, exist_ok=True)
            if self.version == 2:
                self._enable_controllers(directory.parent)
            directory.mkdir(exist_ok=True)
        quota = max(1000, int(limits.cpus * CPU_PERIOD_US))
        if self.version == 1:
            memory, cpu, pids = (self.directories[c] for c in CONTROLLERS)
            _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():  # no swapping around the limit
                _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", str(quota))
            _write(pids / "pids.max", str(limits.pids))
        else:
            directory = self.directories["memory"]
            _write(directory / "memory.max", str(limits.memory_bytes))
            if (directory / "memory.swap.max").exists():
                _write(directory / "memory.swap.max", "0")
            _write(directory / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            _write(directory / "pids.max", str(limits.pids))

    def _enable_controllers(self, parent: Path) -> None:
        """v2: a group gets controller files only when every ancestor enables them for children.

        An ancestor must then hold no processes itself (the "no internal
        processes" rule; the root is exempt): run the launcher from a group of
        its own, or pass ``--cgroup-parent``.
        """
        assert self.mount is not None
        chain = [parent, *[p for p in parent.parents if p.is_relative_to(self.mount)]]
        for ancestor in reversed(chain):
            control = ancestor / "cgroup.subtree_control"
            missing = [c for c in CONTROLLERS if c not in control.read_text().split()]
            if not missing:
                continue
            try:
                control.write_text(" ".join("+" + c for c in missing))
            except OSError as exc:
                hint = " (it holds processes: pass --cgroup-parent)" if exc.errno == errno.EBUSY else ""
                raise LaunchError(f"cannot enable {missing} in {ancestor}{hint}: {exc.strerror}") from exc

    def join(self, pid: int = 0) -> None:
        """Move ``pid`` (0: the calling process) into the group."""
        for directory in dict.fromkeys(self.directories.values()):
            _write(directory / "cgroup.procs", str(pid))

    def remove(self) -> None:
        for directory in dict.fromkeys(self.directories.values()):
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise LaunchError(f"cannot remove {directory}: {exc.strerror} (is the service still running?)") from exc


def find_cgroup(name: str, parent: str | None = None) -> Cgroup:
    """Where cgroup ``wasmtask-<name>`` lives: under this process's own cgroup, or ``parent``.

    v1 wins when memory, cpu and pids are all mounted as v1 hierarchies
    (hybrid hosts mount an empty cgroup2 beside them); otherwise the unified
    v2 hierarchy must offer all three.
    """
    group = CGROUP_PREFIX + name
    mounts, own = _mounts(), _own_paths()
    v1 = {}
    for root, point, fstype, options in mounts:
        for controller in CONTROLLERS:
            if fstype == "cgroup" and controller in options and controller not in v1:
                base = parent if parent is not None else own.get(controller, "/")
                v1[controller] = Path(point) / _below(base, root) / group
    if len(v1) == len(CONTROLLERS):
        return Cgroup(1, v1)
    for root, point, fstype, _ in mounts:
        if fstype != "cgroup2":
            continue
        available = set((Path(point) / "cgroup.controllers").read_text().split())
        if not set(CONTROLLERS) <= available:
            continue
        base = parent if parent is not None else own.get("", "/")
        directory = Path(point) / _below(base, root) / group
        return Cgroup(2, {c: directory for c in CONTROLLERS}, Path(point))
    raise LaunchError(f"no cgroup hierarchy offers {', '.join(CONTROLLERS)} (v1 has {sorted(v1)})")


# --- network namespace, egress ruleset, privileges --------------------------


def enter_netns(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    path = Path("/run/netns") / name
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise LaunchError(f"network namespace {name!r} not found ({path}); "
                          f"create it with `ip netns add {name}`") from None
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise LaunchError(f"setns({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def apply_ruleset(config: render_egress.EgressConfig) -> None:
    """Load the ruleset into the current network namespace (one atomic transaction)."""
    nft = shutil.which("nft") or "/usr/sbin/nft"
    if not Path(nft).exists():
        raise LaunchError("nft not found: install nftables (apt-get install nftables)")
    result = subprocess.run([nft, "-f", "-"], input=render_egress.render(config), text=True, capture_output=True)
    if result.returncode != 0:
        raise LaunchError(f"nft -f failed: {result.stderr.strip()}")


def resolve_user(user: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except KeyError:
        raise LaunchError(f"no such user {user!r}") from None


def drop_privileges(account: pwd.struct_passwd) -> None:
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)


def set_no_new_privs() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise LaunchError(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")


def default_command() -> list[str]:
    beside = Path(sys.executable).parent / "wasmtask"
    program = str(beside) if beside.exists() else (shutil.which("wasmtask") or "wasmtask")
    return [program, "serve", "--host", "0.0.0.0", "--port", "8080"]


# --- command line -----------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run wasmtask (or COMMAND) in a limited cgroup behind the egress ruleset.",
        usage="%(prog)s [options] [-- COMMAND ...]",
    )
    parser.add_argument("--name", default="service", help="cgroup name suffix (cgroup wasmtask-NAME)")
    parser.add_argument("--memory", default=DEFAULT_MEMORY,
                        help=f"memory limit, bytes or K/M/G (default {DEFAULT_MEMORY})")
    parser.add_argument("--cpus", type=float, default=DEFAULT_CPUS, help=f"CPU quota in cores (default {DEFAULT_CPUS})")
    parser.add_argument("--pids", type=int, default=DEFAULT_PIDS,
                        help=f"max processes+threads (default {DEFAULT_PIDS})")
    parser.add_argument("--cgroup-parent", help="create the cgroup under this path instead of our own cgroup")
    parser.add_argument("--no-cgroup", action="store_true", help="skip the cgroup")
    parser.add_argument("--netns", help="enter this named network namespace (ip netns) first")
    parser.add_argument("--no-egress", action="store_true", help="do not load the egress ruleset")
    parser.add_argument("--whole-netns", action="store_true",
                        help="allow filtering the current namespace for every process (without --netns or --user)")
    parser.add_argument("--user", help="run as this user (name or uid); scopes the ruleset to it without --netns")
    parser.add_argument("--data-dir", help="set WASMTASK_DATA_DIR")
    parser.add_argument("--remove", action="store_true", help="remove the cgroup wasmtask-NAME and exit")
    render_egress.add_arguments(parser)
    return parser


def launch(args: argparse.Namespace, command: list[str]) -> None:
    """Everything up to the exec; raises LaunchError on the first failure."""
    limits = Limits(parse_size(args.memory), args.cpus, args.pids)
    account = resolve_user(args.user) if args.user else None
    config = render_egress.config_from_args(args)
    if not args.no_egress:
        if args.netns is None and account is None and config.uid is None and not args.whole_netns:
            raise LaunchError("refusing to filter every process of this namespace: "
                              "pass --netns, --user or --whole-netns")
        if args.netns is None and account is not None and config.uid is None:
            config = render_egress.merge(config, render_egress.EgressConfig(uid=account.pw_uid))
    if not args.no_cgroup:
        cgroup = find_cgroup(args.name, args.cgroup_parent)
        cgroup.create(limits)
        cgroup.join()
    if args.netns:
        enter_netns(args.netns)
    if not args.no_egress:
        apply_ruleset(config)
    if args.data_dir:
        os.environ["WASMTASK_DATA_DIR"] = args.data_dir
    if account is not None:
        drop_privileges(account)
    set_no_new_privs()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    args = build_parser().parse_args(argv)
    try:
        if args.remove:
            find_cgroup(args.name, args.cgroup_parent).remove()
            return 0
        if os.geteuid() != 0:
            raise LaunchError("must run as root (it creates cgroups and loads nftables rules)")
        launch(args, command or default_command())
    except (LaunchError, render_egress.EgressConfigError) as exc:
        print(f"launch: {exc}", file=sys.stderr)
        return 1
    command = command or default_command()
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"launch: cannot exec {command[0]}: {exc.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())

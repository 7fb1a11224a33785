"""Deployed programs on disk: each version's prepared artifact, written once, then mapped by every miss.

A JavaScript function's program is the shared runtime plus its snapshot's image
module (isolates/javascript.py); only the image is its own. At deploy it is
compiled once and written here with ``Module.serialize``; a call whose program
is not in memory maps the file with ``Module.deserialize_file`` (~0.2 ms) rather
than snapshotting the source again (~15-30 ms), and wasmtime maps the memory image
copy-on-write straight from the file, so the workers of a host share one copy in
the page cache.

Layout, under ``<data dir>/artifacts``::

    <engine>/<tenant>/<function>/<serial>.cwasm  the compiled image module
    <engine>/<tenant>/<function>/<serial>.json   its header: format, fingerprint, the
                                                 version's source digest, size and
                                                 CRC-32 of the .cwasm, the program's details
    <engine>/<tenant>/<function>/.lock           flock'd while a process of this host builds

``<engine>`` is a digest of the fingerprint (wasmtime's version, the engine's
settings, the runtime's hash): another engine never reads these files, and
``prune_engines`` removes the directories of the others. ``<serial>`` is the
version's registry id (gateway/registry).

Written atomically: the .cwasm under a temporary name, fsynced, before the
registry commits the version (a full disk fails the deploy with ``storage_full``
and the previous version keeps serving); after the commit, the header and the
.cwasm are renamed into place, the header last: a header means a complete
.cwasm beside it. (The header is not fsynced: one lost or torn by a crash fails
its checks, and the program is rebuilt.) Read: a header of another format,
fingerprint or source, a .cwasm of another size or CRC-32, or one wasmtime will
not load, is removed and the program rebuilt from the registry's source; a file
is never loaded unchecked (its CRC-32, ~1 ms, is read once per process and file).
A .cwasm is written whole, never sparse (see ``write_temporary``).

Kept: each function's current version only. A rollback or a change of secrets
makes a new version (a new serial) whose program is written like a deploy's
(a rollback prepares the old source again), so no older file is ever read: a
publish removes the function's older ones, a delete the function's directory.

Only JavaScript snapshots are stored: the other languages' programs are
content-keyed compiled modules that ``prepare`` maps from the module cache
already (isolates/module_cache.py, isolates/functions.py).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import mmap
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import wasmtime

from gateway.errors import StorageFull
from gateway.registry import FunctionVersion
from isolates import ModuleProgram, Program
from isolates.javascript import JavaScriptRuntime, RuntimeMissing

logger = logging.getLogger("wasmtask.gateway")

FORMAT = 1
MODULE_SUFFIX = ".cwasm"
HEADER_SUFFIX = ".json"
TEMPORARY_SUFFIX = ".tmp"
LOCK_NAME = ".lock"
STALE_TEMPORARY_SECONDS = 600
MAX_CHECKED = 100_000  # files remembered as checked (a few MB)
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def source_digest(version: FunctionVersion) -> str:
    """What a version's program is made of: its language, code, file name and limits."""
    digest = hashlib.sha256()
    for part in (version.language.encode(), version.filename.encode(), orjson.dumps(version.limits.to_dict(),
                                                                                    option=orjson.OPT_SORT_KEYS)):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(version.code)
    return digest.hexdigest()


@dataclass(frozen=True)
class Staged:
    """A program's compiled image, written and fsynced under a temporary name, not yet any version's."""

    runtime: JavaScriptRuntime
    module: Path
    size: int
    crc32: int
    details: dict[str, object]


class ArtifactStore:
    def __init__(self, root: Path, runtime: Callable[[], JavaScriptRuntime] = JavaScriptRuntime.shared) -> None:
        self.root = root
        self._runtime = runtime
        # files whose CRC-32 this process checked, by identity: a file is only ever replaced (a new
        # inode), never written in place, so a miss after an eviction need not read it again
        self._checked: set[tuple[int, int, int, int]] = set()

    def runtime(self) -> JavaScriptRuntime | None:
        try:
            return self._runtime()
        except RuntimeMissing:
            return None

    def engine_dir(self, runtime: JavaScriptRuntime) -> Path:
        return self.root / hashlib.sha256(runtime.fingerprint.encode()).hexdigest()[:16]

    def function_dir(self, runtime: JavaScriptRuntime, tenant: str, function: str) -> Path:
        # tenant and function names match gateway.names.NAME_PATTERN: safe as path parts
        return self.engine_dir(runtime) / tenant / function

    def paths(self, runtime: JavaScriptRuntime, version: FunctionVersion) -> tuple[Path, Path]:
        """The .cwasm and the header of ``version``."""
        base = self.function_dir(runtime, version.tenant, version.function) / str(version.serial)
        return base.with_suffix(MODULE_SUFFIX), base.with_suffix(HEADER_SUFFIX)

    # writing

    def stage(self, program: Program, tenant: str, function: str) -> Staged | None:
        """Write ``program``'s compiled image under a temporary name (None: not a program stored here).
        ``StorageFull`` when the disk has no room for it."""
        runtime = self.runtime()
        if runtime is None or not isinstance(program, ModuleProgram) or not runtime.is_snapshot(program):
            return None
        data, details = runtime.snapshot_file(program)
        with disk_errors(f"the prepared program of {tenant}/{function} ({len(data):,} bytes)"):
            module = write_temporary(self.function_dir(runtime, tenant, function), data)
        return Staged(runtime, module, len(data), zlib.crc32(data), details)

    def publish(self, staged: Staged, version: FunctionVersion) -> None:
        """Make a staged image ``version``'s (after the registry committed it); older versions' files go."""
        module, header = self.paths(staged.runtime, version)
        content = orjson.dumps({"format": FORMAT, "fingerprint": staged.runtime.fingerprint,
                                "source": source_digest(version), "bytes": staged.size, "crc32": staged.crc32,
                                "details": staged.details})
        try:
            with disk_errors(f"the header of {version.tenant}/{version.function} {version.version_id}"):
                written = write_temporary(module.parent, content, durable=False)
            os.replace(staged.module, module)
            os.replace(written, header)
        except BaseException:
            self.discard(staged)
            raise
        self._remove_older(module.parent, version.serial)

    def discard(self, staged: Staged) -> None:
        staged.module.unlink(missing_ok=True)

    def _remove_older(self, directory: Path, serial: int) -> None:
        now = time.time()
        for entry in os.scandir(directory):
            stem, _, suffix = entry.name.partition(".")
            older = stem.isdigit() and int(stem) < serial and f".{suffix}" in (MODULE_SUFFIX, HEADER_SUFFIX)
            try:
                stale = entry.name.endswith(TEMPORARY_SUFFIX) and now - entry.stat().st_mtime > STALE_TEMPORARY_SECONDS
                if older or stale:
                    Path(entry.path).unlink(missing_ok=True)
            except FileNotFoundError:  # another process renamed or removed it meanwhile
                pass

    # reading

    def load(self, version: FunctionVersion) -> Program | None:
        """``version``'s program mapped from its file; None if there is none that passes every check
        (a file that fails one is removed, to be rebuilt)."""
        runtime = self.runtime()
        if runtime is None:
            return None
        module, header_path = self.paths(runtime, version)
        try:
            header = orjson.loads(header_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as exc:
            return self._reject(module, header_path, f"unreadable header ({exc})")
        problem = self._problem(header, module, runtime, version, self._checked)
        if problem:
            return self._reject(module, header_path, problem)
        try:
            return runtime.load_snapshot(module, header["details"])
        except wasmtime.WasmtimeError as exc:
            return self._reject(module, header_path, f"wasmtime will not load it: {str(exc).splitlines()[0]}")

    @staticmethod
    def _problem(header: Any, module: Path, runtime: JavaScriptRuntime, version: FunctionVersion,
                 checked: set[tuple[int, int, int, int]]) -> str | None:
        if not isinstance(header, dict) or header.get("format") != FORMAT or not isinstance(header.get("details"),
                                                                                             dict):
            return "a header of another format"
        if header.get("fingerprint") != runtime.fingerprint:
            return "made by another engine or runtime"
        if header.get("source") != source_digest(version):
            return "made from other source"
        try:
            with open(module, "rb") as file:
                stat = os.fstat(file.fileno())
                size = stat.st_size
                if size != header.get("bytes") or size == 0:
                    return f"{size:,} bytes, not {header.get('bytes')}"
                identity = (stat.st_dev, stat.st_ino, size, stat.st_mtime_ns)
                if identity not in checked:
                    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                        if zlib.crc32(mapped) != header.get("crc32"):
                            return "its CRC-32 does not match: corrupt"
                    if len(checked) >= MAX_CHECKED:
                        checked.clear()
                    checked.add(identity)
        except OSError as exc:
            return f"unreadable ({exc})"
        return None

    @staticmethod
    def _reject(module: Path, header: Path, problem: str) -> None:
        logger.warning("prepared program %s rejected, to be rebuilt: %s", module, problem)
        header.unlink(missing_ok=True)
        module.unlink(missing_ok=True)
        return None

    def build_lock(self, tenant: str, function: str) -> BuildLock:
        """Held while a process of this host builds one of the function's files: another that
        wants one meanwhile waits, then finds the file."""
        runtime = self.runtime()
        return BuildLock(self.function_dir(runtime, tenant, function) / LOCK_NAME if runtime is not None else None)

    # removing

    def remove_function(self, tenant: str, function: str) -> None:
        for engine in self._engines():
            shutil.rmtree(engine / tenant / function, ignore_errors=True)

    def remove_tenant(self, tenant: str) -> None:
        for engine in self._engines():
            shutil.rmtree(engine / tenant, ignore_errors=True)

    def prune_engines(self) -> list[Path]:
        """Remove the files of other engines or runtimes (an upgrade's leftovers); returns their directories."""
        runtime = self.runtime()
        if runtime is None:
            return []
        current = self.engine_dir(runtime)
        removed = [engine for engine in self._engines() if engine != current]
        for engine in removed:
            shutil.rmtree(engine, ignore_errors=True)
        return removed

    def _engines(self) -> list[Path]:
        try:
            return [Path(entry.path) for entry in os.scandir(self.root) if entry.is_dir()]
        except FileNotFoundError:
            return []


class BuildLock:
    """An exclusive ``fcntl.flock`` on a function's lock file (none: nothing to lock). The file stays:
    removing it while another process waits on it would let a third lock a new file beside them."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Blocks while another process holds it: call it on a worker thread."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the descriptor


@contextlib.contextmanager
def disk_errors(what: str) -> Iterator[None]:
    """A full disk (or a file-size limit) as ``StorageFull``; other OS errors as they are."""
    try:
        yield
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise StorageFull(f"no room on the server's disk for {what}: {os.strerror(exc.errno)}") from exc
        raise


def write_temporary(directory: Path, data: bytes, *, durable: bool = True) -> Path:
    """``data`` in a new file of ``directory`` under a temporary name, fsynced if ``durable`` (removed on failure)."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            # written whole, never sparse: on tmpfs, a fault on a hole allocates a page, and when the
            # filesystem is full that fault is SIGBUS in whichever process mapped the file
            file.write(data)
            file.flush()
            if durable:
                os.fsync(file.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)

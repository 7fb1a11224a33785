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

Written by an ``ArtifactWriter`` (gateway/artifact_files.py): under ``wasmtask
serve``, the builder process, which compiles each image from its Wasm itself
(serving processes may only read these files); else this process.

Only JavaScript snapshots are stored: the other languages' programs are
content-keyed compiled modules that ``prepare`` maps from the module cache
already (isolates/module_cache.py, isolates/functions.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import wasmtime

from gateway.artifact_files import (
    HEADER_SUFFIX,
    LOCK_NAME,
    MODULE_SUFFIX,
    ArtifactWriter,
    Image,
    LocalArtifactWriter,
    StagedFile,
    engine_name,
)
from gateway.registry import FunctionVersion
from isolates import ModuleProgram, Program
from isolates.javascript import JavaScriptRuntime, RuntimeMissing

logger = logging.getLogger("wasmtask.gateway")

FORMAT = 1
MAX_CHECKED = 100_000  # files remembered as checked (a few MB)


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
    tenant: str
    function: str
    file: StagedFile
    details: dict[str, object]


class ArtifactStore:
    def __init__(self, root: Path, runtime: Callable[[], JavaScriptRuntime] = JavaScriptRuntime.shared,
                 writer: ArtifactWriter | None = None) -> None:
        self.root = root
        self._runtime = runtime
        self.writer: ArtifactWriter = writer or LocalArtifactWriter(root)
        # files whose CRC-32 this process checked, by identity: a file is only ever replaced (a new
        # inode), never written in place, so a miss after an eviction need not read it again
        self._checked: set[tuple[int, int, int, int]] = set()

    def runtime(self) -> JavaScriptRuntime | None:
        try:
            return self._runtime()
        except RuntimeMissing:
            return None

    def engine_dir(self, runtime: JavaScriptRuntime) -> Path:
        return self.root / engine_name(runtime.fingerprint)

    def function_dir(self, runtime: JavaScriptRuntime, tenant: str, function: str) -> Path:
        # tenant and function names match gateway.names.NAME_PATTERN: safe as path parts
        return self.engine_dir(runtime) / tenant / function

    def paths(self, runtime: JavaScriptRuntime, version: FunctionVersion) -> tuple[Path, Path]:
        """The .cwasm and the header of ``version``."""
        base = self.function_dir(runtime, version.tenant, version.function) / str(version.serial)
        return base.with_suffix(MODULE_SUFFIX), base.with_suffix(HEADER_SUFFIX)

    # writing (by the writer: this process, or the builder)

    def stage(self, program: Program, tenant: str, function: str, base: FunctionVersion | None = None
              ) -> Staged | None:
        """Write ``program``'s compiled image under a temporary name (None: not a program stored here).
        A program made here is written from its Wasm; one mapped from ``base``'s file (a change of
        secrets: the same program) from a copy of that file. ``StorageFull`` when the disk has no room
        for it; another ``OSError`` when the writer will not (or ``base`` has no file)."""
        runtime = self.runtime()
        if runtime is None or not isinstance(program, ModuleProgram) or not runtime.is_snapshot(program):
            return None
        image, wasm, details = runtime.snapshot_file(program)
        if wasm is not None:
            staged = self.writer.stage(runtime.fingerprint, tenant, function, Image(image, wasm))
        elif base is not None:
            staged = self.writer.copy(runtime.fingerprint, tenant, function, base.serial)
        else:
            return None
        return Staged(runtime, tenant, function, staged, details)

    def publish(self, staged: Staged, version: FunctionVersion) -> None:
        """Make a staged image ``version``'s (after the registry committed it); older versions' files go."""
        header = orjson.dumps({"format": FORMAT, "fingerprint": staged.runtime.fingerprint,
                               "source": source_digest(version), "bytes": staged.file.size,
                               "crc32": staged.file.crc32, "details": staged.details})
        self.writer.publish(staged.runtime.fingerprint, version.tenant, version.function, version.serial,
                            staged.file.name, header)

    def discard(self, staged: Staged) -> None:
        """Remove a staged image no version will have (best-effort: a leftover goes with the next publish)."""
        try:
            self.writer.discard(staged.runtime.fingerprint, staged.tenant, staged.function, staged.file.name)
        except OSError as exc:
            logger.warning("staged program of %s/%s not removed: %s", staged.tenant, staged.function, exc)

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
            self._reject(runtime, version, f"unreadable header ({exc})")
            return None
        problem = self._problem(header, module, runtime, version, self._checked)
        if problem:
            self._reject(runtime, version, problem)
            return None
        try:
            return runtime.load_snapshot(module, header["details"])
        except wasmtime.WasmtimeError as exc:
            self._reject(runtime, version, f"wasmtime will not load it: {str(exc).splitlines()[0]}")
            return None

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

    def _reject(self, runtime: JavaScriptRuntime, version: FunctionVersion, problem: str) -> None:
        logger.warning("prepared program %s/%s %s rejected, to be rebuilt: %s", version.tenant, version.function,
                       version.version_id, problem)
        try:
            self.writer.remove_version(runtime.fingerprint, version.tenant, version.function, version.serial)
        except OSError as exc:  # the rebuilt file replaces it anyway
            logger.warning("rejected program of %s/%s not removed: %s", version.tenant, version.function, exc)

    def build_lock(self, tenant: str, function: str) -> BuildLock:
        """Held while a process of this host builds one of the function's files: another that
        wants one meanwhile waits, then finds the file."""
        runtime = self.runtime()
        if runtime is None:
            return BuildLock(None)
        fingerprint = runtime.fingerprint
        return BuildLock(self.function_dir(runtime, tenant, function) / LOCK_NAME,
                         lambda: self.writer.make_lock(fingerprint, tenant, function))

    # removing (best-effort: files left behind are never read, since a version's serial is never reused;
    # they take disk space until the function's next publish, or the next start's prune)

    def remove_function(self, tenant: str, function: str) -> None:
        try:
            self.writer.remove_function(tenant, function)
        except OSError as exc:
            logger.warning("prepared programs of %s/%s not removed: %s", tenant, function, exc)

    def remove_tenant(self, tenant: str) -> None:
        try:
            self.writer.remove_tenant(tenant)
        except OSError as exc:
            logger.warning("prepared programs of tenant %s not removed: %s", tenant, exc)

    def prune_engines(self) -> list[Path]:
        """Remove the files of other engines or runtimes (an upgrade's leftovers); returns their directories."""
        runtime = self.runtime()
        if runtime is None:
            return []
        try:
            return [self.root / name for name in self.writer.prune_engines(runtime.fingerprint)]
        except OSError as exc:
            logger.warning("prepared programs of other engines not removed: %s", exc)
            return []


class BuildLock:
    """An exclusive ``fcntl.flock`` on a function's lock file (none: nothing to lock), opened read-only (a
    serving process may not write there); ``make`` creates it where missing. The file stays: removing
    it while another process waits on it would let a third lock a new file beside them."""

    def __init__(self, path: Path | None, make: Callable[[], None] | None = None) -> None:
        self.path = path
        self._make = make
        self._fd: int | None = None

    def acquire(self) -> None:
        """Blocks while another process holds it: call it on a worker thread."""
        if self.path is None:
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            if self._make is None:
                raise
            try:
                self._make()
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc:  # the writer is away: this build goes unlocked (at worst, two build it)
                logger.warning("build lock %s not made: %s", self.path, exc)
                return
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

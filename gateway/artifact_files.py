"""Who writes the prepared programs' files (gateway/artifacts.py): one seam, two writers.

A .cwasm is native code that every worker of the host maps and runs, so the
process that writes it must be one no guest runs in. ``wasmtask serve`` gives
its serving processes read-only access to ``<data dir>/artifacts``
(gateway/confinement/policy.py) and a ``BuilderArtifactWriter``
(toolchains/builder.py): they send the builder the snapshot's image as *Wasm*
(a data module), and the builder compiles it itself with an engine of the same
settings, once it checked that the module is an image (a memory and its data:
no code, no imports), and writes the file with ``LocalArtifactWriter``. A
serving process that a guest escaped into can at most have a Wasm memory image
compiled, which a function's sandboxed code then starts from. Without a builder (in-process apps, ``wasmtask dev``) the
store's own process writes with a ``LocalArtifactWriter``, as it compiles.

Every path is made here from names (an engine fingerprint, a tenant, a
function, a serial, a temporary file's name), each checked: a writer's caller
never names a path.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import wasmtime

from gateway.errors import StorageFull
from gateway.names import NAME_PATTERN
from isolates.wasm_binary import (
    SECTION_DATA,
    SECTION_DATA_COUNT,
    SECTION_EXPORT,
    SECTION_MEMORY,
    WasmFormatError,
    sections,
)

MODULE_SUFFIX = ".cwasm"
HEADER_SUFFIX = ".json"
TEMPORARY_SUFFIX = ".tmp"
LOCK_NAME = ".lock"
STALE_TEMPORARY_SECONDS = 600
MAX_HEADER_BYTES = 64 * 1024
# what an image module is made of: custom sections, its memory, that memory's export, data and data count
IMAGE_SECTIONS = frozenset({0, SECTION_MEMORY, SECTION_EXPORT, SECTION_DATA, SECTION_DATA_COUNT})
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# mkstemp's names with our suffix
_TEMPORARY = re.compile(r"tmp[A-Za-z0-9_]{1,32}" + re.escape(TEMPORARY_SUFFIX))


class ArtifactRefused(OSError):
    """A writer will not do what it was asked (a bad name, an engine of other settings, the builder away)."""


@dataclass(frozen=True)
class Image:
    """A snapshot's image module: compiled (what a local writer serializes; None in the builder, which
    is sent only the Wasm), and its Wasm (what the builder compiles itself)."""

    module: wasmtime.Module | None
    wasm: bytes


@dataclass(frozen=True)
class StagedFile:
    """A compiled image written and fsynced under a temporary name in its function's directory."""

    name: str
    size: int
    crc32: int


class ArtifactWriter(Protocol):
    """Writes and removes the files under ``<data dir>/artifacts``; ``fingerprint`` names the engine's directory."""

    def make_lock(self, fingerprint: str, tenant: str, function: str) -> None:
        """Create the function's directory and its lock file, if missing."""

    def stage(self, fingerprint: str, tenant: str, function: str, image: Image) -> StagedFile:
        """``image`` compiled, written under a temporary name. ``StorageFull`` when the disk has no room."""

    def copy(self, fingerprint: str, tenant: str, function: str, serial: int) -> StagedFile:
        """``<serial>.cwasm`` (compiled by a writer) copied under a temporary name; ``FileNotFoundError``
        if there is none."""

    def publish(self, fingerprint: str, tenant: str, function: str, serial: int, staged: str,
                header: bytes) -> None:
        """The staged file renamed into place as ``<serial>.cwasm``, ``header`` as ``<serial>.json`` (last);
        the function's older versions' files removed."""

    def discard(self, fingerprint: str, tenant: str, function: str, staged: str) -> None: ...

    def remove_version(self, fingerprint: str, tenant: str, function: str, serial: int) -> None: ...

    def remove_function(self, tenant: str, function: str) -> None: ...

    def remove_tenant(self, tenant: str) -> None: ...

    def prune_engines(self, fingerprint: str) -> list[str]:
        """Remove every engine's directory but ``fingerprint``'s; returns the removed ones' names."""


def engine_name(fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def checked_name(name: str) -> str:
    """A tenant's or function's name (``NAME_PATTERN``: a safe path part) as it is; ``ArtifactRefused`` if not."""
    if not NAME_PATTERN.fullmatch(name):
        raise ArtifactRefused(errno.EINVAL, f"not a tenant or function name: {name[:80]!r}")
    return name


class LocalArtifactWriter:
    """Writes with this process's own rights; compiles nothing itself unless given an engine
    (``compile_with``: the builder's, which compiles each image's Wasm rather than trusting a
    compiled one)."""

    def __init__(self, root: Path, compile_with: wasmtime.Engine | None = None) -> None:
        self.root = root
        self.compile_with = compile_with

    def function_dir(self, fingerprint: str, tenant: str, function: str) -> Path:
        return self.root / engine_name(fingerprint) / checked_name(tenant) / checked_name(function)

    def make_lock(self, fingerprint: str, tenant: str, function: str) -> None:
        directory = self.function_dir(fingerprint, tenant, function)
        directory.mkdir(parents=True, exist_ok=True)
        os.close(os.open(directory / LOCK_NAME, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))

    def stage(self, fingerprint: str, tenant: str, function: str, image: Image) -> StagedFile:
        if self.compile_with is not None:
            problem = not_an_image(image.wasm)
            if problem:
                raise ArtifactRefused(errno.EINVAL, f"not an image module: {problem}")
            try:
                module = wasmtime.Module(self.compile_with, image.wasm)
            except wasmtime.WasmtimeError as exc:
                raise ArtifactRefused(errno.EINVAL, f"not a Wasm module: {str(exc).splitlines()[0]}") from exc
            data = bytes(module.serialize())
        elif image.module is not None:
            data = bytes(image.module.serialize())
        else:
            raise ArtifactRefused(errno.EINVAL, "an image to compile, and no engine to compile it")
        with disk_errors(f"the prepared program of {tenant}/{function} ({len(data):,} bytes)"):
            path = write_temporary(self.function_dir(fingerprint, tenant, function), data)
        return StagedFile(path.name, len(data), zlib.crc32(data))

    def copy(self, fingerprint: str, tenant: str, function: str, serial: int) -> StagedFile:
        directory = self.function_dir(fingerprint, tenant, function)
        data = (directory / f"{int(serial)}{MODULE_SUFFIX}").read_bytes()
        with disk_errors(f"the prepared program of {tenant}/{function} ({len(data):,} bytes)"):
            path = write_temporary(directory, data)
        return StagedFile(path.name, len(data), zlib.crc32(data))

    def _staged(self, directory: Path, staged: str) -> Path:
        if not _TEMPORARY.fullmatch(staged):
            raise ArtifactRefused(errno.EINVAL, f"not a staged file's name: {staged[:80]!r}")
        return directory / staged

    def publish(self, fingerprint: str, tenant: str, function: str, serial: int, staged: str,
                header: bytes) -> None:
        directory = self.function_dir(fingerprint, tenant, function)
        module = self._staged(directory, staged)
        if len(header) > MAX_HEADER_BYTES:
            raise ArtifactRefused(errno.EFBIG, f"a header of {len(header):,} bytes")
        try:
            with disk_errors(f"the header of {tenant}/{function} {serial}"):
                written = write_temporary(directory, header, durable=False)
            os.replace(module, directory / f"{int(serial)}{MODULE_SUFFIX}")
            os.replace(written, directory / f"{int(serial)}{HEADER_SUFFIX}")
        except BaseException:
            module.unlink(missing_ok=True)
            raise
        remove_older(directory, int(serial))

    def discard(self, fingerprint: str, tenant: str, function: str, staged: str) -> None:
        directory = self.function_dir(fingerprint, tenant, function)
        self._staged(directory, staged).unlink(missing_ok=True)

    def remove_version(self, fingerprint: str, tenant: str, function: str, serial: int) -> None:
        directory = self.function_dir(fingerprint, tenant, function)
        (directory / f"{int(serial)}{HEADER_SUFFIX}").unlink(missing_ok=True)  # the header first: none, no file
        (directory / f"{int(serial)}{MODULE_SUFFIX}").unlink(missing_ok=True)

    def remove_function(self, tenant: str, function: str) -> None:
        for engine in self._engines():
            shutil.rmtree(engine / checked_name(tenant) / checked_name(function), ignore_errors=True)

    def remove_tenant(self, tenant: str) -> None:
        for engine in self._engines():
            shutil.rmtree(engine / checked_name(tenant), ignore_errors=True)

    def prune_engines(self, fingerprint: str) -> list[str]:
        current = engine_name(fingerprint)
        removed = [engine for engine in self._engines() if engine.name != current]
        for engine in removed:
            shutil.rmtree(engine, ignore_errors=True)
        return [engine.name for engine in removed]

    def _engines(self) -> list[Path]:
        try:
            return [Path(entry.path) for entry in os.scandir(self.root) if entry.is_dir()]
        except FileNotFoundError:
            return []


def not_an_image(wasm: bytes) -> str | None:
    """Why ``wasm`` is not an image module (``isolates.wasm_binary.data_module``'s: a memory, its export and
    data; no code, no imports), or None."""
    try:
        found = {section_id for section_id, _ in sections(wasm)}
    except (WasmFormatError, IndexError) as exc:
        return str(exc) or "truncated"
    other = found - IMAGE_SECTIONS
    return f"it has sections {sorted(other)} (code, imports or a start function)" if other else None


def remove_older(directory: Path, serial: int) -> None:
    """The files of ``directory``'s versions older than ``serial``, and temporary files left by a crash."""
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

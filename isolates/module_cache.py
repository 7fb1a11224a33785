"""On-disk cache of compiled modules and components, keyed by their Wasm's hash + the engine's settings.

A .cwasm is native code that every worker maps and runs, so who writes one is a
seam: a ``CacheWriter``. Its default, ``LocalCacheWriter``, compiles in this
process and writes the file itself. Under ``wasmtask serve`` a serving process
may only read the cache directory (gateway/confinement/policy.py): the gateway
installs the builder's writer (``install_cache_writer``; toolchains/builder.py,
``BuilderCacheWriter``), which sends the Wasm to the builder process; the
builder computes the file's name from those bytes and its own engine's
fingerprint, compiles them and writes the file, and this process maps it. The
name is the hash of the Wasm that was compiled, so nothing a serving process
sends can make a file whose name claims other content.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Literal, Protocol

import wasmtime
import wasmtime.component as wc

from isolates.engine import Engine
from isolates.errors import IsolateError

Kind = Literal["module", "component"]
KINDS: tuple[Kind, ...] = ("module", "component")
# the names a cache writer makes: ``<sha256>.cwasm`` for a module, ``component-<40 hex>.cwasm`` for a component
CACHE_NAME = re.compile(r"(?:[0-9a-f]{64}|component-[0-9a-f]{40})\.cwasm")


def default_cache_dir() -> Path:
    root = os.environ.get("WASMTASK_CACHE_DIR")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasmtask" / "modules"


def cache_key(wasm: bytes, fingerprint: str) -> str:
    digest = hashlib.sha256(wasm)
    digest.update(fingerprint.encode())
    return digest.hexdigest()


def cache_name(kind: Kind, wasm: bytes, fingerprint: str) -> str:
    """The file name of ``wasm`` compiled as ``kind`` by an engine of ``fingerprint``'s settings."""
    key = cache_key(wasm, fingerprint)
    return f"{key}.cwasm" if kind == "module" else f"component-{key[:40]}.cwasm"


class CacheRefused(IsolateError):
    """A cache writer would not compile what it was sent (an engine of other settings, or it wrote another name)."""


class CacheWriter(Protocol):
    """Compiles Wasm into the cache directory it writes."""

    def compile_into(self, kind: Kind, wasm: bytes, fingerprint: str) -> str:
        """``wasm`` compiled as ``kind`` and written (atomically) under ``cache_name(kind, wasm, fingerprint)``,
        which it returns. ``wasmtime.WasmtimeError`` if it is no valid Wasm, ``CacheRefused`` if refused,
        ``ToolchainUnavailable`` if the writer is away."""


class LocalCacheWriter:
    """Compiles with ``engine`` in this process and writes into ``directory``."""

    def __init__(self, engine: wasmtime.Engine, directory: Path) -> None:
        self.engine = engine
        self.directory = directory

    def compile(self, kind: Kind, wasm: bytes) -> wasmtime.Module | wc.Component:
        if kind == "module":
            return wasmtime.Module(self.engine, wasm)
        return wc.Component(self.engine, wasm)

    def store(self, kind: Kind, wasm: bytes, fingerprint: str, compiled: wasmtime.Module | wc.Component) -> str:
        name = cache_name(kind, wasm, fingerprint)
        write_atomically(self.directory / name, compiled.serialize())
        return name

    def compile_into(self, kind: Kind, wasm: bytes, fingerprint: str) -> str:
        return self.store(kind, wasm, fingerprint, self.compile(kind, wasm))


_installed: CacheWriter | None = None


def install_cache_writer(writer: CacheWriter | None) -> None:
    """Who writes ``default_cache_dir()`` for this process's caches from now on (None: this process)."""
    global _installed
    _installed = writer


def installed_cache_writer() -> CacheWriter | None:
    return _installed


class ModuleCache:
    """Compile once, then load with ``Module.deserialize_file`` (an mmap; both measured in
    benches/README.md, "Why the hot path is shaped this way"). On a miss, the installed writer
    compiles and stores (for the default directory), else this process."""

    def __init__(self, engine: Engine, directory: Path | None = None) -> None:
        self.engine = engine
        self.directory = directory or default_cache_dir()
        self.writer = _installed if directory is None else None

    def key(self, wasm: bytes) -> str:
        return cache_key(wasm, self.engine.settings.fingerprint())

    def path_for(self, wasm: bytes, kind: Kind = "module") -> Path:
        return self.directory / cache_name(kind, wasm, self.engine.settings.fingerprint())

    def load(self, wasm: bytes) -> wasmtime.Module:
        """The compiled module for ``wasm``, from the cache or compiled now and stored."""
        module = self._load("module", wasm)
        assert isinstance(module, wasmtime.Module)
        return module

    def load_component(self, wasm: bytes) -> wc.Component:
        """The compiled component for ``wasm``, from the cache or compiled now (seconds) and stored."""
        component = self._load("component", wasm)
        assert isinstance(component, wc.Component)
        return component

    def _load(self, kind: Kind, wasm: bytes) -> wasmtime.Module | wc.Component:
        path = self.path_for(wasm, kind)
        if path.exists():
            try:
                return self._map(kind, path)
            except wasmtime.WasmtimeError:
                if self.writer is None:
                    path.unlink(missing_ok=True)  # stale or corrupt: compile again (a writer replaces it)
        fingerprint = self.engine.settings.fingerprint()
        if self.writer is None:
            local = LocalCacheWriter(self.engine.wasmtime, self.directory)
            compiled = local.compile(kind, wasm)
            local.store(kind, wasm, fingerprint, compiled)
            return compiled
        name = self.writer.compile_into(kind, wasm, fingerprint)
        if name != path.name:
            raise CacheRefused(f"the cache writer wrote {name[:80]!r}, not {path.name!r}")
        return self._map(kind, path)

    def _map(self, kind: Kind, path: Path) -> wasmtime.Module | wc.Component:
        if kind == "module":
            return wasmtime.Module.deserialize_file(self.engine.wasmtime, str(path))
        return wc.Component.deserialize_file(self.engine.wasmtime, str(path))

    def store(self, path: Path, serialized: bytes | bytearray) -> None:
        write_atomically(path, serialized)


def write_atomically(path: Path, data: bytes | bytearray) -> None:
    """Write through a temporary file and a rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""On-disk cache of compiled modules, keyed by wasm hash + wasmtime version + engine settings."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import wasmtime

from isolates.engine import Engine


def default_cache_dir() -> Path:
    root = os.environ.get("WASMTASK_CACHE_DIR")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wasmtask" / "modules"


class ModuleCache:
    """Compile once, then load with ``Module.deserialize_file`` (an mmap; both measured in
    benches/README.md, "Why the hot path is shaped this way")."""

    def __init__(self, engine: Engine, directory: Path | None = None) -> None:
        self.engine = engine
        self.directory = directory or default_cache_dir()

    def key(self, wasm: bytes) -> str:
        digest = hashlib.sha256(wasm)
        digest.update(self.engine.settings.fingerprint().encode())
        return digest.hexdigest()

    def path_for(self, wasm: bytes) -> Path:
        return self.directory / f"{self.key(wasm)}.cwasm"

    def load(self, wasm: bytes) -> wasmtime.Module:
        """The compiled module for ``wasm``, from the cache or compiled now and stored."""
        path = self.path_for(wasm)
        if path.exists():
            try:
                return wasmtime.Module.deserialize_file(self.engine.wasmtime, str(path))
            except wasmtime.WasmtimeError:
                path.unlink(missing_ok=True)  # stale or corrupt: compile again
        module = wasmtime.Module(self.engine.wasmtime, wasm)
        self.store(path, module.serialize())
        return module

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

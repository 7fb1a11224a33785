"""The module cache in a process that writes it itself (no builder: tests, ``wasmtask dev``): files named by
the hash of the Wasm they were compiled from and the engine's settings, mapped on a hit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import wasmtime

from isolates.engine import Engine
from isolates.module_cache import CACHE_NAME, ModuleCache, cache_name

MODULE = bytes(wasmtime.wat2wasm('(module (func (export "seven") (result i32) i32.const 7))'))
COMPONENT = bytes(wasmtime.wat2wasm('(component (core module (func (export "f"))))'))


def test_a_miss_compiles_and_stores_under_the_hash_of_the_wasm_and_the_engine(tmp_path: Path) -> None:
    engine = Engine.shared()
    cache = ModuleCache(engine, tmp_path)
    assert cache.writer is None  # a directory of its own: this process writes it

    cache.load(MODULE)
    cache.load_component(COMPONENT)

    key = hashlib.sha256(MODULE + engine.settings.fingerprint().encode()).hexdigest()
    component_key = hashlib.sha256(COMPONENT + engine.settings.fingerprint().encode()).hexdigest()
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted([f"{key}.cwasm", f"component-{component_key[:40]}.cwasm"])
    assert all(CACHE_NAME.fullmatch(name) for name in names)


def test_a_hit_maps_the_file_and_a_corrupt_one_is_compiled_again(tmp_path: Path) -> None:
    engine = Engine.shared()
    path = tmp_path / cache_name("module", MODULE, engine.settings.fingerprint())
    ModuleCache(engine, tmp_path).load(MODULE)
    written = path.stat().st_ino

    assert ModuleCache(engine, tmp_path).load(MODULE).exports[0].name == "seven"
    assert path.stat().st_ino == written  # mapped, not written again

    path.write_bytes(b"not native code")
    assert ModuleCache(engine, tmp_path).load(MODULE).exports[0].name == "seven"
    assert path.read_bytes() != b"not native code"

"""A snapshot as a file: its compiled image written once and mapped back (gateway/artifacts.py stores them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from host_api.request import guest_request
from isolates import CallSpec, Limits, ModuleProgram, prepare, run
from isolates.engine import Engine
from isolates.javascript import JavaScriptRuntime
from isolates.runner import initialize

SOURCE = """
let calls = 0;
const made = ["at", "deploy"].join(" ");
module.exports = function (ctx, cb) { calls += 1; cb(null, { made, calls, query: ctx.query.q }); };
"""


def snapshot() -> ModuleProgram:
    program = prepare("javascript", SOURCE, Limits())
    assert isinstance(program, ModuleProgram)
    return program


def test_a_snapshot_written_and_mapped_back_answers_like_the_one_prepared(tmp_path: Path) -> None:
    runtime = JavaScriptRuntime.shared()
    prepared = snapshot()
    image, _, details = runtime.snapshot_file(prepared)
    path = tmp_path / "f.cwasm"
    path.write_bytes(image.serialize())

    mapped = runtime.load_snapshot(path, details)
    answers = [run(program, guest_request(query=[("q", "x")]), CallSpec()).value for program in (prepared, mapped)]

    assert answers[0] == answers[1] == {"made": "at deploy", "calls": 1, "query": "x"}
    assert mapped.details["snapshot_bytes"] == prepared.details["snapshot_bytes"]
    assert "init_logs" not in details  # said once, at deploy
    assert runtime.is_snapshot(mapped) and not runtime.is_snapshot(runtime.fresh_program(SOURCE))


def test_the_mapped_snapshot_starts_from_the_same_memory(tmp_path: Path) -> None:
    runtime = JavaScriptRuntime.shared()
    prepared = snapshot()
    image, _, details = runtime.snapshot_file(prepared)
    (tmp_path / "f.cwasm").write_bytes(image.serialize())
    mapped = runtime.load_snapshot(tmp_path / "f.cwasm", details)

    images = [initialize(program, CallSpec()).image for program in (prepared, mapped)]

    assert images[0] == images[1]


def test_an_image_compiled_from_its_wasm_by_another_engine_of_the_same_settings_maps_here(tmp_path: Path) -> None:
    """What the builder process does (gateway/artifact_files.py): it compiles the snapshot's Wasm with an
    engine of its own, and every serving process maps the file."""
    runtime = JavaScriptRuntime.shared()
    prepared = snapshot()
    _, wasm, details = runtime.snapshot_file(prepared)
    builders = Engine()
    builders.ticker.stop()
    assert builders.settings.fingerprint() == runtime.engine.settings.fingerprint()
    (tmp_path / "f.cwasm").write_bytes(wasmtime.Module(builders.wasmtime, wasm).serialize())

    mapped = runtime.load_snapshot(tmp_path / "f.cwasm", details)

    assert run(mapped, guest_request(query=[("q", "y")]), CallSpec()).value == {"made": "at deploy", "calls": 1,
                                                                              "query": "y"}


def test_a_file_compiled_by_another_engine_configuration_is_refused(tmp_path: Path) -> None:
    plain = wasmtime.Engine(wasmtime.Config())  # no fuel, no epochs: what wasmtask's engine never is
    path = tmp_path / "other.cwasm"
    path.write_bytes(bytes(wasmtime.Module(plain, b"\0asm\x01\0\0\0").serialize()))

    with pytest.raises(wasmtime.WasmtimeError):
        JavaScriptRuntime.shared().load_snapshot(path, {})


def test_the_fingerprint_names_the_engine_and_the_runtime() -> None:
    runtime = JavaScriptRuntime.shared()

    assert runtime.engine.settings.fingerprint() in runtime.fingerprint
    assert "jsrt=" in runtime.fingerprint and "wasmtime=" in runtime.fingerprint


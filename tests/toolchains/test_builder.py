"""The builder process: a real ``python -m toolchains.builder`` on a unix socket, real compilers and esbuild behind it.

Serving processes cannot exec (gateway/confinement), so their builds go there
through ``BuilderClient``: the same Wasm, the same coded errors as a build in
the gateway's own process.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from gateway.artifact_files import ArtifactRefused, Image, engine_name
from host_api.request import guest_request
from isolates import CallSpec, CpuLimitExceeded, InvalidCode, Limits, ToolchainUnavailable, prepare, run
from isolates.engine import Engine
from isolates.javascript import JavaScriptRuntime
from isolates.module_cache import CacheRefused, ModuleCache
from tests.toolchains.support import require_bundler, require_toolchain
from toolchains.builder import SOCKET_NAME, BuilderClient, BuilderProcess, BuilderUnavailable
from toolchains.bundler import javascript_source
from toolchains.source_files import source_files

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BuilderProcess]:
    monkeypatch.setenv("WASMTASK_CACHE_DIR", str(tmp_path / "cache"))  # builds really run, not from a cache
    monkeypatch.setenv("WASMTASK_SECRET_KEY", "not-for-the-builder")
    started = BuilderProcess.start()
    yield started
    started.stop()


def unique_c() -> str:
    return (REPO / "examples/c/hello.c").read_text() + f"\n/* {uuid.uuid4()} */\n"


def test_a_c_function_built_by_the_builder_runs(builder: BuilderProcess) -> None:
    require_toolchain("c")
    program = prepare("c", unique_c(), Limits(), compiler=builder.client(), filename="hello.c")
    result = run(program, guest_request(query=[("name", "builder")]), CallSpec(limits=Limits()))
    assert result.value == {"hello": "builder", "method": "GET", "language": "c"}


def test_a_source_that_does_not_build_is_invalid_code_naming_the_users_file(builder: BuilderProcess) -> None:
    require_toolchain("c")
    with pytest.raises(InvalidCode, match=r"(?s)does not build.*greet\.c:\d+:\d+: error"):
        builder.client().compile("c", unique_c().replace("wt_return_json(", "no_such_function("), "greet.c")


def test_a_build_over_its_time_limit_is_cpu_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_toolchain("c")
    monkeypatch.setenv("WASMTASK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WASMTASK_BUILD_TIMEOUT_S", "0.01")  # passed on to the builder's environment
    slow = BuilderProcess.start()
    try:
        with pytest.raises(CpuLimitExceeded, match="did not finish"):
            slow.client().compile("c", unique_c())
    finally:
        slow.stop()


def test_an_unknown_language_is_language_unavailable(builder: BuilderProcess) -> None:
    with pytest.raises(ToolchainUnavailable, match="no toolchain for 'cobol'"):
        builder.client().compile("cobol", "IDENTIFICATION DIVISION.")


def test_javascript_imports_are_bundled_by_the_builder(builder: BuilderProcess) -> None:
    require_bundler()
    files = {"index.js": "import { greet } from './greet.js';\nexport default () => greet('builder');\n",
             "greet.js": "export const greet = (name) => `hello ${name}`;\n"}
    source = javascript_source(source_files(files, "index.js").encode(), bundler=builder.client())
    limits = Limits(fuel=1_000_000_000)
    result = run(prepare("javascript", source, limits), guest_request(), CallSpec(limits=limits))
    assert result.value == "hello builder"


def test_a_missing_npm_module_is_invalid_code_naming_it(builder: BuilderProcess) -> None:
    require_bundler()
    code = source_files({"index.js": "import x from 'left-pad-9000';\nexport default () => x;\n"}, "index.js")
    with pytest.raises(InvalidCode, match="module 'left-pad-9000' is not available"):
        javascript_source(code.encode(), bundler=builder.client())


def test_a_client_without_the_key_is_refused_and_the_builder_keeps_serving(builder: BuilderProcess) -> None:
    require_toolchain("c")
    intruder = BuilderClient(str(builder.directory / SOCKET_NAME), b"not the key")
    with pytest.raises(BuilderUnavailable):
        intruder.compile("c", unique_c())
    assert builder.client().compile("c", unique_c()).wasm.startswith(b"\0asm")


def test_a_malformed_request_ends_only_its_connection(builder: BuilderProcess) -> None:
    require_toolchain("c")
    key = (builder.directory / "builder.key").read_bytes()
    with Client(str(builder.directory / SOCKET_NAME), family="AF_UNIX", authkey=key) as connection:
        connection.send_bytes(b"\x80\x04not json, not pickle either")  # a pickle would never be loaded
        with pytest.raises((EOFError, ConnectionResetError)):
            connection.recv_bytes()
    assert builder.client().compile("c", unique_c()).wasm.startswith(b"\0asm")


def test_the_builder_holds_none_of_the_servers_keys(builder: BuilderProcess) -> None:
    environment = Path(f"/proc/{builder.process.pid}/environ").read_bytes().split(b"\0")
    assert not any(entry.startswith(b"WASMTASK_SECRET_KEY=") for entry in environment)


def test_closing_its_stdin_ends_the_builder_and_removes_its_socket(tmp_path: Path) -> None:
    started = BuilderProcess.start()
    client = started.client()
    assert client.reachable() is None
    assert started.process.stdin is not None
    started.process.stdin.close()  # what the server's end does, even a SIGKILLed one
    assert started.process.wait(10) == 0
    assert not started.directory.exists()
    with pytest.raises(BuilderUnavailable, match="unreachable"):
        client.compile("c", "int x;")
    started.stop()


# the prepared programs' files (gateway/artifact_files.py): written by the builder only, compiled there from Wasm

# a memory like an image's, and code that runs at instantiation
CODE_IN_AN_IMAGE = '(module (memory (export "memory") 1) (func $planted) (start $planted))'
JS_SOURCE = "module.exports = function (ctx, cb) { cb(null, 'mapped from the builder\\'s file'); };"


@pytest.fixture
def artifact_builder(tmp_path: Path) -> Iterator[BuilderProcess]:
    started = BuilderProcess.start(artifacts=tmp_path / "artifacts")
    yield started
    started.stop()


def test_the_builder_compiles_an_images_wasm_into_a_file_this_process_maps_and_runs(
        artifact_builder: BuilderProcess, tmp_path: Path) -> None:
    runtime = JavaScriptRuntime.shared()
    _, wasm, details = runtime.snapshot_file(runtime.snapshot_program(JS_SOURCE, Limits()))
    assert wasm is not None
    writer = artifact_builder.client().artifact_writer()

    staged = writer.stage(runtime.fingerprint, "acme", "hello", Image(None, wasm))  # Wasm only: no native code
    writer.publish(runtime.fingerprint, "acme", "hello", 7, staged.name, b'{"a": "header"}')

    directory = tmp_path / "artifacts" / engine_name(runtime.fingerprint) / "acme" / "hello"
    assert sorted(path.name for path in directory.iterdir()) == ["7.cwasm", "7.json"]
    assert (directory / "7.cwasm").stat().st_size == staged.size
    mapped = runtime.load_snapshot(directory / "7.cwasm", details)
    assert run(mapped, guest_request(), CallSpec()).value == "mapped from the builder's file"

    copied = writer.copy(runtime.fingerprint, "acme", "hello", 7)  # a change of secrets: the same program
    writer.publish(runtime.fingerprint, "acme", "hello", 8, copied.name, b"{}")
    assert sorted(path.name for path in directory.iterdir()) == ["8.cwasm", "8.json"]  # the older version's gone
    assert (copied.size, copied.crc32) == (staged.size, staged.crc32)

    writer.remove_function("acme", "hello")
    assert not directory.exists()


@pytest.mark.parametrize(("change", "refusal"), [
    ({"tenant": "../../etc"}, "not a tenant or function name"),
    ({"function": "a/b"}, "not a tenant or function name"),
    ({"fingerprint": "fuel=1;epoch=1;stack=1;opt=none;wasmtime=0;jsrt=x"}, "an engine of other settings"),
    ({"wasm": b"\x7fELF native code"}, "not an image module: not a Wasm core module"),
    ({"wasm": bytes(wasmtime.wat2wasm(CODE_IN_AN_IMAGE))}, "not an image module: it has sections"),
])
def test_the_builder_refuses_a_path_an_engine_or_an_image_it_should_not_write(
        artifact_builder: BuilderProcess, tmp_path: Path, change: dict[str, Any], refusal: str) -> None:
    runtime = JavaScriptRuntime.shared()
    _, wasm, _ = runtime.snapshot_file(runtime.snapshot_program(JS_SOURCE, Limits()))
    assert wasm is not None
    request: dict[str, Any] = {"fingerprint": runtime.fingerprint, "tenant": "acme", "function": "hello",
                               "wasm": wasm, **change}
    writer = artifact_builder.client().artifact_writer()
    with pytest.raises(ArtifactRefused, match=refusal):
        writer.stage(request["fingerprint"], request["tenant"], request["function"], Image(None, request["wasm"]))
    assert list((tmp_path / "artifacts").rglob("*.cwasm")) == []


def test_a_staged_name_that_is_a_path_is_refused(artifact_builder: BuilderProcess, tmp_path: Path) -> None:
    fingerprint = JavaScriptRuntime.shared().fingerprint
    (tmp_path / "victim").write_text("kept")
    writer = artifact_builder.client().artifact_writer()
    with pytest.raises(ArtifactRefused, match="not a staged file's name"):
        writer.publish(fingerprint, "acme", "hello", 1, "../../../victim", b"{}")
    with pytest.raises(ArtifactRefused, match="not a staged file's name"):
        writer.discard(fingerprint, "acme", "hello", "../../../victim")
    assert (tmp_path / "victim").read_text() == "kept"


def test_a_builder_started_without_an_artifacts_directory_writes_none(builder: BuilderProcess) -> None:
    with pytest.raises(ArtifactRefused, match="started without --artifacts"):
        builder.client().artifact_writer().remove_tenant("acme")



# the module cache's misses (isolates/module_cache.py): the builder compiles and names the file


def unique_module() -> tuple[int, bytes]:
    """A module whose ``answer`` returns a new number (new bytes: a miss), and that number."""
    marker = uuid.uuid4().int & 0x7FFFFFFF
    return marker, bytes(wasmtime.wat2wasm(f'(module (func (export "answer") (result i32) i32.const {marker}))'))


def cached_names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.cwasm"))


def test_a_cache_miss_is_compiled_by_the_builder_under_the_name_its_bytes_make(builder: BuilderProcess,
                                                                               tmp_path: Path) -> None:
    engine = Engine.shared()
    marker, wasm = unique_module()
    cache = ModuleCache(engine)  # WASMTASK_CACHE_DIR: the builder's directory too (the fixture's)
    cache.writer = builder.client().cache_writer()

    module = cache.load(wasm)  # compiled and written by the builder, mapped here

    key = hashlib.sha256(wasm + engine.settings.fingerprint().encode()).hexdigest()
    assert cached_names(tmp_path / "cache") == [f"{key}.cwasm"]
    store = wasmtime.Store(engine.wasmtime)
    store.set_fuel(1_000)
    store.set_epoch_deadline(1_000_000)  # the engine's ticker interrupts at the deadline
    answer = wasmtime.Instance(store, module, []).exports(store)["answer"]
    assert isinstance(answer, wasmtime.Func) and answer(store) == marker

    assert ModuleCache(engine).load(wasm).exports[0].name == "answer"  # a hit: mapped, no writer needed


def test_the_builder_compiles_a_component_into_the_cache(builder: BuilderProcess, tmp_path: Path) -> None:
    engine = Engine.shared()
    marker, _ = unique_module()
    wasm = bytes(wasmtime.wat2wasm(f'(component (core module (func (export "f{marker}"))))'))
    cache = ModuleCache(engine)
    cache.writer = builder.client().cache_writer()

    cache.load_component(wasm)

    key = hashlib.sha256(wasm + engine.settings.fingerprint().encode()).hexdigest()
    assert cached_names(tmp_path / "cache") == [f"component-{key[:40]}.cwasm"]


def test_the_builder_refuses_an_engine_of_other_settings(builder: BuilderProcess, tmp_path: Path) -> None:
    _, wasm = unique_module()
    writer = builder.client().cache_writer()
    with pytest.raises(CacheRefused, match="an engine of other settings"):
        writer.compile_into("module", wasm, "fuel=1;epoch=1;stack=1;opt=none;wasmtime=0")
    assert cached_names(tmp_path / "cache") == []


@pytest.mark.parametrize("payload", [b"\x7fELF native code", b"\0asm\x01\0\0\0 not a module"])
def test_the_builder_compiles_nothing_that_is_not_wasm(builder: BuilderProcess, tmp_path: Path,
                                                        payload: bytes) -> None:
    writer = builder.client().cache_writer()
    with pytest.raises(wasmtime.WasmtimeError):
        writer.compile_into("module", payload, Engine.shared().settings.fingerprint())
    with pytest.raises(wasmtime.WasmtimeError):
        writer.compile_into("component", payload, Engine.shared().settings.fingerprint())
    assert cached_names(tmp_path / "cache") == []


def test_a_cache_request_of_an_unknown_kind_is_refused(builder: BuilderProcess) -> None:
    _, wasm = unique_module()
    answer, _ = builder.client().request({"op": "cache", "kind": "native", "fingerprint": "x"}, wasm)
    assert answer == {"ok": False, "error": "bad_request", "message": "unknown kind 'native'"}


def test_prepare_through_an_unreachable_builder_is_language_unavailable(builder: BuilderProcess) -> None:
    _, wasm = unique_module()
    cache = ModuleCache(Engine.shared())
    cache.writer = BuilderClient(builder.client().address + ".gone", b"key").cache_writer()
    with pytest.raises(BuilderUnavailable):
        cache.load(wasm)

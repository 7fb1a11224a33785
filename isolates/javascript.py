"""The JavaScript guest: the shared QuickJS-NG runtime (jsrt.wasm) plus the user's source."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path

import orjson
import wasmtime

from isolates.engine import Engine
from isolates.limits import WASM_PAGE_BYTES, Limits
from isolates.module_cache import ModuleCache
from isolates.module_linker import unsupported_imports
from isolates.program import ModuleProgram, abi_problems
from isolates.runner import initialize
from isolates.snapshot import image_module_bytes
from isolates.spec import CallSpec
from isolates.wasm_binary import data_module, data_segments, without_data

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_LIMITS = Limits(fuel=1_000_000_000, memory_bytes=256 * 1024 * 1024, wall_clock_ms=30_000)

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_MODULE_STATEMENT = re.compile(
    r"(?:^|[;{}])\s*(?:export\s+(?:default\b|const\b|let\b|var\b|function\b|async\b|class\b|\{|\*)"
    r"|import(?:\s+[\w{*]|\s*[{*\"']))",  # import x, import {..}, import * as, import "x"; not import_x
    re.MULTILINE,
)


def is_es_module(source: str) -> bool:
    """Whether ``source`` is an ES module: it has an import or export statement."""
    return _MODULE_STATEMENT.search(_COMMENTS.sub("", source)) is not None


def runtime_wasm_path() -> Path:
    """The built runtime: $WASMTASK_JS_RUNTIME, or build/jsrt.wasm (``make runtime``)."""
    return Path(os.environ.get("WASMTASK_JS_RUNTIME", REPO_ROOT / "build" / "jsrt.wasm"))


# The prelude's lazy modules (guest_sdk/js/prelude/35-webidl.js, 95-models.js), and the names in a
# source that make a deploy compile one into the snapshot rather than each call that uses it.
LAZY_MODULE_HINTS = {
    "streams": re.compile(r"\b(ReadableStream|WritableStream|TransformStream|QueuingStrategy|TextDecoderStream"
                          r"|TextEncoderStream)\b|\.(pipeTo|pipeThrough|getReader|tee|stream)\s*\("),
    "blob": re.compile(r"\b(Blob|File|FormData)\b|\.(blob|formData)\s*\("),
    "clone": re.compile(r"\bstructuredClone\b"),
    "http": re.compile(r"\b(Response|Request|Headers)\b"),
    "fetch": re.compile(r"\bRequest\b|\.(blob|formData|redirect)\s*\("),
    "events": re.compile(r"\b(Event|CustomEvent|EventTarget|AbortController|AbortSignal|performance|Performance)\b"
                         r"|\.signal\b|addEventListener"),
    # not only a hint: ctx.storage and env.KV exist only in functions whose source names them (75-storage.js)
    "storage": re.compile(r"\b(storage|KV)\b"),
}
_BODY = re.compile(r"\.body\b(?!Used)")
_FETCH_CALL = re.compile(r"\bfetch\s*\(")
_FETCH_DEFINITION = re.compile(r"\bfetch\s*\([^()]*\)\s*\{")


def lazy_module_hints(source: str) -> dict[str, object]:
    """Which lazy modules ``source`` names (read here: the same regexes in the guest cost ~5,000 fuel a byte)."""
    modules = [name for name, pattern in LAZY_MODULE_HINTS.items() if pattern.search(source)]
    # a call of fetch(), not the definition of a Workers handler's fetch(request) {...}
    if len(_FETCH_CALL.findall(source)) > len(_FETCH_DEFINITION.findall(source)) and "fetch" not in modules:
        modules.append("fetch")
    return {"modules": modules, "body": _BODY.search(source) is not None}


class RuntimeMissing(RuntimeError):
    """jsrt.wasm has not been built."""


class JavaScriptRuntime:
    """The runtime's code compiled once per engine, and its initial memory image."""

    def __init__(self, engine: Engine, cache: ModuleCache, wasm: bytes) -> None:
        self.engine = engine
        self.cache = cache
        # A snapshot holds this runtime's memory: it fits only this runtime on this engine
        self.fingerprint = f"{engine.settings.fingerprint()};jsrt={hashlib.sha256(wasm).hexdigest()}"
        self.code = cache.load(without_data(wasm))
        problems = [f"imports {name}" for name in unsupported_imports(self.code)] + abi_problems(self.code)
        if problems:
            raise RuntimeError(f"jsrt.wasm does not fit this host: {problems}")
        memory_import = next(i for i in self.code.imports if i.module == "env" and i.name == "memory")
        memory_type = memory_import.type
        if not isinstance(memory_type, wasmtime.MemoryType):
            raise RuntimeError("jsrt.wasm's env.memory import is not a memory")
        min_pages = memory_type.limits.min
        # the shim decodes request frames (host_api.request.encode_frame) where it exports this
        self.request_frames = any(e.name == "wasmtask_request_frames" for e in self.code.exports)
        # The runtime's own data, before it ran: what a program would start from without a base snapshot.
        self.initial_image = cache.load(data_module(data_segments(wasm), min_pages=min_pages))
        # The base snapshot: runtime started and prelude evaluated, no user code yet. Every
        # program starts from it, so no call pays for starting the runtime again (what that
        # saves a one-off run: benches/README.md, "Why the hot path is shaped this way").
        start = ModuleProgram(language="javascript", code=self.code, image=self.initial_image,
                        init_config=b"{}", run_initialize=True)
        self.base_image, self.base_details, _ = self._snapshot(start, BASE_LIMITS)

    _shared: JavaScriptRuntime | None = None
    _lock = threading.Lock()

    @classmethod
    def shared(cls, engine: Engine | None = None) -> JavaScriptRuntime:
        with cls._lock:
            if cls._shared is None:
                path = runtime_wasm_path()
                if not path.exists():
                    raise RuntimeMissing(f"{path} is missing: build it with `make runtime`")
                engine = engine or Engine.shared()
                cls._shared = cls(engine, ModuleCache(engine), path.read_bytes())
            return cls._shared

    def init_config(self, source: str, filename: str = "index.js") -> bytes:
        return orjson.dumps({"source": source, "filename": filename, "module": is_es_module(source),
                             "hints": lazy_module_hints(source)})

    def _snapshot(self, program: ModuleProgram, limits: Limits) -> tuple[wasmtime.Module, dict[str, object], bytes]:
        """Run ``program``'s init once, metered like a request; its memory becomes an image module
        (compiled, its details, its Wasm)."""
        initialized = initialize(program, CallSpec(limits=limits), engine=self.engine)
        image, init_fuel = initialized.image, initialized.fuel_used
        module_bytes = image_module_bytes(image)
        module = wasmtime.Module(self.engine.wasmtime, module_bytes)
        details: dict[str, object] = {
            "snapshot_bytes": len(module_bytes),
            "memory_pages": len(image) // WASM_PAGE_BYTES,
            "init_fuel": init_fuel,
            "init_logs": [r.to_dict() for r in initialized.logs],
        }
        return module, details, module_bytes

    def fresh_program(self, source: str, filename: str = "index.js") -> ModuleProgram:
        """The user's top-level code runs in every call (one-off runs); the runtime and
        prelude start from the base snapshot."""
        return ModuleProgram(
            language="javascript",
            code=self.code,
            image=self.base_image,
            init_config=self.init_config(source, filename),
            run_initialize=False,
            request_frames=self.request_frames,
        )

    def snapshot_program(self, source: str, limits: Limits, filename: str = "index.js") -> ModuleProgram:
        """Run the user's top-level code once, metered like a request, and keep the memory
        as the function's image (deploys).

        Raises ``InvalidCode`` for code that does not load, ``CpuLimitExceeded``
        for top-level code that loops, and the other limit errors likewise.
        """
        image, details, wasm = self._snapshot(self.fresh_program(source, filename), limits)
        return self._snapshot_of(image, details, wasm)

    def _snapshot_of(self, image: wasmtime.Module, details: dict[str, object],
                     wasm: bytes | None = None) -> ModuleProgram:
        return ModuleProgram(language="javascript", code=self.code, image=image, init_config=None,
                             run_initialize=False, details=details, request_frames=self.request_frames,
                             image_wasm=wasm)

    # A snapshot as a file (gateway/artifacts.py): its image module, compiled, and what is not in it.

    def is_snapshot(self, program: ModuleProgram) -> bool:
        """Whether ``program`` is a snapshot of this runtime (its image all that is its own)."""
        return (program.language == "javascript" and program.code is self.code and program.image is not None
                and program.init_config is None)

    def snapshot_file(self, program: ModuleProgram) -> tuple[wasmtime.Module, bytes | None, dict[str, object]]:
        """What a snapshot's file is made of: its image module (compiled, and its Wasm: None unless
        ``snapshot_program`` made it in this process), and its details as JSON-able data."""
        assert program.image is not None and self.is_snapshot(program), "not a snapshot of this runtime"
        details = {key: value for key, value in program.details.items() if key != "init_logs"}
        return program.image, program.image_wasm, details

    def load_snapshot(self, path: Path, details: dict[str, object]) -> ModuleProgram:
        """The snapshot whose compiled image is the file at ``path`` (``Module.deserialize_file``: a
        mapping; the memory image is mapped copy-on-write from the file, shared by every process that
        maps it). ``wasmtime.WasmtimeError`` if the file is not one for this engine."""
        image = wasmtime.Module.deserialize_file(self.engine.wasmtime, str(path))
        return self._snapshot_of(image, details)

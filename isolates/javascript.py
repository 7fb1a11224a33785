"""The JavaScript guest: the shared QuickJS-NG runtime (jsrt.wasm) plus the user's source."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import orjson
import wasmtime

from isolates.call_context import CallContext
from isolates.engine import Engine
from isolates.errors import InvalidCode, IsolateError
from isolates.host_functions import unsupported_imports
from isolates.invoke import Call
from isolates.limits import WASM_PAGE_BYTES, Limits
from isolates.module_cache import ModuleCache
from isolates.program import Program
from isolates.snapshot import image_module_bytes, memory_image
from isolates.wasm_binary import data_module, data_segments, without_data
from host_api.log import CallLog

REPO_ROOT = Path(__file__).resolve().parent.parent

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_MODULE_STATEMENT = re.compile(r"^\s*(?:export\s+(?:default\b|const\b|let\b|var\b|function\b|async\b|class\b|\{|\*)|import\s*(?:[\w{*]|[\"']))", re.MULTILINE)


def is_es_module(source: str) -> bool:
    """Whether ``source`` is an ES module: a line starting with an import or export statement."""
    return _MODULE_STATEMENT.search(_COMMENTS.sub("", source)) is not None


def runtime_wasm_path() -> Path:
    """The built runtime: $WASMTASK_JS_RUNTIME, or build/jsrt.wasm (``make runtime``)."""
    return Path(os.environ.get("WASMTASK_JS_RUNTIME", REPO_ROOT / "build" / "jsrt.wasm"))


class RuntimeMissing(RuntimeError):
    """jsrt.wasm has not been built."""


class JavaScriptRuntime:
    """The runtime's code compiled once per engine, and its initial memory image."""

    def __init__(self, engine: Engine, cache: ModuleCache, wasm: bytes) -> None:
        self.engine = engine
        self.cache = cache
        self.code = cache.load(without_data(wasm))
        missing = unsupported_imports(self.code)
        if missing:
            raise RuntimeError(f"jsrt.wasm imports what the host lacks: {missing}")
        memory_import = next(i for i in self.code.imports if i.module == "env" and i.name == "memory")
        min_pages = memory_import.type.limits.min
        self.initial_image = cache.load(data_module(data_segments(wasm), min_pages=min_pages))

    _shared: "JavaScriptRuntime | None" = None
    _lock = threading.Lock()

    @classmethod
    def shared(cls, engine: Engine | None = None) -> "JavaScriptRuntime":
        with cls._lock:
            if cls._shared is None:
                path = runtime_wasm_path()
                if not path.exists():
                    raise RuntimeMissing(f"{path} is missing: build it with `make runtime`")
                engine = engine or Engine.shared()
                cls._shared = cls(engine, ModuleCache(engine), path.read_bytes())
            return cls._shared

    def init_config(self, source: str, filename: str = "index.js") -> bytes:
        return orjson.dumps({"source": source, "filename": filename, "module": is_es_module(source)})

    def fresh_program(self, source: str, filename: str = "index.js") -> Program:
        """Runs init (runtime start + the user's top-level code) in every call: for one-off runs."""
        return Program(
            language="javascript",
            code=self.code,
            image=self.initial_image,
            init_config=self.init_config(source, filename),
            run_initialize=True,
        )

    def snapshot_program(self, source: str, limits: Limits, filename: str = "index.js") -> Program:
        """Run init once, metered like a request, and keep the memory as the function's image.

        Raises ``InvalidCode`` for code that does not load, ``CpuLimitExceeded``
        for top-level code that loops, and the other limit errors likewise.
        """
        fresh = self.fresh_program(source, filename)
        log = CallLog(max_bytes=limits.log_bytes, max_lines=limits.log_lines)
        call = Call(self.engine, fresh, limits, CallContext(log=log))
        from isolates.call_context import set_current

        set_current(call.context)
        try:
            call.instantiate()
            call.initialize()
            image = memory_image(call.context.memory, call.store)  # type: ignore[arg-type]
            init_fuel = call.fuel_used()
        finally:
            set_current(None)
            call.close()
        module_bytes = image_module_bytes(image)
        try:
            image_module = wasmtime.Module(self.engine.wasmtime, module_bytes)
        except wasmtime.WasmtimeError as exc:  # pragma: no cover - our own module
            raise IsolateError(f"snapshot module failed to compile: {exc}") from exc
        return Program(
            language="javascript",
            code=self.code,
            image=image_module,
            init_config=None,
            run_initialize=False,
            details={
                "snapshot_bytes": len(module_bytes),
                "memory_pages": len(image) // WASM_PAGE_BYTES,
                "init_fuel": init_fuel,
                "init_logs": [r.to_dict() for r in log.records],
            },
        )


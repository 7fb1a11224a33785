"""Turning user code into a Program: per language, validated and compiled at deploy time.

A Python component carries the CPython interpreter, and Cranelift takes seconds
to compile it, so its compiled form is cached on disk (``Component.serialize``,
keyed by the build's key and the engine's settings) and loaded with
``deserialize_file`` (an mmap). Both, with the component's sizes:
benches/README.md, "Why the hot path is shaped this way" (``python -m benches.micro``).
"""

from __future__ import annotations

import time
from dataclasses import replace

import wasmtime
import wasmtime.component as wc

from host_api import abi
from isolates.compiler import CompiledGuest, Compiler
from isolates.component_linker import component_imports
from isolates.engine import Engine
from isolates.errors import InvalidCode, ToolchainUnavailable
from isolates.javascript import JavaScriptRuntime
from isolates.languages import LANGUAGES, ProgramKind, normalize_language
from isolates.limits import Limits
from isolates.module_cache import ModuleCache
from isolates.module_linker import unsupported_imports
from isolates.program import ComponentProgram, ModuleProgram, Program, abi_problems


def prepare(
    language: str, code: str | bytes, limits: Limits, *, snapshot: bool = True, compiler: Compiler | None = None,
    filename: str | None = None,
) -> Program:
    """Validate and compile ``code``. With ``snapshot``, run its init once now (deploys);
    without, every call runs it (one-off runs). Source languages (C, Zig, Rust,
    AssemblyScript, Python) are built by ``compiler``. ``filename``: the user's name for
    the source file, which stack traces and compile errors name (default: the language's
    own, ``index.js``, ``main.c``). Raises ``IsolateError`` subclasses."""
    spec = LANGUAGES[normalize_language(language)]
    if spec.name == "javascript":
        source = code.decode("utf-8") if isinstance(code, bytes) else code
        runtime = JavaScriptRuntime.shared()
        if snapshot:
            return runtime.snapshot_program(source, limits, filename or "index.js")
        # still check that it loads, cheaply: syntax errors surface at the call
        return runtime.fresh_program(source, filename or "index.js")
    if not spec.compiled:
        return prepare_wasm(code)
    built = build_source(spec.name, code, compiler, filename)
    if spec.kind is ProgramKind.COMPONENT:
        return prepare_component(spec.name, built)
    return replace(prepare_wasm(built.wasm), language=spec.name)


def build_source(
    language: str, code: str | bytes, compiler: Compiler | None, filename: str | None = None
) -> CompiledGuest:
    """Compile guest source with ``compiler`` (it caches its builds)."""
    if compiler is None:
        raise ToolchainUnavailable(f"no compiler for {language} in this process")
    try:
        source = code.decode("utf-8") if isinstance(code, bytes) else code
    except UnicodeDecodeError as exc:
        raise InvalidCode(f"the {language} source is not UTF-8 text") from exc
    return compiler.compile(language, source, filename)


def prepare_wasm(code: str | bytes) -> ModuleProgram:
    """A core module (binary or WAT text) speaking the wasmtask ABI."""
    engine = Engine.shared()
    if isinstance(code, str) or not code.startswith(b"\0asm"):
        try:
            text = code if isinstance(code, str) else code.decode("utf-8")
            binary = bytes(wasmtime.wat2wasm(text))
        except (UnicodeDecodeError, wasmtime.WasmtimeError) as exc:
            raise InvalidCode(f"not a Wasm module or valid WAT: {str(exc).splitlines()[0]}") from exc
    else:
        binary = code
    try:
        module = ModuleCache(engine).load(binary)
    except wasmtime.WasmtimeError as exc:
        raise InvalidCode(f"invalid Wasm module: {str(exc).splitlines()[0]}") from exc
    missing = unsupported_imports(module)
    if missing:
        raise InvalidCode(f"the module imports what wasmtask does not provide: {', '.join(missing)}")
    problems = abi_problems(module)
    if abi.EXPORT_MEMORY not in {e.name for e in module.exports}:
        problems.append(f"missing export {abi.EXPORT_MEMORY}")
    if problems:
        raise InvalidCode(f"the module does not follow the wasmtask ABI (guest_sdk/ABI.md): {'; '.join(problems)}")
    return ModuleProgram(language="wasm", code=module, image=None, init_config=None, run_initialize=True)


def prepare_component(language: str, built: CompiledGuest, *, engine: Engine | None = None) -> ComponentProgram:
    """A ComponentProgram for a component built from ``language`` source."""
    engine = engine or Engine.shared()
    started = time.perf_counter()
    component = load_component(engine, built)
    with component.type as component_type:
        exports = set(component_type.exports(engine.wasmtime))
    if abi.COMPONENT_EXPORT_HANDLE not in exports:
        raise InvalidCode(f"the component does not export {abi.COMPONENT_EXPORT_HANDLE} (see guest_sdk/python/wit)")
    imports = component_imports(engine, component)
    return ComponentProgram(
        language=language,
        code=component,
        imports=imports,
        details={
            "component_bytes": len(built.wasm),
            "load_ms": round((time.perf_counter() - started) * 1000, 3),
            "imports": imports,
        },
    )


def load_component(engine: Engine, built: CompiledGuest) -> wc.Component:
    """The compiled component: from the on-disk cache (keyed by its Wasm's hash), or compiled now (seconds)
    and stored (isolates/module_cache.py: by the builder process under ``wasmtask serve``)."""
    try:
        return ModuleCache(engine).load_component(built.wasm)
    except wasmtime.WasmtimeError as exc:
        raise InvalidCode(f"invalid component: {str(exc).splitlines()[0]}") from exc

"""Turning user code into a Program: per language, validated and compiled at deploy time."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import wasmtime

from isolates.engine import Engine
from isolates.errors import CpuLimitExceeded, InvalidCode, IsolateError
from isolates.host_functions import unsupported_imports
from isolates.javascript import JavaScriptRuntime
from isolates.limits import Limits
from isolates.module_cache import ModuleCache, default_cache_dir
from isolates.program import Program, abi_problems

if TYPE_CHECKING:
    from guest_sdk.toolchains import Built

LANGUAGES = ("javascript", "wasm", "c", "zig", "rust", "assemblyscript", "python")
LANGUAGE_ALIASES = {"js": "javascript", "javascript": "javascript", "wasm": "wasm", "wat": "wasm",
                    "c": "c", "zig": "zig", "rust": "rust", "rs": "rust", "assemblyscript": "assemblyscript",
                    "as": "assemblyscript", "python": "python", "py": "python"}
# Source compiled at deploy time by guest_sdk.toolchains: to core modules, or (python) to a component.
CORE_SOURCE_LANGUAGES = ("c", "zig", "rust", "assemblyscript")


def normalize_language(language: str) -> str:
    try:
        return LANGUAGE_ALIASES[language.lower()]
    except KeyError:
        raise InvalidCode(f"unknown language {language!r}; known: {', '.join(sorted(LANGUAGE_ALIASES))}") from None


def prepare(language: str, code: str | bytes, limits: Limits, *, snapshot: bool = True) -> Program:
    """Validate and compile ``code``. With ``snapshot``, run its init once now (deploys);
    without, every call runs it (one-off runs). Raises ``IsolateError`` subclasses."""
    language = normalize_language(language)
    if language == "javascript":
        source = code.decode("utf-8") if isinstance(code, bytes) else code
        runtime = JavaScriptRuntime.shared()
        if snapshot:
            return runtime.snapshot_program(source, limits)
        # still check that it loads, cheaply: syntax errors surface at the call
        return runtime.fresh_program(source)
    if language in CORE_SOURCE_LANGUAGES:
        return replace(prepare_wasm(build_source(language, code).wasm), language=language)
    if language == "python":
        from isolates.component import prepare_component

        built = build_source(language, code)
        return prepare_component(language, built.wasm, built.key)
    return prepare_wasm(code)


def build_source(language: str, code: str | bytes) -> "Built":
    """Compile guest source with its SDK (cached under the module cache). Maps build failures to errors."""
    from guest_sdk import toolchains

    try:
        source = code.decode("utf-8") if isinstance(code, bytes) else code
        return toolchains.build(language, source, default_cache_dir() / "guests")
    except UnicodeDecodeError as exc:
        raise InvalidCode(f"the {language} source is not UTF-8 text") from exc
    except toolchains.BuildError as exc:
        raise InvalidCode(f"the {language} source does not build:\n{exc}") from exc
    except toolchains.BuildTimedOut as exc:
        raise CpuLimitExceeded(f"the {language} build did not finish: {exc}") from exc
    except toolchains.ToolchainMissing as exc:
        raise IsolateError(str(exc)) from exc


def prepare_wasm(code: str | bytes) -> Program:
    """A core module (binary or WAT text) speaking the wasmtask ABI."""
    engine = Engine.shared()
    if isinstance(code, str) or not code.startswith(b"\0asm"):
        try:
            text = code if isinstance(code, str) else code.decode("utf-8")
            code = wasmtime.wat2wasm(text)
        except (UnicodeDecodeError, wasmtime.WasmtimeError) as exc:
            raise InvalidCode(f"not a Wasm module or valid WAT: {str(exc).splitlines()[0]}") from exc
    try:
        module = ModuleCache(engine).load(code)
    except wasmtime.WasmtimeError as exc:
        raise InvalidCode(f"invalid Wasm module: {str(exc).splitlines()[0]}") from exc
    missing = unsupported_imports(module)
    if missing:
        raise InvalidCode(f"the module imports what wasmtask does not provide: {', '.join(missing)}")
    problems = abi_problems(module)
    if "memory" not in {e.name for e in module.exports}:
        problems.append("missing export memory")
    if problems:
        raise InvalidCode(f"the module does not follow the wasmtask ABI (guest_sdk/ABI.md): {'; '.join(problems)}")
    return Program(language="wasm", code=module, image=None, init_config=None, run_initialize=True)

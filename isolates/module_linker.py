"""The core-module Linker: every capability's ``ModuleFunction`` as a raw host function.

Why raw callbacks: wasmtime-py's ``define_func`` trampoline wraps the caller and
converts every argument and result through a ``Val`` on each host call, and a
host call happens on every console line and every clock read; an unchecked
callback reads and writes the raw values. The two side by side:
benches/README.md, "Why the hot path is shaped this way" (``python -m benches.micro``).

One set of ctypes callbacks serves the whole process; each thread has its own
Linker, because each call redefines ``env.memory`` in it (a snapshot's memory).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import wasmtime

from isolates import raw
from isolates.capabilities import CAPABILITIES, ModuleFunction, ProcExit

VALUE_TYPES = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64(), "f64": wasmtime.ValType.f64()}
MODULE_FUNCTIONS: tuple[ModuleFunction, ...] = tuple(f for c in CAPABILITIES for f in c.module_functions)
PROVIDED_IMPORTS = frozenset((f.module, f.name) for f in MODULE_FUNCTIONS)


def _raw_callback(function: ModuleFunction) -> Any:
    """A ctypes callback over raw values: no Caller or Val objects per call; never unwinds into wasm."""
    params = function.params
    result = function.results[0] if function.results else None
    implementation: Callable[..., Any] = function.implementation
    caller_context = raw.caller_context

    def callback(_env: Any, caller: Any, values: Any, _count: int) -> int:
        try:
            arguments = [getattr(values[index], kind) for index, kind in enumerate(params)]
            answer = implementation(caller_context(caller), *arguments)
            if result is not None:
                setattr(values[0], result, answer)
            return 0
        except ProcExit as exc:
            return raw.new_trap(str(exc))
        except BaseException as exc:  # the guest's call fails instead
            return raw.new_trap(f"host function failed: {type(exc).__name__}")

    return raw.UncheckedCallback(callback)


_callbacks: list[tuple[ModuleFunction, Any]] = []
_callbacks_lock = threading.Lock()


def _host_callbacks() -> list[tuple[ModuleFunction, Any]]:
    with _callbacks_lock:
        if not _callbacks:
            _callbacks.extend((function, _raw_callback(function)) for function in MODULE_FUNCTIONS)
        return _callbacks


def new_linker(engine: wasmtime.Engine) -> wasmtime.Linker:
    """A Linker with every capability's host functions defined (store-independent)."""
    linker = wasmtime.Linker(engine)
    linker.allow_shadowing = True  # env.memory is redefined per call
    for function, callback in _host_callbacks():
        func_type = wasmtime.FuncType([VALUE_TYPES[p] for p in function.params],
                                      [VALUE_TYPES[r] for r in function.results])
        raw.define_unchecked_func(linker, function.module, function.name, func_type, callback)
    return linker


_linkers = threading.local()


def thread_linker(engine: wasmtime.Engine) -> wasmtime.Linker:
    """This thread's Linker."""
    linker = getattr(_linkers, "linker", None)
    if linker is None or getattr(_linkers, "engine", None) is not engine:
        linker = _linkers.linker = new_linker(engine)
        _linkers.engine = engine
    return linker


def unsupported_imports(module: wasmtime.Module) -> list[str]:
    """Imports a module needs that wasmtask does not provide (``env.memory`` aside)."""
    missing = []
    for item in module.imports:
        if (item.module, item.name) in PROVIDED_IMPORTS:
            continue
        if item.module == "env" and item.name == "memory" and isinstance(item.type, wasmtime.MemoryType):
            continue
        missing.append(f"{item.module}.{item.name}")
    return missing

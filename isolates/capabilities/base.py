"""What a host capability is made of: its imports for both kinds of program.

A capability (the idea of Spin's factors) is one unit: the core-module imports
it provides (``ModuleFunction``: the wasmtask ABI and WASI preview 1, called
with the caller's raw context and raw values), the component imports it
provides (``ComponentFunction``: the world's root or a WASI p2 interface), both
over one shared implementation, and whatever per-call state it needs, kept on
the ``CallContext`` that ``isolates.runner`` builds from the ``CallSpec``.
The linkers (isolates.module_linker, isolates.component_linker) only collect.

Host functions never raise into wasmtime (wasmtime-py keeps the last host
exception in a process-wide global): failures reach the guest as values; the
rare fatal case (proc_exit) is a trap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModuleFunction:
    """A core-module import: ``implementation(context_ptr, *params) -> result``."""

    module: str
    name: str
    params: tuple[str, ...]  # "i32" | "i64" | "f64"
    results: tuple[str, ...]
    implementation: Callable[..., Any]


@dataclass(frozen=True)
class ComponentFunction:
    """A component import: ``implementation(store, *params) -> result`` (wasmtime-py values),
    or, with ``returns_bytes``, ``implementation(length) -> bytes`` for a ``list<u8>`` result
    through a raw callback (``ValueError`` becomes the guest's error)."""

    interface: str  # "" for the world's root; else a WASI interface without its @version
    name: str
    implementation: Callable[..., Any]
    returns_bytes: bool = False


@dataclass(frozen=True)
class Capability:
    name: str
    module_functions: tuple[ModuleFunction, ...] = ()
    component_functions: tuple[ComponentFunction, ...] = ()

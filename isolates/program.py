"""A program ready to instantiate, of one of two kinds: a core module or a component."""

from __future__ import annotations

from dataclasses import dataclass, field

import wasmtime
import wasmtime.component as wc

from host_api import abi
from isolates.raw import I32, I64, check_signature


@dataclass(frozen=True)
class ModuleProgram:
    """A core module speaking the wasmtask ABI (JavaScript, WAT/Wasm, C, Zig, Rust, AssemblyScript).

    code
        the compiled module with the guest's code (for JS: the shared runtime).
    image
        a compiled data-only module defining the memory ``code`` imports as
        ``env.memory`` (a snapshot, or the code's initial data), or None when
        ``code`` defines its own memory.
    init_config
        JSON passed to ``wasmtask_init`` on each call, or None when the image
        is already initialised (a snapshot) or the guest has no init.
    run_initialize
        whether ``_initialize`` must run per call (false for snapshots).
    request_frames
        whether ``wasmtask_handle`` also reads a request frame (the JS runtime:
        host_api.request.encode_frame); ``isolates.run`` then sends one instead
        of the request JSON.
    image_wasm
        ``image``'s Wasm, kept from a snapshot until its file is written (a builder
        process compiles that itself: gateway/artifact_files.py); None otherwise.
    """

    language: str
    code: wasmtime.Module
    image: wasmtime.Module | None = None
    init_config: bytes | None = None
    run_initialize: bool = True
    details: dict[str, object] = field(default_factory=dict)
    request_frames: bool = False
    image_wasm: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ComponentProgram:
    """A component of the wasmtask WIT world (Python guests), instantiated fresh per call.

    imports
        the instance names it imports (with @version): its Linker is built once per thread for them.
    """

    language: str
    code: wc.Component
    imports: tuple[str, ...]
    details: dict[str, object] = field(default_factory=dict)


Program = ModuleProgram | ComponentProgram


def abi_problems(module: wasmtime.Module) -> list[str]:
    """What keeps ``module`` from the core ABI's export types (guest_sdk/ABI.md).

    The hot path calls exports without type checks (isolates.raw), so every
    module must pass this before it becomes a ModuleProgram.
    """
    expected = {
        abi.EXPORT_ALLOC: ([I32], [I32]),
        abi.EXPORT_HANDLE: ([I32, I32], [I64]),
        abi.EXPORT_INIT: ([I32, I32], [I64]),
        abi.EXPORT_INITIALIZE: ([], []),
    }
    required = {abi.EXPORT_ALLOC, abi.EXPORT_HANDLE}
    names = {item.name for item in module.exports}
    problems = []
    for name, (params, results) in expected.items():
        if name not in names:
            if name in required:
                problems.append(f"missing export {name}")
            continue
        if not check_signature(module, name, params, results):
            problems.append(f"export {name} must have type {[str(p) for p in params]} -> {[str(r) for r in results]}")
    return problems

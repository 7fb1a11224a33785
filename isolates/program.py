"""A program ready to instantiate: compiled code, and the memory image it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

import wasmtime


@dataclass(frozen=True)
class Program:
    """What ``invoke`` instantiates per call.

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
    """

    language: str
    code: wasmtime.Module
    image: wasmtime.Module | None = None
    init_config: bytes | None = None
    run_initialize: bool = True
    details: dict[str, object] = field(default_factory=dict)

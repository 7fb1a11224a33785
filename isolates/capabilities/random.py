"""Randomness from the host's CSPRNG (``os.urandom``), for every guest kind.

Core modules: ``wasmtask.random_fill(ptr, len)`` and WASI ``random_get``.
Components: ``wasi:random/random`` (``get-random-bytes`` through a raw callback,
isolates.raw_component, and ``get-random-u64``). At most ``MAX_RANDOM_BYTES`` a call.
"""

from __future__ import annotations

import os

from host_api import abi
from isolates import raw
from isolates.call_context import GuestMemoryError, current
from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction

ERRNO_SUCCESS = 0
ERRNO_FAULT = 21
MAX_RANDOM_BYTES = 1 << 20


def random_bytes(length: int) -> bytes:
    """``length`` random bytes; ``ValueError`` over the cap."""
    if length > MAX_RANDOM_BYTES:
        raise ValueError(f"get-random-bytes of {length} bytes: the limit is {MAX_RANDOM_BYTES}")
    return os.urandom(length)


def _fill(context_ptr: raw.RawContext, ptr: int, length: int) -> bool:
    context = current()
    if context is None:
        return False
    try:
        context.write(context_ptr, ptr, os.urandom(min(length, MAX_RANDOM_BYTES)))
    except GuestMemoryError:
        return False
    return True


def module_random_fill(context_ptr: raw.RawContext, ptr: int, length: int) -> None:
    if length > 0:
        _fill(context_ptr, ptr, length)


def wasi_random_get(context_ptr: raw.RawContext, ptr: int, length: int) -> int:
    return ERRNO_SUCCESS if _fill(context_ptr, ptr, length) else ERRNO_FAULT


RANDOM = Capability(
    name="random",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_RANDOM_FILL, ("i32", "i32"), (), module_random_fill),
        ModuleFunction(abi.WASI_MODULE, "random_get", ("i32", "i32"), ("i32",), wasi_random_get),
    ),
    component_functions=(
        ComponentFunction("wasi:random/random", "get-random-u64",
                          lambda _store: int.from_bytes(os.urandom(8), "little")),
        ComponentFunction("wasi:random/random", "get-random-bytes", random_bytes, returns_bytes=True),
    ),
)

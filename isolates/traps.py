"""wasmtime's errors mapped to ``IsolateError``s, in one place, to the most specific class.

Core-module calls raise ``wasmtime.Trap`` (with a trap code) or
``WasmtimeError``; component calls raise a plain ``WasmtimeError`` whose trap
code isolates.raw_component reads. Both end here.
"""

from __future__ import annotations

import re

import wasmtime

from isolates import raw_component
from isolates.errors import (
    CpuLimitExceeded,
    GuestError,
    InvalidCode,
    IsolateError,
    MemoryLimitExceeded,
    Overloaded,
    StackOverflow,
    Timeout,
)

_BY_TRAP_CODE: dict[wasmtime.TrapCode, tuple[type[IsolateError], str]] = {
    wasmtime.TrapCode.OUT_OF_FUEL: (CpuLimitExceeded, "the call ran out of fuel (CPU limit)"),
    wasmtime.TrapCode.INTERRUPT: (Timeout, "the call passed its wall-clock deadline"),
    wasmtime.TrapCode.STACK_OVERFLOW: (StackOverflow, "the guest overflowed the Wasm stack"),
}
UNAVAILABLE_IMPORT = re.compile(r"unknown import: `([^`]+)` has not been defined")


def call_error(error: wasmtime.Trap | wasmtime.WasmtimeError) -> IsolateError:
    """The typed error for a failed call into a guest (a trap, or another wasmtime error)."""
    code = error.trap_code if isinstance(error, wasmtime.Trap) else raw_component.trap_code(error)
    if code in _BY_TRAP_CODE:
        kind, message = _BY_TRAP_CODE[code]
        return kind(message)
    cause = _cause(error)
    unavailable = UNAVAILABLE_IMPORT.search(cause)
    if unavailable:
        return GuestError(f"the guest called {unavailable.group(1)}, which wasmtask does not provide"
                          " (no files, sockets, stdio, sleeping or polling)")
    return GuestError(f"the guest trapped: {cause}" if code is not None else f"wasm error: {cause}")


def instantiation_error(error: wasmtime.Trap | wasmtime.WasmtimeError, what: str = "module") -> IsolateError:
    """The typed error for a failed instantiation (a trap in a start function is a call error)."""
    if isinstance(error, wasmtime.Trap) or raw_component.trap_code(error) is not None:
        return call_error(error)
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "maximum concurrent" in message:
        return Overloaded(f"no free isolate slot: {message}")
    if "memory" in message and ("limit" in message or "minimum" in message or "resource" in message):
        return MemoryLimitExceeded(f"the guest's initial memory is over the memory limit: {message}")
    return InvalidCode(f"the {what} cannot be instantiated: {message}")


def _cause(error: wasmtime.Trap | wasmtime.WasmtimeError) -> str:
    """The error's cause ("wasm `unreachable` instruction executed"), not its backtrace header."""
    message = (error.message if isinstance(error, wasmtime.Trap) else str(error)) or ""
    _, found, cause = message.rpartition("Caused by:")
    text = (cause if found else message).strip()
    if text.startswith("wasm trap: "):
        text = text[len("wasm trap: "):]
    return text.splitlines()[0] if text else type(error).__name__

"""What the host functions of one call need: the guest's memory, logs, fetch, staging."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import wasmtime

from host_api.log import CallLog

# fetch(request dict) -> response dict (host_api.fetch shapes); None: fetch disabled
Fetcher = Callable[[dict[str, Any]], dict[str, Any]]


class GuestMemoryError(Exception):
    """A guest passed a pointer/length outside its memory."""


@dataclass
class CallContext:
    log: CallLog
    fetcher: Fetcher | None = None
    memory: wasmtime.Memory | None = None
    staged: bytes = b""
    fetches: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def read(self, store: wasmtime.Storelike, ptr: int, length: int) -> bytes:
        """Copy ``length`` bytes at ``ptr`` out of guest memory, bounds-checked."""
        memory = self.memory
        if memory is None:
            raise GuestMemoryError("no memory")
        ptr &= 0xFFFFFFFF
        length &= 0xFFFFFFFF
        if ptr + length > memory.data_len(store):
            raise GuestMemoryError(f"{ptr}+{length} is outside guest memory")
        base = ctypes.addressof(memory.data_ptr(store).contents)
        return ctypes.string_at(base + ptr, length)

    def write(self, store: wasmtime.Storelike, ptr: int, data: bytes) -> None:
        """Copy ``data`` into guest memory at ``ptr``, bounds-checked."""
        memory = self.memory
        if memory is None:
            raise GuestMemoryError("no memory")
        ptr &= 0xFFFFFFFF
        if ptr + len(data) > memory.data_len(store):
            raise GuestMemoryError(f"{ptr}+{len(data)} is outside guest memory")
        base = ctypes.addressof(memory.data_ptr(store).contents)
        ctypes.memmove(base + ptr, data, len(data))


_current = threading.local()


def current() -> CallContext | None:
    """The call running on this thread (host functions run on the caller's thread)."""
    return getattr(_current, "context", None)


def set_current(context: CallContext | None) -> None:
    _current.context = context

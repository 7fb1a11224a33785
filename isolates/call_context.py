"""What the host functions of one call need: the guest's memory, logs, fetch, staging."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Any, Callable

from wasmtime import _ffi as ffi

from host_api.log import CallLog
from isolates.raw import memory_address

# fetch(request dict) -> response dict (host_api.fetch shapes); None: fetch disabled
Fetcher = Callable[[dict[str, Any]], dict[str, Any]]


class GuestMemoryError(Exception):
    """A guest passed a pointer/length outside its memory."""


@dataclass
class CallContext:
    log: CallLog
    fetcher: Fetcher | None = None
    memory: ffi.wasmtime_memory_t | None = None  # raw: see isolates.raw
    staged: bytes = b""
    out_of_memory: bool = False  # the guest said an allocation failed at the memory limit

    def _bounds(self, context, ptr: int, length: int) -> int:  # type: ignore[no-untyped-def]
        if self.memory is None:
            raise GuestMemoryError("no memory")
        base, size = memory_address(context, self.memory)
        if ptr < 0 or length < 0 or ptr + length > size:
            raise GuestMemoryError(f"{ptr}+{length} is outside guest memory")
        return base + ptr

    def read(self, context, ptr: int, length: int) -> bytes:  # type: ignore[no-untyped-def]
        """Copy ``length`` bytes at ``ptr`` out of guest memory, bounds-checked.

        ``context`` is a store's or a caller's raw context (``store._context()``)."""
        return ctypes.string_at(self._bounds(context, ptr & 0xFFFFFFFF, length & 0xFFFFFFFF), length & 0xFFFFFFFF)

    def write(self, context, ptr: int, data: bytes) -> None:  # type: ignore[no-untyped-def]
        """Copy ``data`` into guest memory at ``ptr``, bounds-checked."""
        ctypes.memmove(self._bounds(context, ptr & 0xFFFFFFFF, len(data)), data, len(data))

    def image(self, context) -> bytes:  # type: ignore[no-untyped-def]
        """A copy of the whole linear memory (for snapshots)."""
        if self.memory is None:
            raise GuestMemoryError("no memory")
        base, size = memory_address(context, self.memory)
        return ctypes.string_at(base, size)


_current = threading.local()


def current() -> CallContext | None:
    """The call running on this thread (host functions run on the caller's thread)."""
    return getattr(_current, "context", None)


def set_current(context: CallContext | None) -> None:
    _current.context = context

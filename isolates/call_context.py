"""One call's host-side state: what host functions reach through ``current()``.

Host functions run on the thread that called into the guest, so a
thread-local finds the call (like workerd's ``IoContext::current()``).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from host_api.crypto import CryptoSession
from host_api.log import CallLog
from host_api.storage import FunctionStorage
from isolates import raw

# fetch(request dict) -> answer dict (host_api.fetch shapes); never raises
Fetcher = Callable[[dict[str, Any]], dict[str, Any]]


class GuestMemoryError(Exception):
    """A guest passed a pointer/length outside its memory."""


@dataclass
class CallContext:
    log: CallLog
    fetch: Fetcher
    memory: raw.Memory | None = None  # core modules only
    staged: bytes = b""  # a host answer waiting for the guest to read it (wasmtask.staged_read)
    out_of_memory: bool = False  # the guest said an allocation failed at the memory limit
    crypto: CryptoSession | None = None  # the call's crypto.subtle keys, from its first use (capabilities/crypto.py)
    storage: FunctionStorage | None = None  # the function's storage (capabilities/storage.py); None: none

    def span(self, context: raw.RawContext, ptr: int, length: int) -> tuple[int, int]:
        """The address of ``length`` bytes at ``ptr`` in guest memory, bounds-checked, and the
        memory's size now (one query of the memory for both)."""
        if self.memory is None:
            raise GuestMemoryError("no memory")
        base, size = raw.memory_address(context, self.memory)
        if ptr < 0 or length < 0 or ptr + length > size:
            raise GuestMemoryError(f"{ptr}+{length} is outside guest memory")
        return base + ptr, size

    def _bounds(self, context: raw.RawContext, ptr: int, length: int) -> int:
        return self.span(context, ptr, length)[0]

    def read(self, context: raw.RawContext, ptr: int, length: int) -> bytes:
        """Copy ``length`` bytes at ``ptr`` out of guest memory, bounds-checked.

        ``context`` is a store's or a caller's raw context."""
        return ctypes.string_at(self._bounds(context, ptr & 0xFFFFFFFF, length & 0xFFFFFFFF), length & 0xFFFFFFFF)

    def write(self, context: raw.RawContext, ptr: int, data: bytes) -> None:
        """Copy ``data`` into guest memory at ``ptr``, bounds-checked."""
        ctypes.memmove(self._bounds(context, ptr & 0xFFFFFFFF, len(data)), data, len(data))

    def image(self, context: raw.RawContext) -> bytes:
        """A copy of the whole linear memory (for snapshots)."""
        if self.memory is None:
            raise GuestMemoryError("no memory")
        base, size = raw.memory_address(context, self.memory)
        return ctypes.string_at(base, size)


_current = threading.local()


def current() -> CallContext | None:
    """The call running on this thread (host functions run on the caller's thread)."""
    return getattr(_current, "context", None)


def set_current(context: CallContext | None) -> None:
    _current.context = context

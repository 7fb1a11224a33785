"""``storage``: the function's document and KV namespace (host_api.storage), for every core-module guest.

Core modules: ``wasmtask.storage(ptr, len) -> answer length`` takes one JSON request
(guest_sdk/ABI.md, "The storage JSON") and stages the JSON answer; ``wasmtask.staged_read``
copies it out (as for fetch). Components: ``storage(request) -> answer`` of the world,
strings both ways. The call's ``FunctionStorage`` comes from its ``CallSpec``
(None for ad-hoc runs and a deploy's init: every operation answers ``storage_unavailable``).

Fuel: each operation's price (host_api.storage) is taken from the call's fuel; when less is
left, the fuel is set to zero and the guest traps with ``cpu_limit`` as it resumes.

On the event loop (gateway/inline.py) a call's storage is ``deferring``: the first
operation does not reach the database (a blocking query there would stall every other
request, and an inline attempt must have no side effects since it may be run again); it
marks the storage ``deferred`` and ends the attempt out of fuel, and the gateway runs the
call again on a worker thread.
"""

from __future__ import annotations

from typing import Any

import orjson

from host_api import abi
from host_api.errors import CodedError, StorageError
from isolates import raw
from isolates.call_context import GuestMemoryError, current
from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction

MAX_STORAGE_REQUEST_BYTES = 2 << 20  # a 1 MiB value as base64, or a 500 KB document escaped, and some


class OutOfFuel(Exception):
    """The call's fuel does not cover an operation's price."""


def failure(code: str, message: str) -> bytes:
    return orjson.dumps({"ok": False, "error": {"code": code, "message": message}})


def answer(context_ptr: raw.RawContext, read: Any, length: int) -> bytes:
    """The JSON answer to one storage request of this thread's call; never raises. ``read()``
    gives the request's bytes (``GuestMemoryError`` if out of bounds); ``context_ptr`` is the
    store's raw context, whose fuel pays."""
    context = current()
    storage = None if context is None else context.storage

    def charge(fuel: int) -> None:
        if not raw.consume_fuel(context_ptr, fuel):
            raise OutOfFuel

    try:
        if storage is None:
            return failure("storage_unavailable", "storage is available to deployed functions only")
        if storage.deferring:
            storage.deferred = True
            raw.consume_fuel(context_ptr, 1 << 62)  # ends this attempt; the call runs again off the loop
            return failure("storage_unavailable", "storage is not available on the event loop")
        if length > MAX_STORAGE_REQUEST_BYTES:
            return failure("storage_too_large", f"a storage request may have at most {MAX_STORAGE_REQUEST_BYTES} bytes")
        return storage.perform(read(), charge)
    except StorageError as exc:
        return failure(exc.code, exc.message)
    except OutOfFuel:
        return failure("cpu_limit", "the call ran out of fuel (CPU limit)")
    except GuestMemoryError as exc:
        return failure("storage_invalid", str(exc))
    except CodedError as exc:  # the backend's own (the registry unavailable): the guest may retry
        return failure("storage_unavailable", exc.message)
    except Exception as exc:  # a host-side fault must not crash the process or the call
        return failure("storage_failed", f"internal error: {type(exc).__name__}")


def module_storage(context_ptr: raw.RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return -1
    context.staged = answer(context_ptr, lambda: context.read(context_ptr, ptr, length), length)
    return len(context.staged)


def component_storage(store: Any, request_json: str) -> str:
    encoded = request_json.encode("utf-8", "surrogatepass")
    return answer(store._context(), lambda: encoded, len(encoded)).decode("utf-8")


STORAGE = Capability(
    name="storage",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_STORAGE, ("i32", "i32"), ("i32",), module_storage),
    ),
    component_functions=(ComponentFunction("", abi.COMPONENT_IMPORT_STORAGE, component_storage),),
)

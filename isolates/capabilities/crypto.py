"""``crypto``: WebCrypto's keys and operations on the host (host_api.crypto), for the JS runtime.

Core modules: ``wasmtask.crypto(ptr, len) -> answer length`` stages the answer,
``wasmtask.staged_read(ptr, len)`` copies it out (as for fetch). The request at
``ptr`` is framed in little-endian u32s, so bulk data is never copied inside
the guest nor encoded::

    header_len, count, count x (data_ptr, data_len), header JSON
    (header: {"op": ..., "inputs": [name per (data_ptr, data_len)], ...})

and the answer::

    header_len, count, count x data_len, header JSON, the data, back to back
    (header: {"outputs": [name per data], ...} or {"error": {"name": ..., "message": ...}})

The call's ``CryptoSession`` (its key table) is made at its first crypto
operation and dropped with the call. Each operation's price is taken from the
call's fuel before it runs (host_api.crypto prices them); when the fuel left
is less, it is set to zero and the guest traps with ``cpu_limit`` as it
resumes. Host time also counts against the call's wall-clock deadline.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

from host_api import abi
from host_api.crypto import MAX_INPUT_BYTES, CryptoSession
from host_api.crypto_keys import CryptoError
from isolates import raw
from isolates.call_context import CallContext, GuestMemoryError, current
from isolates.capabilities.base import Capability, ModuleFunction

MAX_HEADER_BYTES = 64 * 1024
MAX_INPUTS = 16


class OutOfFuel(Exception):
    """The call's fuel does not cover an operation's price."""


def failure(name: str, message: str) -> bytes:
    header = orjson.dumps({"error": {"name": name, "message": message}})
    return struct.pack("<II", len(header), 0) + header


def frame(header: dict[str, Any], outputs: dict[str, bytes]) -> bytes:
    names = list(outputs)
    encoded = orjson.dumps({**header, "outputs": names})
    sizes = struct.pack(f"<II{len(names)}I", len(encoded), len(names), *(len(outputs[n]) for n in names))
    return b"".join([sizes, encoded, *(outputs[n] for n in names)])


def read_request(context: CallContext, context_ptr: raw.RawContext, ptr: int,
                 length: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The header and named inputs of a framed request; ``CryptoError`` if malformed or too big."""
    if length < 8:
        raise CryptoError("OperationError", "malformed crypto request")
    if length > 8 + 8 * MAX_INPUTS + MAX_HEADER_BYTES:
        raise CryptoError("OperationError", "malformed crypto request")
    request = context.read(context_ptr, ptr, length)  # one read: each costs two C API calls (~3 us)
    header_len, count = struct.unpack_from("<II", request)
    if count > MAX_INPUTS or length != 8 + 8 * count + header_len:
        raise CryptoError("OperationError", "malformed crypto request")
    table = struct.unpack_from(f"<{2 * count}I", request, 8)
    header = orjson.loads(request[8 + 8 * count:])
    names = header.get("inputs", []) if isinstance(header, dict) else None
    if not isinstance(names, list) or len(names) != count or not all(isinstance(n, str) for n in names):
        raise CryptoError("OperationError", "malformed crypto request")
    total = sum(table[1::2])
    if total > MAX_INPUT_BYTES:
        raise CryptoError("QuotaExceededError",
                          f"{total} bytes is over the limit of {MAX_INPUT_BYTES} bytes per crypto.subtle operation")
    inputs = {name: context.read(context_ptr, table[2 * i], table[2 * i + 1]) for i, name in enumerate(names)}
    return header, inputs


def module_crypto(context_ptr: raw.RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return -1

    def charge(fuel: int) -> None:
        if not raw.consume_fuel(context_ptr, fuel):
            raise OutOfFuel

    try:
        header, inputs = read_request(context, context_ptr, ptr, length)
        if context.crypto is None:
            context.crypto = CryptoSession()
        context.staged = frame(*context.crypto.perform(header, inputs, charge))
    except CryptoError as exc:
        context.staged = failure(exc.name, exc.message)
    except OutOfFuel:
        context.staged = failure("OperationError", "the call ran out of fuel (CPU limit)")
    except (GuestMemoryError, ValueError) as exc:
        context.staged = failure("OperationError", f"malformed crypto request: {exc}")
    except Exception as exc:  # a host-side fault must not crash the process or the call
        context.staged = failure("OperationError", f"internal error: {type(exc).__name__}")
    return len(context.staged)


CRYPTO = Capability(
    name="crypto",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_CRYPTO, ("i32", "i32"), ("i32",), module_crypto),
    ),
)

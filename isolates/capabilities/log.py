"""``log``: guest lines into the call's ``CallLog`` (capped, masked, streamed), from every guest kind.

Core modules: ``wasmtask.log(level, ptr, len)``, and WASI ``fd_write`` to
stdout/stderr (a line per write, level info/error). Components: ``log(level,
message)`` of the world.
"""

from __future__ import annotations

import functools
import struct

from host_api import abi
from host_api.log import NO_SECRETS, CallLog, SecretMask
from isolates import raw
from isolates.call_context import GuestMemoryError, current
from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction
from isolates.spec import CallSpec

ERRNO_SUCCESS = 0
ERRNO_BADF = 8
ERRNO_FAULT = 21
MAX_IOVECS = 1024


@functools.lru_cache(maxsize=1024)
def secret_mask(secrets: tuple[str, ...]) -> SecretMask:
    """One mask per distinct set of secret values (a function's calls share theirs)."""
    return SecretMask(secrets)


def open_log(spec: CallSpec) -> CallLog:
    """The call's log: its caps from the limits, its secrets masked, its sink the live stream."""
    return CallLog(
        max_bytes=spec.limits.log_bytes,
        max_lines=spec.limits.log_lines,
        request_id=spec.request_id,
        fields=dict(spec.log_fields) if spec.log_fields else None,  # CallLog: None is {}
        sink=spec.log_sink,
        mask=secret_mask(spec.secrets) if spec.secrets else NO_SECRETS,
    )


def write_line(level: int, text: str, **extra: str) -> None:
    context = current()
    if context is not None:
        context.log.write(level if level in abi.LOG_LEVELS else 1, text, **extra)


def module_log(context_ptr: raw.RawContext, level: int, ptr: int, length: int) -> None:
    context = current()
    if context is None:
        return
    try:
        message = context.read(context_ptr, ptr, min(length, context.log.max_bytes + 4)).decode("utf-8", "replace")
    except GuestMemoryError:
        return
    write_line(level, message)


def wasi_fd_write(context_ptr: raw.RawContext, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
    context = current()
    if context is None:
        return ERRNO_FAULT
    if fd not in (1, 2):
        return ERRNO_BADF
    try:
        count = min(iovs_len, MAX_IOVECS)
        vectors = context.read(context_ptr, iovs, 8 * count)
        chunks = []
        total = 0
        for index in range(count):
            buf, buf_len = struct.unpack_from("<II", vectors, 8 * index)
            chunks.append(context.read(context_ptr, buf, min(buf_len, context.log.max_bytes + 4)))
            total += buf_len
        text = b"".join(chunks).decode("utf-8", "replace").rstrip("\n")
        if text:
            write_line(1 if fd == 1 else 3, text, stream="stdout" if fd == 1 else "stderr")
        context.write(context_ptr, nwritten_ptr, struct.pack("<I", total))
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def component_log(_store: object, level: int, message: str) -> None:
    write_line(level, message)


LOG = Capability(
    name="log",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_LOG, ("i32", "i32", "i32"), (), module_log),
        ModuleFunction(abi.WASI_MODULE, "fd_write", ("i32", "i32", "i32", "i32"), ("i32",), wasi_fd_write),
    ),
    component_functions=(ComponentFunction("", abi.COMPONENT_IMPORT_LOG, component_log),),
)

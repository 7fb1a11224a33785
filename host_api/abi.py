"""The core-module guest ABI, in one place (documented in guest_sdk/ABI.md).

Every core-module guest (the JS runtime, C, Zig, Rust, AssemblyScript, raw
Wasm) speaks this ABI:

Guest exports
    memory                              the guest's linear memory
    wasmtask_alloc(len: i32) -> i32     allocate ``len`` bytes the host may write
    wasmtask_handle(ptr, len) -> i64    handle one request (JSON at ptr/len);
                                        returns ``(out_ptr << 32) | out_len`` of
                                        the response JSON in guest memory
    wasmtask_init(ptr, len) -> i64      optional: one-time set-up with a JSON
                                        config (the JS runtime gets the user's
                                        source here); same return shape
    _initialize()                       optional: the WASI reactor constructor

Host imports, all in the ``wasmtask`` module
    log(level: i32, ptr: i32, len: i32)         one UTF-8 log line
    fetch(ptr: i32, len: i32) -> i32            perform an HTTP request described
                                                by JSON; stages the response JSON
                                                and returns its length
    staged_read(ptr: i32, len: i32) -> i32      copy the staged bytes into guest
                                                memory; returns the bytes copied
    random_fill(ptr: i32, len: i32)             host randomness
    crypto(ptr: i32, len: i32) -> i32           one WebCrypto operation (crypto.subtle) on the
                                                call's host-side keys; the request is framed
                                                (isolates/capabilities/crypto.py); stages the
                                                framed answer and returns its length
    storage(ptr: i32, len: i32) -> i32          one operation on the function's document or KV
                                                namespace (JSON request; host_api/storage.py); stages
                                                the JSON answer and returns its length
    now_ms() -> f64                             wall clock, ms since the epoch
    out_of_memory()                             an allocation failed at the memory limit: a
                                                trap that follows is reported as memory_limit

WASI guests may also import a small, deny-by-default subset of
``wasi_snapshot_preview1`` (see ``isolates.wasi``): no files, no environment,
no arguments, no sockets.
"""

from __future__ import annotations

from typing import Final

IMPORT_MODULE: Final = "wasmtask"
WASI_MODULE: Final = "wasi_snapshot_preview1"

EXPORT_MEMORY: Final = "memory"
EXPORT_ALLOC: Final = "wasmtask_alloc"
EXPORT_HANDLE: Final = "wasmtask_handle"
EXPORT_INIT: Final = "wasmtask_init"
EXPORT_INITIALIZE: Final = "_initialize"

IMPORT_LOG: Final = "log"
IMPORT_FETCH: Final = "fetch"
IMPORT_STAGED_READ: Final = "staged_read"
IMPORT_RANDOM_FILL: Final = "random_fill"
IMPORT_NOW_MS: Final = "now_ms"
IMPORT_OUT_OF_MEMORY: Final = "out_of_memory"
IMPORT_CRYPTO: Final = "crypto"
IMPORT_STORAGE: Final = "storage"

# Components (Python guests): the WIT world of guest_sdk/python/wit, the same shape.
COMPONENT_EXPORT_HANDLE: Final = "handle"
COMPONENT_IMPORT_LOG: Final = "log"
COMPONENT_IMPORT_FETCH: Final = "fetch"
COMPONENT_IMPORT_STORAGE: Final = "storage"

# log(level, ...): the numeric levels a guest passes, and their names.
LOG_LEVELS: Final[dict[int, str]] = {0: "debug", 1: "info", 2: "warn", 3: "error"}

# Error codes a guest may report in its own response ({"ok": false, "error": {"code": ...}}).
# Anything else a guest claims becomes ``guest_error``.
GUEST_REPORTABLE_CODES: Final = frozenset(
    {"guest_error", "memory_limit", "stack_overflow", "output_limit", "invalid_code"}
)


def unpack_pointer(packed: int) -> tuple[int, int]:
    """Split the i64 a guest returned into (pointer, length)."""
    packed &= 0xFFFF_FFFF_FFFF_FFFF
    return packed >> 32, packed & 0xFFFF_FFFF

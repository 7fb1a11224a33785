"""The raw wasmtime C API (through wasmtime-py's ``_ffi``): the only core-module code that uses it.

(isolates.raw_component holds the component model's raw calls.)

Why not wasmtime-py's objects on the hot path: ``Instance.exports(store)`` wraps
every export of a fresh instance where a call needs two, each found by one
``wasmtime_instance_export_get``; ``Func.__call__`` re-reads the function type and
converts every value through a ``Val`` on each call, where
``wasmtime_func_call_unchecked`` takes raw values. We own the types: every export
is checked once per module (``check_signature``) before any unchecked call.
Each path beside the other: benches/README.md, "Why the hot path is shaped this
way" (``python -m benches.micro``).
"""

from __future__ import annotations

import ctypes
from ctypes import byref
from typing import Any

import wasmtime
from wasmtime import _bindings
from wasmtime import _ffi as ffi
from wasmtime._func import maybe_raise_last_exn

# The GIL. ctypes releases it around every foreign call of a CDLL, which is what
# wasmtime-py uses: a score of releases per call, and with two threads each one
# can hand the GIL to the other thread and make this one wait to get it back.
# Here only the calls that run guest code release it; the short bookkeeping
# calls (store, fuel, exports, memory) keep it, through a PyDLL view of the same
# library. Two threads both ways: benches/README.md, "Why the hot path is shaped
# this way".
RawContext = object  # a ctypes pointer to wasmtime_context_t (a store's or a caller's)

_HOLDING_GIL = ctypes.PyDLL(ffi.dll._name, handle=ffi.dll._handle)


def _holding_gil(name: str) -> Any:
    releasing = getattr(_bindings, "_" + name)
    function = getattr(_HOLDING_GIL, name)
    function.argtypes = releasing.argtypes
    function.restype = releasing.restype
    return function


_store_new = _holding_gil("wasmtime_store_new")
_store_context = _holding_gil("wasmtime_store_context")
_store_limiter = _holding_gil("wasmtime_store_limiter")
_store_delete = _holding_gil("wasmtime_store_delete")
_set_fuel = _holding_gil("wasmtime_context_set_fuel")
_get_fuel = _holding_gil("wasmtime_context_get_fuel")
_set_epoch_deadline = _holding_gil("wasmtime_context_set_epoch_deadline")
_instance_new = _holding_gil("wasmtime_instance_new")
_linker_instantiate = _holding_gil("wasmtime_linker_instantiate")
_linker_define = _holding_gil("wasmtime_linker_define")
_export_get = _holding_gil("wasmtime_instance_export_get")
_memory_data = _holding_gil("wasmtime_memory_data")
_memory_data.restype = ctypes.c_void_p  # the address as an int (no cast per call); only memory_address calls it
_memory_data_size = _holding_gil("wasmtime_memory_data_size")
_func_call_releasing_gil = _bindings._wasmtime_func_call_unchecked  # guest code runs here: let other threads go
_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))
_TrapPointer = ctypes.POINTER(ffi.wasm_trap_t)  # the type, looked up once (a call's trap is filled in one)


class RawStore:
    """A wasmtime Store through the raw API (one per call; ``close`` it)."""

    __slots__ = ("context", "pointer")

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.pointer = _store_new(engine.ptr(), None, _NO_FINALIZER)
        self.context = _store_context(self.pointer)

    def set_fuel(self, fuel: int) -> None:
        _raise(_set_fuel(self.context, fuel), None)

    def get_fuel(self) -> int:
        remaining = ctypes.c_uint64()
        _raise(_get_fuel(self.context, byref(remaining)), None)
        return remaining.value

    def limit_memory(self, memory_bytes: int) -> None:
        _store_limiter(self.pointer, memory_bytes, -1, -1, -1, -1)

    def set_epoch_deadline(self, ticks: int) -> None:
        _set_epoch_deadline(self.context, ticks)

    def close(self) -> None:
        if self.pointer is not None:
            _store_delete(self.pointer)
            self.pointer = None
            self.context = None


def consume_fuel(context: RawContext, fuel: int) -> bool:
    """Take ``fuel`` from a store (a host function's caller context works: the guest's count is
    current during a host call, and compiled code reloads it on return). False, with the fuel
    set to zero, when less is left: the guest then traps with out-of-fuel at its next check."""
    remaining = ctypes.c_uint64()
    _raise(_get_fuel(context, byref(remaining)), None)
    enough = remaining.value >= fuel
    _raise(_set_fuel(context, remaining.value - fuel if enough else 0), None)
    return enough


EXTERN_FUNC = ffi.WASMTIME_EXTERN_FUNC.value  # _ffi keeps these as c_uint8 objects
EXTERN_MEMORY = ffi.WASMTIME_EXTERN_MEMORY.value


class RawExportMissing(LookupError):
    """The instance has no export of that name and kind."""


def instantiate(context: RawContext, module: wasmtime.Module) -> ffi.wasmtime_instance_t:
    """Instantiate a module with no imports."""
    instance = ffi.wasmtime_instance_t()
    trap = _TrapPointer()
    error = _instance_new(context, module.ptr(), None, 0, byref(instance), byref(trap))
    _raise(error, trap)
    return instance


def linker_instantiate(
    linker: wasmtime.Linker, context: RawContext, module: wasmtime.Module
) -> ffi.wasmtime_instance_t:
    instance = ffi.wasmtime_instance_t()
    trap = _TrapPointer()
    error = _linker_instantiate(linker.ptr(), context, module.ptr(), byref(instance), byref(trap))
    _raise(error, trap)
    return instance


def define_memory(
    linker: wasmtime.Linker, context: RawContext, module: bytes, name: bytes, memory: ffi.wasmtime_memory_t
) -> None:
    item = ffi.wasmtime_extern_t()
    item.kind = EXTERN_MEMORY  # type: ignore[assignment]  # ctypes stores a Python int in a c_uint8 field
    item.of.memory = memory
    error = _linker_define(linker.ptr(), context, module, len(module), name, len(name), byref(item))
    _raise(error, None)


def export(context: RawContext, instance: ffi.wasmtime_instance_t, name: bytes, kind: int) -> ffi.wasmtime_extern_t:
    item = ffi.wasmtime_extern_t()
    found = _export_get(context, byref(instance), name, len(name), byref(item))
    if not found or item.kind != kind:  # type: ignore[comparison-overlap]  # a c_uint8 field reads as an int
        raise RawExportMissing(name.decode())
    return item


def export_memory(
    context: RawContext, instance: ffi.wasmtime_instance_t, name: bytes = b"memory"
) -> ffi.wasmtime_memory_t:
    return export(context, instance, name, EXTERN_MEMORY).of.memory


def export_func(context: RawContext, instance: ffi.wasmtime_instance_t, name: bytes) -> ffi.wasmtime_func_t | None:
    try:
        return export(context, instance, name, EXTERN_FUNC).of.func
    except RawExportMissing:
        return None


def memory_address(context: RawContext, memory: ffi.wasmtime_memory_t) -> tuple[int, int]:
    """(base address, size in bytes) of a linear memory, right now."""
    reference = byref(memory)
    return _memory_data(context, reference) or 0, _memory_data_size(context, reference)


_ValRaw1 = ffi.wasmtime_val_raw_t * 1
_ValRaw2 = ffi.wasmtime_val_raw_t * 2


def call_i32_to_i32(context: RawContext, func: ffi.wasmtime_func_t, argument: int) -> int:
    """Call a (i32) -> i32 export without type checks (checked once per module)."""
    values = _ValRaw1()
    values[0].i32 = argument
    _call(context, func, values, 1)
    return values[0].i32 & 0xFFFFFFFF


def call_i32_i32_to_i64(context: RawContext, func: ffi.wasmtime_func_t, first: int, second: int) -> int:
    """Call a (i32, i32) -> i64 export without type checks (checked once per module)."""
    values = _ValRaw2()
    values[0].i32 = first
    values[1].i32 = second
    _call(context, func, values, 2)
    return values[0].i64 & 0xFFFFFFFFFFFFFFFF


def call_void(context: RawContext, func: ffi.wasmtime_func_t) -> None:
    values = _ValRaw1()
    _call(context, func, values, 1)


def _call(context: RawContext, func: ffi.wasmtime_func_t, values: Any, length: int) -> None:
    trap = _TrapPointer()
    error = _func_call_releasing_gil(context, byref(func), values, length, byref(trap))
    _raise(error, trap)


def _raise(error: Any, trap: Any) -> None:
    """Raise a call's trap or error (and a host function's pending exception, as wasmtime-py does)."""
    if trap:
        trap_object = wasmtime.Trap._from_ptr(trap)
        maybe_raise_last_exn()
        raise trap_object
    if error:
        error_object = wasmtime.WasmtimeError._from_ptr(error)
        maybe_raise_last_exn()
        raise error_object


I32 = wasmtime.ValType.i32()
I64 = wasmtime.ValType.i64()


def check_signature(
    module: wasmtime.Module, name: str, params: list[wasmtime.ValType], results: list[wasmtime.ValType]
) -> bool:
    """Whether ``module`` exports function ``name`` with exactly this type (before unchecked calls)."""
    for item in module.exports:
        if item.name == name:
            ty = item.type
            return isinstance(ty, wasmtime.FuncType) and list(ty.params) == params and list(ty.results) == results
    return False


# ---- host functions: unchecked callbacks and traps ----------------------------------

Memory = ffi.wasmtime_memory_t
caller_context = ffi.wasmtime_caller_context
UncheckedCallback = ffi.wasmtime_func_unchecked_callback_t


def define_unchecked_func(linker: wasmtime.Linker, module: str, name: str, func_type: wasmtime.FuncType,
                          callback: object) -> None:
    """Define a host function whose callback reads and writes raw values (no Val objects)."""
    module_bytes, name_bytes = module.encode(), name.encode()
    error = ffi.wasmtime_linker_define_func_unchecked(
        linker.ptr(), module_bytes, len(module_bytes), name_bytes, len(name_bytes),
        func_type.ptr(), callback, None, _NO_FINALIZER,
    )
    _raise(error, None)


def new_trap(message: str) -> int:
    """A trap for a host callback to return (wasmtime takes ownership)."""
    encoded = message.encode()
    trap = ffi.wasmtime_trap_new(encoded, len(encoded))
    return ctypes.cast(trap, ctypes.c_void_p).value or 0


# ---- the pooling allocator ------------------------------------------------------------

def enable_pooling(config: wasmtime.Config, *, memories: int, instances: int, tables: int, max_memory_bytes: int,
                   keep_resident_bytes: int, table_keep_resident_bytes: int = 0) -> None:
    """wasmtime-py does not expose the pooling allocator; its C API does."""
    pool = ffi.wasmtime_pooling_allocation_config_new()
    try:
        ffi.wasmtime_pooling_allocation_config_total_memories_set(pool, memories)
        ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pool, instances)
        ffi.wasmtime_pooling_allocation_config_total_tables_set(pool, tables)
        ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pool, max_memory_bytes)
        ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pool, keep_resident_bytes)
        ffi.wasmtime_pooling_allocation_config_table_keep_resident_set(pool, table_keep_resident_bytes)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)

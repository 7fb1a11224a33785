"""The raw wasmtime C API for components (through ``_ffi``): what wasmtime-py's component API lacks.

- ``trap_code``: wasmtime-py raises component traps as a plain WasmtimeError
  without a trap code. In the C API ``wasmtime_error_t`` and ``wasm_trap_t`` are
  one type (one anyhow error: ``wasmtime_error_delete`` and ``wasm_trap_delete``
  are one symbol), so ``wasmtime_trap_code`` reads the code from the error's
  pointer. Measured: an exhausted-fuel call gives OUT_OF_FUEL.
- ``add_bytes_func``: a host function returning ``list<u8>`` through a raw
  callback. Through ``LinkerInstance.add_func`` wasmtime-py converts a list
  element by element, and CPython asks for random bytes every time it starts,
  that is on every call; here the list is laid out with one memmove. A Python
  hello call both ways: benches/README.md, "Why the hot path is shaped this way"
  (``python -m benches.micro``).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime
import wasmtime.component as wc
from wasmtime import _ffi as ffi

_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda _data: None)
_VAL_SIZE = ctypes.sizeof(ffi.wasmtime_component_val_t)
_U8_KIND = ffi.WASMTIME_COMPONENT_U8.value.to_bytes(1, "little")
_callbacks: list[Any] = []  # kept alive for the life of the process


def trap_code(error: wasmtime.WasmtimeError) -> wasmtime.TrapCode | None:
    """The trap code inside a component call's error, or None when it is not a trap."""
    code = ffi.wasmtime_trap_code_t()
    trap = ctypes.cast(error.ptr(), ctypes.POINTER(ffi.wasm_trap_t))
    if not ffi.wasmtime_trap_code(trap, ctypes.byref(code)):
        return None
    return wasmtime.TrapCode(code.value)


def bytes_callback(produce: Callable[[int], bytes]) -> Any:
    """A raw callback for ``f(len: u64) -> list<u8>`` answering ``produce(len)``.

    Never raises into wasmtime: a failure (``produce`` raising ``ValueError`` with
    the guest's message, or any fault) becomes an error for the guest."""

    def callback(_env: Any, _context: Any, _type: Any, args: Any, nargs: int, results: Any, nresults: int) -> int:
        try:
            if nargs != 1 or nresults != 1:
                return _error_pointer("wrong arity")
            data = produce(args[0].of.u64)
            length = len(data)
            layout = bytearray(length * _VAL_SIZE)
            layout[0::_VAL_SIZE] = _U8_KIND * length
            layout[ffi.wasmtime_component_val_t.of.offset :: _VAL_SIZE] = data
            values = ffi.wasmtime_component_vallist_t()
            ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(values), length)
            if length:
                ctypes.memmove(values.data, (ctypes.c_char * len(layout)).from_buffer(layout), len(layout))
            results[0].kind = ffi.WASMTIME_COMPONENT_LIST.value
            results[0].of.list = values
            return 0
        except ValueError as exc:
            return _error_pointer(str(exc))
        except Exception as exc:  # a fault here must reach the guest as an error, not unwind through C
            return _error_pointer(f"host function failed: {type(exc).__name__}")

    raw = ffi.wasmtime_component_func_callback_t(callback)
    _callbacks.append(raw)
    return raw


def add_raw_func(interface: wc.LinkerInstance, name: str, callback: Any) -> None:
    encoded = name.encode("utf-8")
    error = ffi.wasmtime_component_linker_instance_add_func(
        interface.ptr(), ctypes.create_string_buffer(encoded), len(encoded), callback, None, _NO_FINALIZER
    )
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)


def _error_pointer(message: str) -> int:
    error = ffi.wasmtime_error_new(message.encode("utf-8"))
    return ctypes.cast(error, ctypes.c_void_p).value or 0

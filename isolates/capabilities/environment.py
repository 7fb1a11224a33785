"""The guest's process: no environment, no arguments, no files, no sleeping; exit and out-of-memory.

Core modules get a deny-by-default WASI preview 1: empty environment and
arguments, ``EBADF`` for every file operation, ``ENOSYS`` for polling,
``proc_exit`` as a trap, and ``wasmtask.out_of_memory`` (a guest whose
allocator failed at the memory limit says so before it traps, so the call ends
with ``memory_limit``). Components get empty ``wasi:cli/environment`` and
``wasi:filesystem/preopens``; every other WASI import of a component traps when
called (isolates.component_linker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from host_api import abi
from isolates import raw
from isolates.call_context import GuestMemoryError, current
from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction

ERRNO_SUCCESS = 0
ERRNO_BADF = 8
ERRNO_FAULT = 21
ERRNO_NOSYS = 52


class ProcExit(Exception):
    """A WASI guest called proc_exit: the linker turns it into a trap."""

    def __init__(self, code: int) -> None:
        super().__init__(f"guest called proc_exit({code})")
        self.code = code


def wasi_zero_sizes(context_ptr: raw.RawContext, count_ptr: int, size_ptr: int) -> int:
    """environ_sizes_get / args_sizes_get: nothing, ever."""
    context = current()
    if context is None:
        return ERRNO_FAULT
    try:
        context.write(context_ptr, count_ptr, b"\0\0\0\0")
        context.write(context_ptr, size_ptr, b"\0\0\0\0")
    except GuestMemoryError:
        return ERRNO_FAULT
    return ERRNO_SUCCESS


def wasi_empty_list(_context_ptr: raw.RawContext, _list_ptr: int, _buf_ptr: int) -> int:
    return ERRNO_SUCCESS


def wasi_proc_exit(_context_ptr: raw.RawContext, code: int) -> None:
    raise ProcExit(code)


def module_out_of_memory(_context_ptr: raw.RawContext) -> None:
    context = current()
    if context is not None:
        context.out_of_memory = True


def _badf(*_args: int) -> int:
    return ERRNO_BADF


def _nosys(*_args: int) -> int:
    return ERRNO_NOSYS


def _wasi(name: str, params: tuple[str, ...], implementation: Callable[..., Any],
          results: tuple[str, ...] = ("i32",)) -> ModuleFunction:
    return ModuleFunction(abi.WASI_MODULE, name, params, results, implementation)


ENVIRONMENT = Capability(
    name="environment",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_OUT_OF_MEMORY, (), (), module_out_of_memory),
        _wasi("environ_sizes_get", ("i32", "i32"), wasi_zero_sizes),
        _wasi("args_sizes_get", ("i32", "i32"), wasi_zero_sizes),
        _wasi("environ_get", ("i32", "i32"), wasi_empty_list),
        _wasi("args_get", ("i32", "i32"), wasi_empty_list),
        _wasi("proc_exit", ("i32",), wasi_proc_exit, results=()),
        _wasi("fd_close", ("i32",), _badf),
        _wasi("fd_seek", ("i32", "i64", "i32", "i32"), _badf),
        _wasi("fd_fdstat_get", ("i32", "i32"), _badf),
        _wasi("fd_read", ("i32", "i32", "i32", "i32"), _badf),
        _wasi("fd_prestat_get", ("i32", "i32"), _badf),
        _wasi("fd_prestat_dir_name", ("i32", "i32", "i32"), _badf),
        _wasi("sched_yield", (), lambda _context_ptr: ERRNO_SUCCESS),
        _wasi("poll_oneoff", ("i32", "i32", "i32", "i32"), _nosys),
    ),
    component_functions=(
        ComponentFunction("wasi:cli/environment", "get-environment", lambda _store: []),
        ComponentFunction("wasi:cli/environment", "get-arguments", lambda _store: []),
        ComponentFunction("wasi:cli/environment", "initial-cwd", lambda _store: None),
        ComponentFunction("wasi:filesystem/preopens", "get-directories", lambda _store: []),
    ),
)

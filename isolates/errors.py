"""The isolates layer's errors: one tree, each with a stable ``code``.

    CodedError (host_api.errors)
    └── IsolateError                        internal_error
        ├── InvalidCode                     invalid_code      the code cannot run: syntax, bad module, no handler
        ├── ToolchainUnavailable            language_unavailable  no compiler for the language on this machine
        ├── UnsupportedLimits               invalid_request   limits this engine cannot give (memory over the pool's)
        ├── Overloaded                      overloaded        no free isolate slot
        ├── CpuLimitExceeded                cpu_limit         out of fuel
        ├── Timeout                         timeout           past the wall-clock deadline
        ├── MemoryLimitExceeded             memory_limit      over the memory cap
        ├── StackOverflow                   stack_overflow    JS or Wasm stack
        ├── OutputLimitExceeded             output_limit      response over its cap
        ├── InvalidResponse                 invalid_response  the guest's HTTP response is not valid HTTP
        └── GuestError                      guest_error       a throw, cb(err), a rejection, a trap

The gateway maps each code to an HTTP status in one table; nothing else
branches on exception text. wasmtime's own errors are mapped to these in one
place, ``isolates.traps``. An error raised by a call carries what the call
used (``fuel_used``) and logged (``logs``, ``logs_dropped``), like a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from host_api.errors import CodedError

if TYPE_CHECKING:
    from host_api.log import LogRecord


class IsolateError(CodedError):
    """Base of every error an invocation or a deploy can end with."""

    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, name: str | None = None, stack: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.stack = stack
        self.fuel_used = 0
        self.logs: list[LogRecord] = []
        self.logs_dropped = 0

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.name:
            out["name"] = self.name
        if self.stack:
            out["stack"] = self.stack
        return out


class InvalidCode(IsolateError):
    """The code cannot run: a syntax error, a bad module, no handler."""

    code = "invalid_code"


class ToolchainUnavailable(IsolateError):
    """This machine has no compiler for the language (see ``make toolchains``)."""

    code = "language_unavailable"  # the server works; it lacks this language (the message names what to install)


class UnsupportedLimits(IsolateError):
    """Limits this engine cannot give (a memory limit above its pool's slot size)."""

    code = "invalid_request"


class Overloaded(IsolateError):
    """Every isolate slot is in use; retry later."""

    code = "overloaded"


class CpuLimitExceeded(IsolateError):
    """The guest ran out of fuel."""

    code = "cpu_limit"


class Timeout(IsolateError):
    """The wall-clock deadline passed (epoch interruption)."""

    code = "timeout"


class MemoryLimitExceeded(IsolateError):
    """The guest asked for more memory than its limit."""

    code = "memory_limit"


class StackOverflow(IsolateError):
    """The guest recursed past the JS or the Wasm stack limit."""

    code = "stack_overflow"


class OutputLimitExceeded(IsolateError):
    """The guest's result was larger than the output limit."""

    code = "output_limit"


class InvalidResponse(IsolateError):
    """The guest's HTTP response is not valid HTTP: its status, a header, a body on a 204/304."""

    code = "invalid_response"


class GuestError(IsolateError):
    """The guest failed: a throw, ``cb(err)``, a rejected promise, a trap."""

    code = "guest_error"


# What a guest may report in its own error reply; anything else becomes guest_error.
ERRORS_BY_CODE: dict[str, type[IsolateError]] = {
    cls.code: cls
    for cls in (
        CpuLimitExceeded,
        Timeout,
        MemoryLimitExceeded,
        StackOverflow,
        OutputLimitExceeded,
        InvalidResponse,
        GuestError,
        InvalidCode,
        UnsupportedLimits,
        Overloaded,
    )
}


def error_for_code(code: str, message: str, **details: str | None) -> IsolateError:
    """The typed error for a code a guest or a lower layer reported."""
    return ERRORS_BY_CODE.get(code, GuestError)(message, **details)

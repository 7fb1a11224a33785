"""The isolates layer's errors: one hierarchy, each with a stable ``code``.

The gateway maps each code to an HTTP status in one table; nothing else
should branch on exception text.
"""

from __future__ import annotations


class IsolateError(Exception):
    """Base of every error an invocation or a deploy can end with."""

    code = "internal_error"

    def __init__(self, message: str, *, name: str | None = None, stack: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.stack = stack

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.name:
            out["name"] = self.name
        if self.stack:
            out["stack"] = self.stack
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


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


class InvalidCode(IsolateError):
    """The code cannot run: a syntax error, a bad module, no handler."""

    code = "invalid_code"


class Overloaded(IsolateError):
    """Every isolate slot of the pooling allocator is in use; retry later."""

    code = "overloaded"


class InvalidRequest(IsolateError):
    """The host was asked to invoke with input it cannot pass on."""

    code = "invalid_request"


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
        InvalidRequest,
        Overloaded,
    )
}


def error_for_code(code: str, message: str, **details: str | None) -> IsolateError:
    """The typed error for a code a guest or a lower layer reported."""
    return ERRORS_BY_CODE.get(code, GuestError)(message, **details)

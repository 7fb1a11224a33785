"""The Wasm engine layer: fresh, metered, memory-capped isolates. Knows wasmtime, not HTTP."""

from isolates.errors import (
    CpuLimitExceeded,
    GuestError,
    InvalidCode,
    InvalidRequest,
    InvalidResponse,
    IsolateError,
    MemoryLimitExceeded,
    OutputLimitExceeded,
    Overloaded,
    StackOverflow,
    Timeout,
)
from isolates.functions import LANGUAGES, normalize_language, prepare
from isolates.invoke import InvokeResult, invoke
from isolates.limits import Limits, parse_duration_ms, parse_size
from isolates.program import Program

__all__ = [
    "CpuLimitExceeded",
    "GuestError",
    "InvalidCode",
    "InvalidRequest",
    "InvalidResponse",
    "IsolateError",
    "InvokeResult",
    "LANGUAGES",
    "Limits",
    "MemoryLimitExceeded",
    "OutputLimitExceeded",
    "Overloaded",
    "Program",
    "StackOverflow",
    "Timeout",
    "invoke",
    "normalize_language",
    "parse_duration_ms",
    "parse_size",
    "prepare",
]

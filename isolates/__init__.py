"""The Wasm engine layer: fresh, metered, memory-capped isolates. Knows wasmtime, not HTTP.

The door: ``prepare`` user code into a ``Program`` once (deploy time), then
``run(program, request, CallSpec(...))`` per request, which returns an
``InvokeResult`` or raises an ``IsolateError`` (the tree is in isolates/errors.py).
"""

from isolates.compiler import CompiledGuest, Compiler
from isolates.errors import (
    CpuLimitExceeded,
    GuestError,
    InvalidCode,
    InvalidResponse,
    IsolateError,
    MemoryLimitExceeded,
    OutputLimitExceeded,
    Overloaded,
    StackOverflow,
    Timeout,
    ToolchainUnavailable,
    UnsupportedLimits,
)
from isolates.functions import prepare
from isolates.languages import LANGUAGES, Language, ProgramKind, language_for_file, normalize_language
from isolates.limits import Limits, parse_duration_ms, parse_size
from isolates.program import ComponentProgram, ModuleProgram, Program
from isolates.result import InvokeResult
from isolates.runner import run
from isolates.spec import CallSpec

__all__ = [
    "LANGUAGES",
    "CallSpec",
    "CompiledGuest",
    "Compiler",
    "ComponentProgram",
    "CpuLimitExceeded",
    "GuestError",
    "InvalidCode",
    "InvalidResponse",
    "InvokeResult",
    "IsolateError",
    "Language",
    "Limits",
    "MemoryLimitExceeded",
    "ModuleProgram",
    "OutputLimitExceeded",
    "Overloaded",
    "Program",
    "ProgramKind",
    "StackOverflow",
    "Timeout",
    "ToolchainUnavailable",
    "UnsupportedLimits",
    "language_for_file",
    "normalize_language",
    "parse_duration_ms",
    "parse_size",
    "prepare",
    "run",
]

"""The interface deploy-time compilers implement: guest source in, Wasm out.

isolates owns it and never imports a compiler: the ``toolchains`` package
implements it (C, Zig, Rust, AssemblyScript to core modules, Python to
components), and whoever calls ``isolates.prepare`` for a compiled language
passes an implementation (the gateway and the CLI do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from isolates.errors import ToolchainUnavailable

__all__ = ["CompiledGuest", "Compiler", "ToolchainUnavailable"]


@dataclass(frozen=True)
class CompiledGuest:
    """A build's output."""

    wasm: bytes
    key: str  # a hash of everything that went into the build: the cache key of its compiled code


class Compiler(Protocol):
    """Builds guest source. Raises ``InvalidCode`` (the source does not build: the
    compiler's output, trimmed), ``CpuLimitExceeded`` (the build ran out of time),
    or ``ToolchainUnavailable`` (this machine lacks the compiler). ``filename`` is the
    user's name for the source file: its messages name it instead of the compiler's own."""

    def compile(self, language: str, source: str, filename: str | None = None) -> CompiledGuest: ...

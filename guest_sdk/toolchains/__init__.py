"""Deploy-time builds of guest source: C, Zig, Rust, AssemblyScript to core modules, Python to components.

Each compiler runs in a subprocess with its own time and memory limits, in a
temporary directory; outputs are cached by a hash of the source, the SDK and
the compiler (``Toolchain.key``). ``python -m guest_sdk.toolchains`` reports
which toolchains this machine has and warms their caches.
"""

from __future__ import annotations

from pathlib import Path

from guest_sdk.toolchains.assemblyscript import AssemblyScriptToolchain
from guest_sdk.toolchains.base import BuildError, BuildKilled, BuildLimits, BuildTimedOut, Built, Toolchain, ToolchainMissing
from guest_sdk.toolchains.c import CToolchain
from guest_sdk.toolchains.python import PythonToolchain
from guest_sdk.toolchains.rust import RustToolchain
from guest_sdk.toolchains.zig import ZigToolchain

TOOLCHAINS: dict[str, Toolchain] = {
    toolchain.language: toolchain
    for toolchain in (CToolchain(), ZigToolchain(), RustToolchain(), AssemblyScriptToolchain(), PythonToolchain())
}


def toolchain(language: str) -> Toolchain:
    try:
        return TOOLCHAINS[language]
    except KeyError:
        raise ToolchainMissing(f"no toolchain for {language!r}; known: {', '.join(TOOLCHAINS)}") from None


def build(language: str, source: str, cache_dir: Path, limits: BuildLimits | None = None) -> Built:
    """The Wasm for ``source`` (cached). Raises BuildError, BuildTimedOut, ToolchainMissing."""
    return toolchain(language).build(source, cache_dir, limits)


__all__ = [
    "TOOLCHAINS",
    "BuildError",
    "BuildKilled",
    "BuildLimits",
    "BuildTimedOut",
    "Built",
    "Toolchain",
    "ToolchainMissing",
    "build",
    "toolchain",
]

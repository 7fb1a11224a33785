"""Deploy-time compilers of guest source: C, Zig, Rust, AssemblyScript to core modules, Python to components.

``Toolchains`` implements ``isolates.compiler.Compiler``, the interface
isolates owns: it is all the rest of wasmtask needs from this package.

Each compiler runs in a subprocess with its own time and memory limits
(sandbox.py), confined by Landlock (landlock.py), in a temporary directory,
with the SDK from guest_sdk/; outputs are cached by a hash of the source, the
SDK and the compiler (``Toolchain.key``). ``python -m toolchains`` reports
which toolchains this machine has and warms their caches; toolchains/install.sh
(``make toolchains``) installs them. jsrt.py builds the JavaScript runtime at
build time (``python -m toolchains.jsrt``), with the same zig.
"""

from __future__ import annotations

from pathlib import Path

from isolates.compiler import CompiledGuest
from isolates.errors import CpuLimitExceeded, InvalidCode, ToolchainUnavailable
from isolates.module_cache import default_cache_dir
from toolchains.assemblyscript import AssemblyScriptToolchain
from toolchains.base import (
    BuildError,
    BuildKilled,
    BuildLimits,
    BuildTimedOut,
    Built,
    Progress,
    Toolchain,
    ToolchainMissing,
    no_progress,
    rename_source,
)
from toolchains.c import CToolchain
from toolchains.python import PythonToolchain
from toolchains.rust import RustToolchain
from toolchains.zig import ZigToolchain

TOOLCHAINS: dict[str, Toolchain] = {
    toolchain.language: toolchain
    for toolchain in (CToolchain(), ZigToolchain(), RustToolchain(), AssemblyScriptToolchain(), PythonToolchain())
}


def toolchain(language: str) -> Toolchain:
    try:
        return TOOLCHAINS[language]
    except KeyError:
        raise ToolchainMissing(f"no toolchain for {language!r}; known: {', '.join(TOOLCHAINS)}") from None


INSTALL_HINT = "install it on the server with `make toolchains` (toolchains/install.sh)"


class Toolchains:
    """The toolchains as an ``isolates.compiler.Compiler``: builds cached under ``cache_dir``;
    a build that is not cached runs inside ``progress`` (toolchains/base.py)."""

    def __init__(self, cache_dir: Path | None = None, progress: Progress = no_progress) -> None:
        self.cache_dir = cache_dir or default_cache_dir() / "guests"
        self.progress = progress

    def compile(self, language: str, source: str, filename: str | None = None) -> CompiledGuest:
        """Build ``source``; compiler messages name ``filename`` (the user's) instead of ``main.c`` etc."""
        try:
            built = build(language, source, self.cache_dir, progress=self.progress)
        except BuildError as exc:
            text = rename_source(str(exc), toolchain(language).source_name, filename)
            raise InvalidCode(f"the {language} source does not build:\n{text}") from exc
        except BuildTimedOut as exc:
            raise CpuLimitExceeded(f"the {language} build did not finish: {exc}") from exc
        except ToolchainMissing as exc:
            raise ToolchainUnavailable(f"{exc}; {INSTALL_HINT}") from exc
        return CompiledGuest(wasm=built.wasm, key=built.key)


def build(language: str, source: str, cache_dir: Path, limits: BuildLimits | None = None,
          progress: Progress = no_progress) -> Built:
    """The Wasm for ``source`` (cached). Raises BuildError, BuildTimedOut, ToolchainMissing."""
    return toolchain(language).build(source, cache_dir, limits, progress)


__all__ = [
    "TOOLCHAINS",
    "BuildError",
    "BuildKilled",
    "BuildLimits",
    "BuildTimedOut",
    "Built",
    "Progress",
    "Toolchain",
    "ToolchainMissing",
    "Toolchains",
    "build",
    "no_progress",
    "rename_source",
    "toolchain",
]

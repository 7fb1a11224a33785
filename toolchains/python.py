"""Python guests: componentize-py builds a WebAssembly component (guest_sdk/python).

The guest's source becomes the module ``guest_function``; the SDK's app.py
imports it (so its top-level code runs once, at build time, inside
componentize-py's pre-initialisation) and exports the world's ``handle``.
See guest_sdk/python/README.md for the cost.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

from toolchains.base import GUEST_SDK, BuildError, BuildKilled, BuildLimits, Toolchain

SDK = GUEST_SDK / "python"
WORLD = "handler"

# componentize-py as a module of this interpreter: no PATH lookup, no VIRTUAL_ENV
# (which would add the server's own site-packages to the guest's import path).
COMPONENTIZE = "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())"


@functools.lru_cache(maxsize=1)
def componentize_version() -> str:
    return f"componentize-py {importlib.metadata.version('componentize-py')}"


class PythonToolchain(Toolchain):
    language = "python"
    source_name = "guest_function.py"
    # componentize-py runs wasmtime, which reserves address space by the GiB. Its build time and peak
    # memory: benches/README.md, "Why the hot path is shaped this way" (`python -m benches.micro --toolchains`).
    limits = BuildLimits(timeout_s=120.0, memory_bytes=2 << 30, address_space_bytes=64 << 30)

    def missing(self) -> str | None:
        if importlib.util.find_spec("componentize_py") is None:
            return "componentize-py is not installed (pip install 'wasmtask[build]')"
        return None

    def version(self) -> str:
        return f"{componentize_version()} world={WORLD}"

    def sdk_files(self) -> list[Path]:
        return [SDK / "app.py", SDK / "wasmtask.py", SDK / "wit" / "wasmtask.wit"]

    def compile(self, workdir: Path, cache_dir: Path, limits: BuildLimits) -> bytes:
        self.copy_into(workdir, SDK / "app.py", SDK / "wasmtask.py")
        try:
            self.run(
                [sys.executable, "-c", COMPONENTIZE, "--wit-path", str(SDK / "wit"), "--world", WORLD, "--quiet",
                 "componentize", "app", "--python-path", ".", "--output", "guest.wasm"],
                workdir,
                cache_dir,
                limits,
            )
        except BuildKilled:
            raise
        except BuildError as exc:
            raise BuildError(guest_traceback(str(exc))) from None
        return self.read_output(workdir, "guest.wasm")


def guest_traceback(output: str) -> str:
    """componentize-py wraps an error in the guest's top-level code twice: keep Python's own traceback."""
    start = output.find("AssertionError: Traceback")
    end = output.find("\n\nCaused by:")
    if 0 <= start < end:
        return output[start + len("AssertionError: ") : end].strip()
    return output

"""The Zig compiler from the ``ziglang`` wheel: it builds C and Zig guests, and the JS runtime (jsrt.py)."""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path


def zig_command() -> list[str]:
    return [sys.executable, "-m", "ziglang"]


def zig_missing() -> str | None:
    if importlib.util.find_spec("ziglang") is None:
        return "the ziglang package is not installed (pip install 'wasmtask[build]')"
    return None


@functools.lru_cache(maxsize=1)
def zig_version() -> str:
    """The release, e.g. ``0.14.0``: part of every build key that zig compiles."""
    finished = subprocess.run([*zig_command(), "version"], capture_output=True, text=True, timeout=60, check=True)
    return finished.stdout.strip()


def zig_global_cache() -> Path:
    """Where zig keeps what it builds once (wasi-libc, on its first use): builds write there."""
    if os.environ.get("ZIG_GLOBAL_CACHE_DIR"):
        return Path(os.environ["ZIG_GLOBAL_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zig"

"""A toolchain: how one source language becomes Wasm, cached by what went into it."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from isolates.module_cache import write_atomically
from toolchains.sandbox import (
    SYSTEM,
    BuildLimits,
    BuildTimedOut,
    Confinement,
    Finished,
    run_limited,
    sandbox_missing,
)

# toolchains/ and guest_sdk/ are siblings: in the checkout, and in site-packages when installed
# (guest_sdk's SDK files are package data, see pyproject.toml).
REPO = Path(__file__).resolve().parent.parent
GUEST_SDK = REPO / "guest_sdk"

# Compiler output kept in an error message: enough to find the mistake.
MAX_MESSAGE_LINES = 40
MAX_MESSAGE_CHARS = 4000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# A failed build is remembered this long: a deploy retried in a loop does not recompile, and
# a failure that came from this machine (a toolchain fixed since) does not stick.
FAILED_BUILD_TTL_S = 3600


# What a long build shows while it runs: called with a line saying what is being built, it
# returns a context manager around the build (the CLI shows a spinner with the elapsed time,
# the server logs a start and an end line). Not called for a build found in the cache.
logger = logging.getLogger("wasmtask.build")
Progress = Callable[[str], AbstractContextManager[object]]


def no_progress(what: str) -> AbstractContextManager[object]:
    return contextlib.nullcontext()


@contextlib.contextmanager
def log_build(what: str) -> Iterator[None]:
    """A ``Progress`` on the ``wasmtask.build`` log: a line when a build starts and when it ends."""
    logger.info("%s ...", what)
    started = time.monotonic()
    try:
        yield
    finally:
        logger.info("%s: done in %.1f s", what, time.monotonic() - started)


class BuildError(Exception):
    """The source does not build; the message is the compiler's output, trimmed."""


class BuildKilled(BuildError):
    """The compiler was killed by a signal (over a memory or CPU limit): not a property of the source."""


class ToolchainMissing(Exception):
    """This machine lacks the compiler for a language (see toolchains/install.sh)."""


__all__ = [
    "SYSTEM",
    "BuildError",
    "BuildKilled",
    "BuildLimits",
    "BuildTimedOut",
    "Built",
    "Confinement",
    "Progress",
    "Toolchain",
    "ToolchainMissing",
    "log_build",
    "no_progress",
    "rename_source",
]


def toolchains_dir() -> Path:
    """Where `make toolchains` puts what pip and apt do not (the AssemblyScript compiler)."""
    return Path(os.environ.get("WASMTASK_TOOLCHAINS_DIR", REPO / "build" / "toolchains"))


def trim_output(text: str, workdir: Path) -> str:
    """The compiler's output without colours, temp paths, or more than a screenful."""
    text = _ANSI.sub("", text).replace(f"{workdir}/", "").replace(str(workdir), ".").strip()
    lines = text.splitlines()
    if len(lines) > MAX_MESSAGE_LINES:
        lines = [*lines[:MAX_MESSAGE_LINES], f"... ({len(lines) - MAX_MESSAGE_LINES} more lines)"]
    text = "\n".join(lines)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " ..."


def rename_source(text: str, source_name: str, filename: str | None) -> str:
    """Compiler output with the toolchain's own name for the source (``main.c``) replaced by the
    user's (``hello.c``), wherever it names a file: ``main.c:2:9``, ``--> main.rs:3:5``,
    ``in index.ts(3,5)``, ``File "guest_function.py", line 3``."""
    if not filename or filename == source_name:
        return text
    return re.sub(rf"(?<![\w./-]){re.escape(source_name)}(?![\w-])(?!\.\w)", lambda _: filename, text)


@dataclass(frozen=True)
class Built:
    """A build's output: the Wasm bytes and where they are cached."""

    language: str
    wasm: bytes
    key: str  # hash of everything that went in (source, SDK, compiler, flags)
    path: Path
    cached: bool
    seconds: float


class Toolchain:
    """One language: ``compile`` turns ``workdir/source_name`` into Wasm bytes."""

    language: str = ""
    source_name: str = ""
    limits: BuildLimits = BuildLimits()

    def missing(self) -> str | None:
        """Why this toolchain cannot run here, or None when it can."""
        raise NotImplementedError

    def version(self) -> str:
        """The compiler's identity and flags: part of the cache key."""
        raise NotImplementedError

    def sdk_files(self) -> list[Path]:
        """The SDK sources a build uses: part of the cache key."""
        raise NotImplementedError

    def compile(self, workdir: Path, cache_dir: Path, limits: BuildLimits) -> bytes:
        raise NotImplementedError

    def key(self, source: str) -> str:
        digest = hashlib.sha256()
        parts: list[str | bytes] = [self.language, self.version(), *(p.read_bytes() for p in self.sdk_files()), source]
        for part in parts:
            data = part if isinstance(part, bytes) else part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
        return digest.hexdigest()

    def build(self, source: str, cache_dir: Path, limits: BuildLimits | None = None,
              progress: Progress = no_progress) -> Built:
        """The Wasm for ``source``: from ``cache_dir``, or compiled now and stored there
        (inside ``progress``, which shows that a build runs: seconds for most languages).

        Raises BuildError (the source does not build), BuildTimedOut, ToolchainMissing.
        """
        reason = sandbox_missing() or self.missing()
        if reason:
            raise ToolchainMissing(f"this server cannot build {self.language}: {reason}")
        started = time.perf_counter()
        key = self.key(source)
        path = cache_dir / f"{self.language}-{key[:40]}.wasm"
        failed = path.with_suffix(".error")  # the same source fails the same way: no second compile soon
        if path.exists():
            return Built(self.language, path.read_bytes(), key, path, True, time.perf_counter() - started)
        if failed.exists() and time.time() - failed.stat().st_mtime < FAILED_BUILD_TTL_S:
            raise BuildError(failed.read_text(encoding="utf-8"))
        with progress(f"building {self.language} ({self.compiler_name()})"), \
                tempfile.TemporaryDirectory(prefix=f"wasmtask-build-{self.language}-") as temporary:
            workdir = Path(temporary)
            (workdir / self.source_name).write_text(source, encoding="utf-8")
            try:
                wasm = self.compile(workdir, cache_dir, limits or self.default_limits())
            except BuildKilled:
                raise
            except BuildError as exc:
                write_atomically(failed, str(exc).encode("utf-8"))
                raise
        write_atomically(path, wasm)
        return Built(self.language, wasm, key, path, False, time.perf_counter() - started)

    def compiler_name(self) -> str:
        """The compiler, in a few words, for progress lines."""
        return self.version().split(" -")[0]

    def default_limits(self) -> BuildLimits:
        """``limits``, with the time limit from $WASMTASK_BUILD_TIMEOUT_S when set."""
        timeout = os.environ.get("WASMTASK_BUILD_TIMEOUT_S")
        return replace(self.limits, timeout_s=float(timeout)) if timeout else self.limits

    def confinement(self, workdir: Path, cache_dir: Path) -> Confinement:
        """What the compiler may read and write: the system, the SDKs, its temp dir."""
        return SYSTEM.plus(read=[GUEST_SDK], write=[workdir])

    # helpers for subclasses

    def run(self, argv: list[str], workdir: Path, cache_dir: Path, limits: BuildLimits) -> Finished:
        finished = run_limited(
            argv,
            cwd=workdir,
            limits=limits,
            env={"TMPDIR": str(workdir)},
            confinement=self.confinement(workdir, cache_dir),
        )
        if finished.returncode != 0:
            output = trim_output(finished.output, workdir)
            if finished.returncode < 0:
                raise BuildKilled(f"the compiler was killed by signal {-finished.returncode}"
                                  f" (over its memory or CPU limit?)\n{output}")
            raise BuildError(output or f"the compiler failed with exit status {finished.returncode}")
        return finished

    @staticmethod
    def read_output(workdir: Path, name: str) -> bytes:
        path = workdir / name
        if not path.exists():
            raise BuildError(f"the compiler produced no {name}")
        return path.read_bytes()

    @staticmethod
    def copy_into(workdir: Path, *files: Path) -> None:
        for file in files:
            shutil.copyfile(file, workdir / file.name)

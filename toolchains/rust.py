"""Rust guests: Debian's rustc for wasm32-unknown-unknown (a cdylib), with the Rust SDK.

The SDK (guest_sdk/rust/wasmtask.rs) is compiled once per compiler into an
rlib named ``wasmtask`` (kept in the cache directory); the guest's source is a
crate root that uses it. No other crates. rustc is called by full path:
rustup's shims come first on PATH here and lack the wasm target.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from isolates.module_cache import write_atomically
from toolchains.base import GUEST_SDK, BuildLimits, Confinement, Toolchain

SDK = GUEST_SDK / "rust"
TARGET = "wasm32-unknown-unknown"

FLAGS = (
    "--edition", "2021",
    "--target", TARGET,
    "-C", "opt-level=s",
    "-C", "panic=abort",  # the only strategy wasm32 has: a panic is logged by the SDK, then traps
    "-C", "debuginfo=0",
    "--color", "never",
)


def rustc_path() -> str:
    return os.environ.get("WASMTASK_RUSTC", "/usr/bin/rustc")


@functools.lru_cache(maxsize=1)
def rustc_version() -> str:
    finished = subprocess.run([rustc_path(), "--version"], capture_output=True, text=True, timeout=60, check=True)
    return finished.stdout.strip()


class RustToolchain(Toolchain):
    language = "rust"
    source_name = "main.rs"
    limits = BuildLimits(timeout_s=60.0)

    def missing(self) -> str | None:
        rustc = rustc_path()
        if not os.access(rustc, os.X_OK):
            return f"{rustc} is missing (apt-get install rustc libstd-rust-dev-wasm32 lld)"
        printed = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True, timeout=60)
        sysroot = printed.stdout.strip()
        if not (Path(sysroot) / "lib" / "rustlib" / TARGET).is_dir():
            return f"{rustc} lacks the {TARGET} standard library (apt-get install libstd-rust-dev-wasm32)"
        return None

    def version(self) -> str:
        return f"{rustc_version()} {' '.join(FLAGS)}"

    def sdk_files(self) -> list[Path]:
        return [SDK / "wasmtask.rs"]

    def confinement(self, workdir: Path, cache_dir: Path) -> Confinement:
        # the SDK's rlib, not the rest of the cache (other functions' builds)
        return super().confinement(workdir, cache_dir).plus(read=[self.sdk_rlib_path(cache_dir)])

    def sdk_rlib_path(self, cache_dir: Path) -> Path:
        digest = hashlib.sha256((self.version() + "\0").encode() + (SDK / "wasmtask.rs").read_bytes()).hexdigest()
        return cache_dir / f"libwasmtask-{digest[:40]}.rlib"  # rustc wants lib*.rlib

    def sdk_rlib(self, cache_dir: Path, limits: BuildLimits) -> Path:
        """The SDK crate compiled by this rustc, built once into ``cache_dir``."""
        path = self.sdk_rlib_path(cache_dir)
        if not path.exists():
            with tempfile.TemporaryDirectory(prefix="wasmtask-build-rust-sdk-") as temporary:
                workdir = Path(temporary)
                self.copy_into(workdir, SDK / "wasmtask.rs")
                self.run(
                    [rustc_path(), *FLAGS, "--crate-type", "rlib", "--crate-name", "wasmtask", "wasmtask.rs",
                     "-o", "libwasmtask.rlib"],
                    workdir,
                    cache_dir,
                    limits,
                )
                write_atomically(path, self.read_output(workdir, "libwasmtask.rlib"))
        return path

    def compile(self, workdir: Path, cache_dir: Path, limits: BuildLimits) -> bytes:
        rlib = self.sdk_rlib(cache_dir, limits)
        self.run(
            [rustc_path(), *FLAGS, "-C", "strip=symbols", "--crate-type", "cdylib", "--crate-name", "guest",
             "--extern", f"wasmtask={rlib}", self.source_name, "-o", "guest.wasm"],
            workdir,
            cache_dir,
            limits,
        )
        return self.read_output(workdir, "guest.wasm")

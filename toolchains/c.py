"""C guests: ``zig cc`` for wasm32-wasi (a reactor), with the C SDK (guest_sdk/c)."""

from __future__ import annotations

from pathlib import Path

from toolchains.base import GUEST_SDK, BuildLimits, Confinement, Toolchain
from toolchains.zig_compiler import zig_command, zig_global_cache, zig_missing, zig_version

SDK = GUEST_SDK / "c"

FLAGS = (
    "-target", "wasm32-wasi",
    "-mexec-model=reactor",  # no main; the host calls _initialize, then wasmtask_handle
    "-O2",
    "-s",
    "-Wl,-z,stack-size=1048576",  # zig's default (16 MiB) would be most of a small memory limit
    "-fno-color-diagnostics",
)


class CToolchain(Toolchain):
    language = "c"
    source_name = "main.c"
    limits = BuildLimits(timeout_s=60.0)

    def missing(self) -> str | None:
        return zig_missing()

    def version(self) -> str:
        return f"zig {zig_version()} cc {' '.join(FLAGS)}"

    def sdk_files(self) -> list[Path]:
        return [SDK / "wasmtask.h", SDK / "wasmtask.c"]

    def confinement(self, workdir: Path, cache_dir: Path) -> Confinement:
        return super().confinement(workdir, cache_dir).plus(write=[zig_global_cache()])

    def compile(self, workdir: Path, cache_dir: Path, limits: BuildLimits) -> bytes:
        self.copy_into(workdir, *self.sdk_files())
        command = [*zig_command(), "cc", *FLAGS, "-I.", "wasmtask.c", self.source_name, "-o", "guest.wasm"]
        self.run(command, workdir, cache_dir, limits)
        return self.read_output(workdir, "guest.wasm")

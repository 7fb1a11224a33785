"""Zig guests: ``zig build-exe`` for wasm32-freestanding, with the Zig SDK (guest_sdk/zig).

The root module is the SDK's entry.zig (the ABI exports and the panic
handler); the guest's source is the module ``user``, the SDK the module
``wasmtask``.
"""

from __future__ import annotations

from pathlib import Path

from toolchains.base import GUEST_SDK, BuildLimits, Confinement, Toolchain
from toolchains.zig_compiler import zig_command, zig_global_cache, zig_missing, zig_version

SDK = GUEST_SDK / "zig"

FLAGS = (
    "-target", "wasm32-freestanding",
    "-fno-entry",
    "-rdynamic",  # without it the exports vanish
    "-O", "ReleaseSafe",  # safety checks on: overflow or a bad index panics (logged, then guest_error)
    "-fstrip",  # no debug info: 80 KB instead of 820 KB for hello
    "--color", "off",
)


class ZigToolchain(Toolchain):
    language = "zig"
    source_name = "main.zig"
    limits = BuildLimits(timeout_s=60.0)

    def missing(self) -> str | None:
        return zig_missing()

    def version(self) -> str:
        return f"zig {zig_version()} build-exe {' '.join(FLAGS)}"

    def sdk_files(self) -> list[Path]:
        return [SDK / "entry.zig", SDK / "wasmtask.zig"]

    def confinement(self, workdir: Path, cache_dir: Path) -> Confinement:
        return super().confinement(workdir, cache_dir).plus(write=[zig_global_cache()])

    def compile(self, workdir: Path, cache_dir: Path, limits: BuildLimits) -> bytes:
        self.copy_into(workdir, *self.sdk_files())
        self.run(
            [
                *zig_command(), "build-exe", *FLAGS,
                "--dep", "wasmtask", "--dep", "user", "-Mroot=entry.zig",
                "--dep", "wasmtask", f"-Muser={self.source_name}",
                "-Mwasmtask=wasmtask.zig",
                "--name", "guest",
            ],
            workdir,
            cache_dir,
            limits,
        )
        return self.read_output(workdir, "guest.wasm")

"""AssemblyScript guests: asc 0.28 on Node (offline), with the AssemblyScript SDK.

`make toolchains` installs the npm package ``assemblyscript`` into
build/toolchains/assemblyscript ($WASMTASK_TOOLCHAINS_DIR). The entry file is
the SDK's entry.ts (the ABI exports); the guest's source is ``index.ts`` next
to the SDK's ``wasmtask.ts``.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

from toolchains.base import GUEST_SDK, BuildLimits, Confinement, Toolchain, toolchains_dir

SDK = GUEST_SDK / "assemblyscript"
ASSEMBLYSCRIPT_VERSION = "~0.28.0"  # what toolchains/install.sh installs
MINIMUM_NODE_MAJOR = 20  # assemblyscript 0.28: "engines": {"node": ">=20"}

FLAGS = (
    "--runtime", "stub",  # a bump allocator that never frees: the host drops the instance after each call
    "--use", "abort=wasmtask/abortHandler",  # a throw logs its message, then traps (no env.abort import)
    "-O",
    "--noColors",
)


def package_dir() -> Path:
    return toolchains_dir() / "assemblyscript" / "node_modules" / "assemblyscript"


def node_path() -> str | None:
    return shutil.which("node")


@functools.lru_cache(maxsize=1)
def versions() -> str:
    node = node_path() or "node"
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    package = json.loads((package_dir() / "package.json").read_text())
    return f"node {node_version} assemblyscript {package['version']}"


class AssemblyScriptToolchain(Toolchain):
    language = "assemblyscript"
    source_name = "index.ts"
    # V8 reserves tens of GiB of address space (binaryen runs as Wasm in it): bound memory by RLIMIT_DATA
    limits = BuildLimits(timeout_s=60.0, memory_bytes=1 << 30, address_space_bytes=64 << 30)

    def missing(self) -> str | None:
        node = node_path()
        if node is None:
            return "node is not installed (apt-get install nodejs npm)"
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        try:
            major = int(version.lstrip("v").split(".")[0])
        except ValueError:
            return f"cannot read the node version {version!r}"
        if major < MINIMUM_NODE_MAJOR:
            return f"node {version} is too old (asc needs {MINIMUM_NODE_MAJOR}+)"
        if not (package_dir() / "bin" / "asc.js").exists():
            return f"{package_dir()} is missing (make toolchains)"
        return None

    def version(self) -> str:
        return f"{versions()} {' '.join(FLAGS)}"

    def sdk_files(self) -> list[Path]:
        return [SDK / "entry.ts", SDK / "wasmtask.ts"]

    def confinement(self, workdir: Path, cache_dir: Path) -> Confinement:
        return super().confinement(workdir, cache_dir).plus(read=[package_dir().parent.parent])

    def compile(self, workdir: Path, cache_dir: Path, limits: BuildLimits) -> bytes:
        self.copy_into(workdir, *self.sdk_files())
        asc = package_dir() / "bin" / "asc.js"
        command = [node_path() or "node", str(asc), "entry.ts", *FLAGS, "--outFile", "guest.wasm"]
        self.run(command, workdir, cache_dir, limits)
        return self.read_output(workdir, "guest.wasm")

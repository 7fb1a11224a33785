"""Build the JavaScript runtime: QuickJS-NG + guest_sdk/js/shim.c + guest_sdk/js/prelude/*.js -> build/jsrt.wasm.

Sources come from the PyPI sdist of ``quickjs-ng`` (pinned by version and
hash), the compiler from the ``ziglang`` wheel (toolchains/zig_compiler.py).
Two more pinned sdists: ``ada-url`` (the URL parser, C++: toolchains/url_parser.py)
and ``selectolax`` (lexbor's WHATWG Encoding tables: toolchains/encoding_tables.py).
The output is cached by a hash of every input, so a second ``make`` is
instant. Run: ``python -m toolchains.jsrt`` (``make runtime``); the output
goes to $WASMTASK_BUILD_DIR (default: build/ in the checkout).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from toolchains.base import GUEST_SDK, REPO
from toolchains.encoding_tables import tables_key
from toolchains.encoding_tables import write_header as write_encoding_tables
from toolchains.sdist import fetch_pinned_sdist, sha256_of
from toolchains.url_parser import build_key as url_parser_key
from toolchains.url_parser import build_object as build_url_parser
from toolchains.zig_compiler import zig_command, zig_version

QUICKJS_NG_VERSION = "0.17.0.2"
QUICKJS_NG_SDIST = f"quickjs_ng-{QUICKJS_NG_VERSION}.tar.gz"
QUICKJS_NG_SHA256 = "43d2e48272208721a7aaea8e3f02d4b9318f12ef20cc4f5421b59d9a470706ef"
QUICKJS_SOURCES = ("libregexp.c", "libunicode.c", "dtoa.c")  # quickjs.c is included by shim.c

SOURCES = GUEST_SDK / "js"  # shim.c (it includes the other *.c files there), prelude/
PRELUDE = SOURCES / "prelude"
BUILD_DIR = Path(os.environ.get("WASMTASK_BUILD_DIR", REPO / "build"))
RUNTIME_NAME = "jsrt.wasm"

# Linker shadow stack 1 MiB; QuickJS's own limit (shim.c) stays well under it.
CFLAGS = (
    "-target", "wasm32-wasi",
    "-O2",
    "-mexec-model=reactor",
    "-s",
    "-DNDEBUG",
    "-D_WASI_EMULATED_SIGNAL",
    "-Wl,--export=malloc",
    "-Wl,--export=free",
    "-Wl,--import-memory",  # memory comes from a data module: the snapshot (isolates/snapshot.py)
    "-Wl,-z,stack-size=1048576",
)


class RuntimeBuildError(RuntimeError):
    """The runtime could not be built."""


def runtime_path() -> Path:
    """Where the built runtime lives (a stable name; see ``build_runtime``)."""
    return BUILD_DIR / RUNTIME_NAME



def publish(versioned: Path, output: Path) -> None:
    """Copy the build to its stable name through a rename: a running server or test never reads half a file."""
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    shutil.copyfile(versioned, temporary)
    os.replace(temporary, output)


def fetch_sdist(cache: Path) -> Path:
    """The quickjs-ng sdist from PyPI, downloaded once into ``cache``."""
    return fetch_pinned_sdist("quickjs-ng", QUICKJS_NG_VERSION, QUICKJS_NG_SDIST, QUICKJS_NG_SHA256, cache)


def unpack_sources(sdist: Path, into: Path) -> Path:
    """Extract the upstream QuickJS-NG sources; returns their directory."""
    target = into / f"quickjs-ng-{QUICKJS_NG_VERSION}"
    if not (target / "quickjs.c").exists():
        target.mkdir(parents=True, exist_ok=True)
        prefix = f"quickjs_ng-{QUICKJS_NG_VERSION}/upstream-quickjs/"
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.startswith(prefix) and "/" not in member.name[len(prefix):]:
                    member.name = member.name[len(prefix):]
                    if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 (Debian's 3.11.2 lacks it)
                        archive.extract(member, target, filter="data")
                    else:
                        archive.extract(member, target)
    return target


def prelude_files() -> list[Path]:
    """The prelude's parts, in order: guest_sdk/js/prelude/NN-name.js, one Web API area each.

    Concatenated they are one function body (00-head.js opens it, 99-tail.js closes it)."""
    return sorted(PRELUDE.glob("*.js"))


def prelude_source() -> bytes:
    return b"\n".join(path.read_bytes() for path in prelude_files())


def write_prelude_header(header: Path) -> None:
    """Embed the prelude as a C byte array (NUL-terminated, as JS_Eval wants)."""
    data = prelude_source()
    rows = []
    for start in range(0, len(data), 20):
        rows.append(",".join(str(b) for b in data[start:start + 20]))
    header.write_text(
        "/* generated from guest_sdk/js/prelude/*.js by toolchains/jsrt.py: do not edit */\n"
        f"static const unsigned char wasmtask_prelude_js[{len(data) + 1}] = {{\n"
        + ",\n".join(rows) + ",0\n};\n"
        f"static const size_t wasmtask_prelude_js_len = {len(data)};\n"
    )


def c_sources() -> list[Path]:
    """shim.c and the C files it includes (encoding.c, ...)."""
    return sorted(SOURCES.glob("*.c")) + sorted(SOURCES.glob("*.h"))


def input_hash(sdist: Path) -> str:
    digest = hashlib.sha256()
    parts = (sha256_of(sdist), *(sha256_of(path) for path in c_sources()),
             hashlib.sha256(prelude_source()).hexdigest(), tables_key(), url_parser_key(), " ".join(CFLAGS),
             zig_version())
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def build_runtime(force: bool = False) -> Path:
    """Build jsrt.wasm unless a build with the same inputs exists; returns its path."""
    cache = BUILD_DIR / "cache"
    sdist = fetch_sdist(cache)
    key = input_hash(sdist)
    versioned = BUILD_DIR / f"jsrt-{key}.wasm"
    output = runtime_path()
    if versioned.exists() and not force:
        if not output.exists() or sha256_of(output) != sha256_of(versioned):
            publish(versioned, output)
        return output
    print(f"building the JavaScript runtime {output} with zig (inputs {key}; ~30 s, plus ~45 s once for zig's"
          " wasi-libc; cached afterwards) ...", file=sys.stderr, flush=True)
    sources = unpack_sources(sdist, cache)
    work = BUILD_DIR / f"work-{key}"
    work.mkdir(parents=True, exist_ok=True)
    write_prelude_header(work / "prelude.h")
    write_encoding_tables(cache, work / "encoding_tables.h")  # the WHATWG Encoding indexes (encoding.c)
    ada_object, ada_headers = build_url_parser(cache)  # the URL parser (url.c), C++: linked by zig c++
    command = [
        *zig_command(), "c++", *CFLAGS, "-fno-exceptions",
        f"-I{sources}", f"-I{work}", f"-I{ada_headers}",
        "-x", "c", str(SOURCES / "shim.c"), *(str(sources / name) for name in QUICKJS_SOURCES),
        "-x", "none", str(ada_object),
        "-o", str(work / RUNTIME_NAME),
    ]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeBuildError(f"zig cc failed ({result.returncode}):\n{result.stderr[-8000:]}")
    shutil.move(work / RUNTIME_NAME, versioned)
    publish(versioned, output)
    shutil.rmtree(work, ignore_errors=True)
    size = versioned.stat().st_size
    print(f"built {output} ({size / 1024:.0f} KiB, inputs {key}) in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toolchains.jsrt", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    try:
        path = build_runtime(force=args.force)
    except (RuntimeBuildError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

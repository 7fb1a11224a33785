"""The runtime's URL parser: ada (C++, Apache-2.0/MIT), compiled for wasm32-wasi.

Its amalgamated sources (ada.cpp, ada.h, ada_c.h) ship in the PyPI sdist of
``ada-url`` (pinned by version and hash, downloaded once into the build cache).
ada.cpp is compiled once per (sdist, flags, zig) into an object in the cache
(~25 s); jsrt.py links it with the shim, whose url.c calls ada's C API.

One change to ada's source: its Unicode normalization (src/normalization.cpp, used
by IDNA) is replaced by a call to QuickJS's own NFC (``wasmtask_nfc`` in url.c).
ada's normalization tables are ~140 KiB of static data, which would sit in every
snapshot; QuickJS carries equivalent tables for String.prototype.normalize anyway.
The cut is made between the amalgamation's own file markers and fails the build if
they are missing (the sdist is pinned, so they are not).

Version: ada 3.4.4 (ada-url 1.32.0) follows the URL standard of 2025-2026 (``^``
percent-encoded in paths, trailing spaces of opaque paths kept as %20), which the
WPT snapshot in ../shared/wpt (2024-10) predates: 13 of its url/ subtests expect the
older behaviour. ada 3.1.1 (ada-url 1.18.0) passes all of them; ada 4.0.0 (ada-url
4.0.0) also fails 10 IDNA subtests that are still in the standard.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
from pathlib import Path

from toolchains.sdist import fetch_pinned_sdist
from toolchains.zig_compiler import zig_command, zig_version

ADA_URL_VERSION = "1.32.0"  # ada 3.4.4
ADA_URL_SDIST = f"ada_url-{ADA_URL_VERSION}.tar.gz"
ADA_URL_SHA256 = "ceefeb2e89d6e007ed58caa461e802b7a0f39fbbbdd7e39a4511fc1e3a6f9777"
ADA_FILES = ("ada.cpp", "ada.h", "ada_c.h")
NORMALIZATION_BEGIN = "/* begin file src/normalization.cpp */"
NORMALIZATION_END = "/* end file src/normalization.cpp */"
NORMALIZATION_BY_QUICKJS = """/* wasmtask: normalization through QuickJS's NFC (toolchains/url_parser.py) */
extern "C" int wasmtask_nfc(const uint32_t *source, size_t length, uint32_t **normalized);
namespace ada::idna {
void normalize(std::u32string& input) {
  uint32_t *normalized = nullptr;
  int length = wasmtask_nfc(reinterpret_cast<const uint32_t *>(input.data()), input.size(), &normalized);
  if (length >= 0) {
    input.assign(reinterpret_cast<const char32_t *>(normalized), size_t(length));
  }
  free(normalized);
}
}  // namespace ada::idna
"""
# no exceptions in wasm32-wasi's libc++; ada is written to build without them
CXXFLAGS = ("-target", "wasm32-wasi", "-O2", "-std=c++20", "-fno-exceptions", "-fno-rtti", "-DNDEBUG",
            "-DADA_INCLUDE_URL_PATTERN=0")  # URLPattern is not exposed


class UrlParserBuildError(RuntimeError):
    """ada could not be fetched or compiled."""



def fetch_sources(cache: Path) -> Path:
    """ada's amalgamated sources, unpacked into ``cache``; returns their directory."""
    sdist = fetch_pinned_sdist("ada-url", ADA_URL_VERSION, ADA_URL_SDIST, ADA_URL_SHA256, cache)
    target = cache / f"ada-{ADA_URL_VERSION}"
    if not all((target / name).exists() for name in ADA_FILES):
        target.mkdir(parents=True, exist_ok=True)
        prefix = f"ada_url-{ADA_URL_VERSION}/ada_url/"
        with tarfile.open(sdist) as archive:
            for name in ADA_FILES:
                member = archive.extractfile(prefix + name)
                if member is None:
                    raise UrlParserBuildError(f"{sdist.name} lacks {prefix}{name}")
                (target / name).write_bytes(member.read())
    return target


def patched_source(sources: Path) -> Path:
    """ada.cpp with its normalization swapped for QuickJS's (see the module docstring)."""
    text = (sources / "ada.cpp").read_text(encoding="utf-8")
    begin, end = text.find(NORMALIZATION_BEGIN), text.find(NORMALIZATION_END)
    if begin < 0 or end < begin:
        raise UrlParserBuildError("ada.cpp: the markers of src/normalization.cpp are missing")
    patched = sources / "ada-wasmtask.cpp"
    patched.write_text(text[:begin] + NORMALIZATION_BY_QUICKJS + text[end + len(NORMALIZATION_END):], encoding="utf-8")
    return patched


def build_key() -> str:
    """Part of the runtime's build key: the pinned sources, the patch, and how they are compiled."""
    recipe = f"{ADA_URL_SHA256}\0{NORMALIZATION_BY_QUICKJS}\0{' '.join(CXXFLAGS)}\0{zig_version()}"
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def build_object(cache: Path) -> tuple[Path, Path]:
    """(ada.o for wasm32-wasi, the directory with ada_c.h), compiled once into ``cache``."""
    sources = fetch_sources(cache)
    output = cache / f"ada-{build_key()}.o"
    if not output.exists():
        temporary = output.with_suffix(".tmp.o")
        command = [*zig_command(), "c++", *CXXFLAGS, "-c", str(patched_source(sources)), "-o", str(temporary)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise UrlParserBuildError(f"compiling ada.cpp failed ({result.returncode}):\n{result.stderr[-4000:]}")
        shutil.move(temporary, output)
    return output, sources

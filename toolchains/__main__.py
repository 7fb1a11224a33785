"""``python -m toolchains``: which guest toolchains this machine has; build each example once.

Exits non-zero when a toolchain is missing or an example does not build, so
`make toolchains` (and CI) fail loudly. Building the examples also warms the
compilers' own caches (zig builds wasi-libc on its first use: see benches/README.md,
"Why the hot path is shaped this way", for how long); the builds
are cached in build/toolchains/examples, so a second run takes a second.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from toolchains import TOOLCHAINS, BuildError, BuildTimedOut, ToolchainMissing
from toolchains.base import REPO, toolchains_dir

EXAMPLES = {
    "c": "examples/c/hello.c",
    "zig": "examples/zig/hello.zig",
    "rust": "examples/rust/hello.rs",
    "assemblyscript": "examples/assemblyscript/hello.ts",
    "python": "examples/python/hello.py",
}


@contextlib.contextmanager
def announce(what: str) -> Iterator[None]:
    """A build that is not cached says so before it starts (the first ones take tens of seconds)."""
    print(f"  {what} ...", flush=True)
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toolchains", description=__doc__)
    parser.add_argument("languages", nargs="*", default=list(TOOLCHAINS), help="default: all")
    parser.add_argument("--no-build", action="store_true", help="only check that each toolchain is installed")
    args = parser.parse_args(argv)
    failures = 0
    cache = toolchains_dir() / "examples"
    for language in args.languages:
        toolchain = TOOLCHAINS[language]
        reason = toolchain.missing()
        if reason:
            print(f"{language:15} MISSING  {reason}")
            failures += 1
            continue
        if args.no_build:
            print(f"{language:15} ok       {toolchain.version()}")
            continue
        source = (REPO / EXAMPLES[language]).read_text()
        try:
            built = toolchain.build(source, cache, progress=announce)
        except (BuildError, BuildTimedOut, ToolchainMissing) as exc:
            print(f"{language:15} FAILED   {EXAMPLES[language]}: {exc}")
            failures += 1
            continue
        how = "cached" if built.cached else f"built in {built.seconds:.1f} s"
        print(f"{language:15} ok       {EXAMPLES[language]} -> {len(built.wasm):,} bytes, {how}"
              f"  ({toolchain.version()})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""JavaScript with imports: a function's files and npm packages bundled by esbuild into one module at deploy.

A one-file function with no import, export-from or require of a string is used as
it is: no esbuild, no added deploy time (``needs_bundling``). Otherwise esbuild (the
npm package, installed by `make toolchains` into build/toolchains/esbuild) bundles
the entry with everything it imports into one file that the JS runtime loads like a
hand-written one:

- bare specifiers (``import { z } from "zod"``) resolve only in the platform's npm
  set: build/toolchains/npm, installed from toolchains/npm-packages.txt (or
  $WASMTASK_NPM_PACKAGES) with a package-lock.json. Nothing is fetched at deploy;
  a module outside the set fails the deploy with ``invalid_code`` naming it and
  listing what the set has. A deploy cannot bring its own node_modules
  (toolchains/source_files.py refuses the path).
- Node built-ins that make sense in a sandbox map to shims, as Workers'
  ``nodejs_compat`` does (``NODE_BUILTINS``): ``node:buffer``, ``node:events`` and
  ``node:path`` to npm packages in the set (toolchains/npm-node-compat.txt),
  ``node:util``, ``node:url`` and ``node:crypto`` to guest_sdk/js/node/*.js; a
  function whose files use the global ``Buffer`` gets it injected.
- the bundle is always an ES module (strict mode, as every bundler makes it). A
  CommonJS entry (``module.exports =``, webtask's ``return function (cb) {...}``)
  runs inside a function as the runtime runs a one-file script (``CJS_ENTRY_HEAD``),
  and what it returns or puts in module.exports is the default export, so every
  programming model the runtime detects keeps working.

esbuild runs like the compilers (toolchains/sandbox.py): its own time and memory
limits, confined by Landlock to the set, the shims and its temp dir. Its metafile
is checked too: a bundle that read a file outside those (``import "/etc/x.json"``
where Landlock is unavailable) is refused. Bundles are cached by a hash of the
files, esbuild's version, the set's package-lock.json and the shims.

``python -m toolchains.bundler`` (run by `make toolchains`) bundles an import of
every package and built-in once and lists the set.

Measured (2 cores, busy; medians): esbuild itself bundles a file importing nanoid in
5-20 ms; the confined process (prlimit, then the Landlock wrapper, a Python start)
adds ~50 ms, so a bundle that is not cached costs 50-150 ms of a deploy (two files
48 ms, zod 70 ms, hono 134 ms, node:buffer + node:crypto 146 ms) and a cached one
~0.2 ms. Through the gateway a one-file deploy prepares in ~26 ms, two files with zod
in ~135 ms the first time and ~80 ms with the bundle cached. The snapshot then
compiles the bundle, metered: ~600 fuel units per byte of source, plus ~5,000 per
byte for the prelude's scan for lazy-module hints (guest_sdk/js/prelude/95-models.js,
``preloadLazyModules``; a 120 KB source: 132 M fuel without the scan, 751 M with it),
so zod 3's 120 KB bundle needs ~680 M of fuel at deploy, over the default 200 M.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from isolates.errors import CpuLimitExceeded, InvalidCode, ToolchainUnavailable
from isolates.javascript import is_es_module  # the runtime's own test: an ES-module entry stays one
from isolates.module_cache import default_cache_dir, write_atomically
from toolchains.base import GUEST_SDK, BuildError, BuildTimedOut, ToolchainMissing, toolchains_dir, trim_output
from toolchains.sandbox import SYSTEM, BuildLimits, run_limited, sandbox_missing
from toolchains.source_files import SourceFiles, SourceFilesError

SHIMS = GUEST_SDK / "js" / "node"

# node:NAME (and NAME alone, as Node resolves it) -> an npm package of the set, or a shim file
NODE_BUILTINS: dict[str, str | Path] = {
    "buffer": "buffer",
    "crypto": SHIMS / "crypto.js",
    "events": "events",
    "path": "path-browserify",
    "url": SHIMS / "url.js",
    "util": SHIMS / "util.js",
}
# Node's other built-ins: named in the error when a function imports one
OTHER_NODE_BUILTINS = frozenset({
    "assert", "async_hooks", "child_process", "cluster", "console", "constants", "dgram", "diagnostics_channel",
    "dns", "domain", "fs", "fs/promises", "http", "http2", "https", "inspector", "module", "net", "os",
    "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream", "stream/promises",
    "string_decoder", "sys", "timers", "timers/promises", "tls", "trace_events", "tty", "v8", "vm",
    "wasi", "worker_threads", "zlib",
})

FLAGS = (
    "--bundle",
    "--platform=neutral",
    # the package.json fields and export conditions Cloudflare's wrangler picks for Workers: a
    # package's browser/worker build uses fetch and Web Crypto, not Node's modules
    "--main-fields=browser,module,main",
    "--conditions=workerd,worker,browser",
    "--resolve-extensions=.ts,.tsx,.mts,.cts,.js,.jsx,.mjs,.cjs,.json",
    "--define:process.env.NODE_ENV=\"production\"",
    "--legal-comments=none",  # nothing is redistributed: the bundle runs in its tenant's sandbox
    "--charset=utf8",
    "--log-level=error",
    "--log-limit=20",
    "--color=false",
)
# Bump when the bundle a given input makes changes for a reason the key does not see.
BUNDLER_REVISION = "1"

# A first line that isolates/javascript.py's module detection cannot miss: it reads the whole
# source with comments removed by a regex, which a "/*" inside a library's string can fool.
MODULE_MARKER = "export {};\n"
# A CommonJS entry is wrapped in a function, like the runtime's one-file scripts, so that a top-level
# `return` (webtask) is allowed and its value becomes module.exports. The head shares the entry's
# first line, so line numbers stay the user's; esbuild's columns on that line are shifted back.
CJS_ENTRY_HEAD = "var __wasmtask_returned = (function () {"
CJS_ENTRY_TAIL = ("\n}).call(module.exports);\n"
                  "if (__wasmtask_returned !== undefined) module.exports = __wasmtask_returned;\n")

# a static import or export-from, a dynamic import() or require() of a string literal
_IMPORT = re.compile(
    r"""\bimport\b\s*(?:[\w$*{][^;'"`]*?\bfrom\s*)?['"]"""
    r"""|\bexport\s*(?:\*|\{)[^;'"`]*?\bfrom\s*['"]"""
    r"""|\b(?:import|require)\s*\(\s*['"`]"""
)
_GLOBAL_BUFFER = re.compile(r"(?<![.\w$])Buffer\b")
_ERROR = re.compile(r"^(?:✘|X) \[ERROR\] (?P<text>.*)$")
_LOCATION = re.compile(r"^ {4}(?P<file>\S.*?):(?P<line>\d+):(?P<column>\d+):$")
_UNRESOLVED = re.compile(r'^Could not resolve "(?P<path>[^"]+)"')


def needs_bundling(source: str) -> bool:
    """Whether a one-file function imports anything (then esbuild resolves it; else the source runs as it is).
    A false positive (an import in a comment) costs a bundle's time, never a wrong program."""
    return _IMPORT.search(source) is not None


@dataclass(frozen=True)
class Bundle:
    """esbuild's output: one JavaScript source for ``isolates.prepare``."""

    source: str
    key: str  # hash of everything that went in
    cached: bool
    seconds: float


class Bundler:
    """esbuild over the platform's npm set, bundles cached under ``cache_dir``."""

    limits = BuildLimits(timeout_s=30.0, memory_bytes=1 << 30, address_space_bytes=16 << 30)

    def __init__(self, root: Path | None = None, cache_dir: Path | None = None) -> None:
        root = root or toolchains_dir()
        self.esbuild_dir = root / "esbuild"
        self.packages_dir = root / "npm"
        self.cache_dir = cache_dir or default_cache_dir() / "bundles"

    @property
    def esbuild(self) -> Path:
        return self.esbuild_dir / "node_modules" / "esbuild" / "bin" / "esbuild"

    @property
    def node_modules(self) -> Path:
        return self.packages_dir / "node_modules"

    def missing(self) -> str | None:
        """Why this machine cannot bundle, or None when it can."""
        if not os.access(self.esbuild, os.X_OK):
            return f"esbuild is not installed ({self.esbuild} is missing)"
        if not (self.packages_dir / "package-lock.json").exists():
            return f"the npm package set is not installed ({self.packages_dir}/package-lock.json is missing)"
        return sandbox_missing()

    def available(self) -> list[str]:
        """The packages a function may import: the set's own dependencies (node-compat ones included)."""
        try:
            package = json.loads((self.packages_dir / "package.json").read_text())
        except (OSError, ValueError):
            return []
        return sorted(package.get("dependencies", {}))

    def versions(self) -> dict[str, str]:
        """Each package of the set and its installed version (from package-lock.json)."""
        lock = json.loads((self.packages_dir / "package-lock.json").read_text())
        packages = lock.get("packages", {})
        return {name: packages.get(f"node_modules/{name}", {}).get("version", "?") for name in self.available()}

    @functools.cached_property
    def _fixed_key(self) -> bytes:
        """What every bundle's key shares; read once per process (a reinstalled set needs a restart)."""
        esbuild_package = json.loads((self.esbuild_dir / "node_modules" / "esbuild" / "package.json").read_text())
        digest = hashlib.sha256()
        parts: list[bytes] = [
            BUNDLER_REVISION.encode(), esbuild_package["version"].encode(), "\0".join(FLAGS).encode(),
            (self.packages_dir / "package-lock.json").read_bytes(),
            *(path.read_bytes() for path in sorted(SHIMS.glob("*.js"))),
        ]
        for part in parts:
            digest.update(len(part).to_bytes(8, "little") + part)
        return digest.digest()

    def key(self, files: SourceFiles) -> str:
        return hashlib.sha256(self._fixed_key + files.encode()).hexdigest()

    def bundle(self, files: SourceFiles) -> Bundle:
        """``files`` as one source (cached). Raises BuildError (esbuild's messages, or a missing
        module named), BuildTimedOut, ToolchainMissing."""
        reason = self.missing()
        if reason:
            raise ToolchainMissing(f"this server cannot bundle JavaScript imports: {reason}")
        started = time.perf_counter()
        key = self.key(files)
        path = self.cache_dir / f"bundle-{key[:40]}.js"
        if path.exists():
            return Bundle(path.read_text(encoding="utf-8"), key, True, time.perf_counter() - started)
        with tempfile.TemporaryDirectory(prefix="wasmtask-bundle-") as temporary:
            workdir = Path(temporary)
            source = self._run_esbuild(files, workdir)
        write_atomically(path, source.encode("utf-8"))
        return Bundle(source, key, False, time.perf_counter() - started)

    def command(self, files: SourceFiles) -> list[str]:
        command = [str(self.esbuild), files.entry, *FLAGS, "--format=esm", "--outfile=bundle.js",
                   "--metafile=meta.json"]
        for name, target in NODE_BUILTINS.items():
            command.append(f"--alias:node:{name}={target}")
            if isinstance(target, Path) or target != name:
                command.append(f"--alias:{name}={target}")
        if any(_GLOBAL_BUFFER.search(text) for text in files.files.values()):
            command.append(f"--inject:{SHIMS / 'buffer-global.js'}")
        return command

    def _run_esbuild(self, files: SourceFiles, workdir: Path) -> str:
        source_dir = workdir / "src"
        for name, text in files.files.items():
            target = source_dir / name
            if not target.resolve().is_relative_to(source_dir.resolve()):  # checked paths never do: defence in depth
                raise BuildError(f"{name}: not a path inside the function's files")
            target.parent.mkdir(parents=True, exist_ok=True)
            if name == files.entry and not is_es_module(text):
                text = CJS_ENTRY_HEAD + text + CJS_ENTRY_TAIL
            target.write_text(text, encoding="utf-8")
        confinement = SYSTEM.plus(read=[self.esbuild_dir, self.packages_dir, SHIMS], write=[workdir])
        finished = run_limited(self.command(files), cwd=source_dir, limits=self.limits,
                               env={"NODE_PATH": str(self.node_modules), "TMPDIR": str(workdir)},
                               confinement=confinement)
        if finished.returncode != 0:
            if finished.returncode < 0:
                raise BuildError(f"esbuild was killed by signal {-finished.returncode} (over its memory or CPU limit?)")
            shifted = "" if is_es_module(files.files[files.entry]) else files.entry
            raise BuildError(self.explain(finished.output, source_dir, shifted))
        self._check_inputs(source_dir)
        output = (source_dir / "bundle.js").read_text(encoding="utf-8")
        return MODULE_MARKER + output

    def _check_inputs(self, source_dir: Path) -> None:
        """Refuse a bundle that read a file outside the deploy, the npm set and the shims."""
        meta = json.loads((source_dir / "meta.json").read_text())
        allowed = (source_dir.resolve(), self.node_modules.resolve(), SHIMS.resolve())
        for name in meta.get("inputs", {}):
            path = (source_dir / name).resolve()
            if not any(path.is_relative_to(root) for root in allowed):
                raise BuildError(f"{name}: imports a file outside the function's own files")

    def explain(self, output: str, source_dir: Path, wrapped_entry: str = "") -> str:
        """esbuild's errors as ``file:line:column: message`` lines; a module that does not resolve
        named with what the platform provides (the source snippets and hints are left out).
        ``wrapped_entry``: the CommonJS entry that ``CJS_ENTRY_HEAD`` starts."""
        lines = output.splitlines()
        messages: list[str] = []
        for index, line in enumerate(lines):
            match = _ERROR.match(line)
            if not match:
                continue
            text = match.group("text")
            location = ""
            for following in lines[index + 1:index + 4]:
                found = _LOCATION.match(following)
                if found:
                    column = int(found.group("column")) + 1  # esbuild counts columns from 0, editors from 1
                    if found.group("file") == wrapped_entry and found.group("line") == "1":
                        column = max(1, column - len(CJS_ENTRY_HEAD))
                    location = f"{found.group('file')}:{found.group('line')}:{column}: "
                    break
            unresolved = _UNRESOLVED.match(text)
            if unresolved:
                text = self.unresolved(unresolved.group("path"))
            if location.startswith(("../", "/")) or text.endswith("permission denied"):  # Landlock said no
                location, text = "", "an import reaches outside the function's own files"
            messages.append(location + text)
        if not messages:
            return trim_output(output, source_dir) or "esbuild failed"
        return "\n".join(dict.fromkeys(messages))

    def unresolved(self, specifier: str) -> str:
        """Why ``specifier`` did not resolve, in the deployer's terms."""
        if specifier.startswith((".", "/")):
            return f"cannot find {specifier!r} among the function's files"
        name = specifier.removeprefix("node:")
        if specifier.startswith("node:") or name in OTHER_NODE_BUILTINS:
            return (f"module {specifier!r} is not available: the sandbox provides the Node.js built-ins "
                    f"{', '.join(f'node:{builtin}' for builtin in NODE_BUILTINS)}")
        package = "/".join(specifier.split("/")[:2]) if specifier.startswith("@") else specifier.split("/")[0]
        available = self.available()
        if package in available:
            return f"module {specifier!r} is not available: package {package!r} does not export that path"
        return (f"module {specifier!r} is not available: the platform provides the npm packages "
                f"{', '.join(available) or '(none installed)'} and the Node.js built-ins "
                f"{', '.join(f'node:{builtin}' for builtin in NODE_BUILTINS)}")


@runtime_checkable
class Bundles(Protocol):
    """What bundles: a ``Bundler`` here, or toolchains/builder.py's client of the builder process."""

    def bundle(self, files: SourceFiles) -> Bundle: ...


@functools.cache
def default_bundler() -> Bundler:
    return Bundler()


INSTALL_HINT = "install it on the server with `make toolchains` (toolchains/install.sh)"


def javascript_source(code: bytes, filename: str | None = None, bundler: Bundles | None = None) -> str:
    """The source ``isolates.prepare`` gets for a stored JavaScript function: a plain file as it is;
    several files (toolchains/source_files.py), or one that imports, bundled. ``filename`` names a
    one-file function's source in esbuild's messages. Raises ``InvalidCode`` (not UTF-8; esbuild's
    errors, or a missing module named), ``CpuLimitExceeded`` (esbuild ran out of time),
    ``ToolchainUnavailable`` (no esbuild or npm set here)."""
    try:
        files = SourceFiles.decode(code)
    except SourceFilesError as exc:
        raise InvalidCode(str(exc)) from exc
    if files is None:
        try:
            source = code.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidCode("JavaScript source must be UTF-8") from exc
        if not needs_bundling(source):
            return source
        name = filename or "index.js"
        files = SourceFiles(entry=name, files={name: source})
    bundler = bundler or default_bundler()
    try:
        return bundler.bundle(files).source
    except BuildError as exc:
        raise InvalidCode(f"the JavaScript does not bundle:\n{exc}") from exc
    except BuildTimedOut as exc:
        raise CpuLimitExceeded(f"bundling the JavaScript did not finish: {exc}") from exc
    except ToolchainMissing as exc:
        raise ToolchainUnavailable(f"{exc}; {INSTALL_HINT}") from exc


def main() -> int:
    """``python -m toolchains.bundler``: whether this machine can bundle; bundles an import of every
    package of the set and of every Node built-in once (fails loudly, like ``python -m toolchains``)."""
    bundler = default_bundler()
    reason = bundler.missing()
    if reason:
        print(f"javascript bundling MISSING  {reason}")
        return 1
    versions = bundler.versions()
    imports = [*versions, *(f"node:{name}" for name in NODE_BUILTINS)]
    entry = "".join(f"import * as m{index} from {json.dumps(name)};\n" for index, name in enumerate(imports))
    entry += f"export default [{', '.join(f'm{index}' for index in range(len(imports)))}];\n"
    try:
        bundle = bundler.bundle(SourceFiles(entry="check.js", files={"check.js": entry}))
    except (BuildError, BuildTimedOut, ToolchainMissing) as exc:
        print(f"javascript bundling FAILED  {exc}")
        return 1
    how = "cached" if bundle.cached else f"bundled in {bundle.seconds:.2f} s"
    print(f"javascript bundling ok  every package and built-in below -> {len(bundle.source):,} bytes, {how}")
    print(f"  npm: {', '.join(f'{name}@{version}' for name, version in versions.items())}")
    print(f"  node: {', '.join(f'node:{name}' for name in NODE_BUILTINS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The console's static assets: built at ``make`` time from npm packages with esbuild, read by the server.

``python -m gateway.console.assets`` (``make console``) installs the packages pinned
by gateway/console/web/package-lock.json into ``build/console-npm`` (``npm ci``:
the registry once, then npm's cache) and bundles ``web/src`` with esbuild (from that
same lock) into ``build/console/assets/`` under content-hashed names
(``console-HASH.js``), plus ``manifest.json`` naming them. Nothing is fetched when
the console serves: no CDN, no network. The build is cached by a hash of its inputs
(the lock, the sources, this module), like the JS runtime's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
WEB = Path(__file__).resolve().parent / "web"
SOURCES = WEB / "src"
# esbuild entry points -> the logical asset names the server and index.html use
ENTRIES = {"console": SOURCES / "console.js", "wasmtask-editor": SOURCES / "embed.js",
           "embed-demo": SOURCES / "embed-demo.js"}
STYLESHEET = SOURCES / "console.css"
BUILD_FORMAT = 2  # bump when the build's output changes shape


class AssetsMissing(Exception):
    """The console's assets were not built (``make console``)."""


def build_dir() -> Path:
    """``$WASMTASK_BUILD_DIR/console`` (default build/console in the checkout)."""
    return Path(os.environ.get("WASMTASK_BUILD_DIR", REPO / "build")) / "console"


@dataclass(frozen=True)
class Manifest:
    """What a build made: logical name (``console.js``) -> hashed file name, and the files' directory."""

    directory: Path
    files: dict[str, str]
    sizes: dict[str, int]

    def path(self, logical: str) -> Path:
        return self.directory / self.files[logical]

    def hashed_names(self) -> frozenset[str]:
        return frozenset(self.files.values())


def load(out: Path | None = None) -> Manifest:
    """The built manifest; ``AssetsMissing`` when there is none."""
    out = out or build_dir()
    try:
        data = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise AssetsMissing(f"the console's assets are not built in {out} (run `make console`): {exc}") from None
    return Manifest(out / "assets", dict(data["files"]), dict(data["sizes"]))


def inputs_hash() -> str:
    digest = hashlib.sha256(f"format {BUILD_FORMAT}\n".encode())
    for path in [WEB / "package-lock.json", Path(__file__), *sorted(SOURCES.rglob("*"))]:
        if path.is_file():
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def install_packages(npm_dir: Path) -> Path:
    """``npm ci`` of the pinned packages into ``npm_dir`` (again only when the lock changes)."""
    lock = (WEB / "package-lock.json").read_bytes()
    marker = npm_dir / ".lock-sha256"
    want = hashlib.sha256(lock).hexdigest()
    if marker.exists() and marker.read_text() == want and (npm_dir / "node_modules" / ".bin" / "esbuild").exists():
        return npm_dir
    npm_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(WEB / "package.json", npm_dir / "package.json")
    shutil.copy(WEB / "package-lock.json", npm_dir / "package-lock.json")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=npm_dir, check=True)
    marker.write_text(want)
    return npm_dir


def build(out: Path | None = None, *, force: bool = False) -> Manifest:
    """Bundle the console (cached by ``inputs_hash``); returns its manifest."""
    out = out or build_dir()
    key = inputs_hash()
    try:
        if not force and json.loads((out / "manifest.json").read_text()).get("inputs") == key:
            return load(out)
    except (OSError, ValueError):
        pass
    npm_dir = install_packages(out.parent / "console-npm")
    esbuild = npm_dir / "node_modules" / ".bin" / "esbuild"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        staging = Path(tmp) / "assets"
        meta = Path(tmp) / "meta.json"
        entries = [f"{name}={path}" for name, path in ENTRIES.items()] + [f"console={STYLESHEET}"]
        subprocess.run([str(esbuild), *entries, "--bundle", "--minify", "--format=iife", "--target=es2020",
                        "--legal-comments=none", f"--outdir={staging}", "--entry-names=[name]-[hash]",
                        f"--metafile={meta}", "--log-level=warning"],
                       cwd=npm_dir, check=True, env={**os.environ, "NODE_PATH": str(npm_dir / "node_modules")})
        outputs = json.loads(meta.read_text())["outputs"]
        files: dict[str, str] = {}
        for output, info in outputs.items():
            entry = info.get("entryPoint", "")
            name = Path(output).name
            logical = Path(entry).stem + Path(name).suffix
            if Path(entry).name == "embed.js":
                logical = "wasmtask-editor.js"
            files[logical] = name
        sizes = {logical: (staging / name).stat().st_size for logical, name in files.items()}
        assets = out / "assets"
        assets.mkdir(exist_ok=True)
        for name in files.values():
            os.replace(staging / name, assets / name)
        manifest = {"inputs": key, "files": files, "sizes": sizes}
        (out / "manifest.json.tmp").write_text(json.dumps(manifest, indent=1))
        os.replace(out / "manifest.json.tmp", out / "manifest.json")
    keep = set(files.values())
    for old in (out / "assets").iterdir():  # earlier builds' files
        if old.name not in keep:
            old.unlink()
    return load(out)


def main() -> int:
    manifest = build(force="--force" in sys.argv)
    for logical, name in sorted(manifest.files.items()):
        print(f"  {logical:20} {name:36} {manifest.sizes[logical]:>8} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

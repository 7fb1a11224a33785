"""Pinned source distributions from PyPI: what the JS runtime is built from (QuickJS-NG, ada, lexbor).

Downloaded once into a cache and checked against their pinned sha256 before use.
``--no-binary <that package>`` only: forcing ``:all:`` would build its build
dependencies (Cython, ...) from source too, which needs a C compiler that the
image's build stage does not have.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


class SdistError(RuntimeError):
    """A pinned sdist could not be downloaded, or is not the one pinned."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_pinned_sdist(package: str, version: str, filename: str, sha256: str, cache: Path) -> Path:
    """``cache/filename``, downloaded with pip if missing; ``SdistError`` unless its sha256 is ``sha256``."""
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / filename
    if not sdist.exists():
        try:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", package,
                            f"{package}=={version}", "-d", str(cache)], check=True)
        except subprocess.CalledProcessError as exc:
            raise SdistError(f"pip could not download {package}=={version}: exit status {exc.returncode}") from exc
    digest = sha256_of(sdist)
    if digest != sha256:
        raise SdistError(f"{sdist.name}: sha256 {digest} does not match the pinned {sha256}")
    return sdist

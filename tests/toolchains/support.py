"""What tests that build guest source share: skip (or, in CI, fail) when a toolchain is missing.

A language whose toolchain is missing is skipped locally (with the reason) but
fails in CI (env CI set): CI must run `make toolchains`.
"""

from __future__ import annotations

import os

import pytest

from toolchains import TOOLCHAINS
from toolchains.bundler import default_bundler


def require_toolchain(language: str) -> None:
    """Skip (locally) or fail (in CI) when this machine cannot build ``language``."""
    if language not in TOOLCHAINS:
        return
    reason = TOOLCHAINS[language].missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the {language} toolchain is missing in CI: {reason}; run `make toolchains`")
    pytest.skip(f"the {language} toolchain is missing: {reason}; run `make toolchains`")


def require_bundler() -> None:
    """Skip (locally) or fail (in CI) when this machine cannot bundle JavaScript imports
    (esbuild and the npm set that `make toolchains` installs)."""
    reason = default_bundler().missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"JavaScript bundling is missing in CI: {reason}; run `make toolchains`")
    pytest.skip(f"JavaScript bundling is missing: {reason}; run `make toolchains`")

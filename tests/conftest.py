"""Shared test set-up: the JS runtime must be built (make test does it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # each test run gets its own compiled-module cache unless the caller set one
    os.environ.setdefault("WASMTASK_CACHE_DIR", str(REPO / "build" / "test-module-cache"))

"""The browser tier (``make test-browser``): Debian's chromium driven by Playwright (no browser download).

Playwright comes from PyPI (``.[browser]``) and is told to launch Debian's ``chromium``
(apt; the Makefile installs both); the gateway and the console are the real apps on
loopback, as in tests/gateway/console. They run with WASMTASK_BROWSER_TESTS=1 only, so
that ``make test`` does not run them twice.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.console.conftest import ConsoleSite, console_assets, site

__all__ = ["ConsoleSite", "console_assets", "site"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("WASMTASK_BROWSER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="the browser tier: make test-browser (WASMTASK_BROWSER_TESTS=1)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]' (make test-browser)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium: apt-get install chromium (make test-browser does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()

"""Host-layer test set-up. Tiers: the egress and cgroup tests (fast, need root)
run by default; the Docker tier is marked ``docker`` and runs only with
WASMTASK_DOCKER_TESTS=1 (``make test-docker``).
"""

from __future__ import annotations

import os

import pytest

from tests.deploy.support import require_tool


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: builds and runs the real image in a private dockerd (WASMTASK_DOCKER_TESTS=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("WASMTASK_DOCKER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="Docker tier: set WASMTASK_DOCKER_TESTS=1 (make test-docker)")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ip() -> str:
    return require_tool("ip", "iproute2")


@pytest.fixture(scope="session")
def nft() -> str:
    return require_tool("nft", "nftables")

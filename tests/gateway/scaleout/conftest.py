from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.coordination.redis_server import PrivateRedis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A real redis-server of this test's own, on a unix socket."""
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()

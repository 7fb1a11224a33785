from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.logs import LogHub
from tests.gateway.logs.support import make_app, serve


@pytest.fixture
def hub() -> LogHub:
    return LogHub()


@pytest.fixture
def log_server(hub: LogHub) -> Iterator[str]:
    """The base URL of ``hub``'s bare log endpoint (token ``TOKEN``, 0.2 s heartbeat). Not the gateway's ``server``."""
    with serve(make_app(hub, heartbeat_seconds=0.2)) as running:
        yield running.url

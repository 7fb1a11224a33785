from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import Settings, TenantDefaults
from gateway.coordination.redis_server import PrivateRedis
from tests.gateway.support import ADMIN_KEY, REGISTRY_BACKENDS, Api, PostgresServer, ThreadServer

# Small enough that the fairness tests saturate a tenant quickly on any machine.
TEST_SETTINGS = dict(
    admin_key=ADMIN_KEY,
    max_isolates=4,
    queue_timeout_ms=300,
    queue_depth=4,
    max_body_bytes=64 * 1024,
    max_code_bytes=256 * 1024,
    tenant=TenantDefaults(concurrency=2, rate_per_second=1000.0, rate_burst=1000),
)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL 15 for the whole session (skips where it cannot run)."""
    with PostgresServer.private() as running:
        yield running


@pytest.fixture(scope="session", params=REGISTRY_BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    """One gateway per registry backend: every test using it runs against SQLite and PostgreSQL."""
    data_dir: Path = tmp_path_factory.mktemp(f"gateway-data-{request.param}")
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres").create_database("gateway")
    running = ThreadServer(Settings(data_dir=data_dir, database_url=database_url,
                                    **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api(server: ThreadServer) -> Api:
    return Api(server.url)


@pytest.fixture
def tenant(api: Api) -> str:
    """A fresh tenant for one test."""
    return api.create_tenant()


@pytest.fixture
def token(api: Api, tenant: str) -> dict[str, str]:
    """Headers with a run+deploy+logs token of ``tenant``."""
    return api.token(tenant)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A real redis-server of this test's own, on a unix socket."""
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()

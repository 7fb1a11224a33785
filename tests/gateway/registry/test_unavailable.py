"""When the registry's database is away: every call fails soon with registry_unavailable, cached functions are
still served, and everything works again by itself once it is back.

These tests stop and freeze a PostgreSQL of their own (not the session's)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.errors import RegistryUnavailable
from gateway.registry import Registry, sqlite
from gateway.registry.postgres import PostgresDatabase, PostgresTimeouts
from gateway.secret_box import SecretBox
from isolates import Limits
from tests.gateway.registry.support import KEY, Backend, spec
from tests.gateway.support import ADMIN_KEY, Api, PostgresServer, ThreadServer, error_code

HELLO = "module.exports = function (cb) { cb(null, 'hello'); };"
HELLO_AGAIN = "module.exports = function (cb) { cb(null, 'hello again'); };"
FAST = PostgresTimeouts(statement_ms=1_000, lock_ms=1_000, operation_s=1.5)


@pytest.fixture(scope="module")
def fragile() -> Iterator[PostgresServer]:
    """A PostgreSQL these tests may stop and freeze."""
    with PostgresServer.private() as server:
        yield server


@pytest.fixture
def fragile_url(fragile: PostgresServer) -> Iterator[str]:
    if fragile.pid is None:
        fragile.start()
    yield fragile.create_database("fragile")
    signal_all(fragile.backends(), signal.SIGCONT)  # in case a test failed while the server was frozen


def signal_all(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass  # a backend that ended meanwhile


def every_call(registry: Registry) -> dict[str, Callable[[], Any]]:
    """One call of each registry method (tenant acme and its function f exist)."""
    return {
        "ping": registry.ping,
        "check_secret_key": registry.check_secret_key,
        "get_tenant": lambda: registry.get_tenant("acme"),
        "list_tenants": registry.list_tenants,
        "create_tenant": lambda: registry.create_tenant("other", max_limits=Limits(), rate_per_second=1,
                                                        rate_burst=1, concurrency=1),
        "update_tenant": lambda: registry.update_tenant("acme", rate_burst=3),
        "deploy": lambda: registry.deploy("acme", "f", spec("new")),
        "current": lambda: registry.current("acme", "f"),
        "list_functions": lambda: registry.list_functions("acme"),
        "list_versions": lambda: registry.list_versions("acme", "f"),
        "changes_since": lambda: registry.changes_since(0, 10),
        "latest_change_id": registry.latest_change_id,
        "changes_pruned_through": registry.changes_pruned_through,
        "delete_function": lambda: registry.delete_function("acme", "g"),
        "delete_tenant": lambda: registry.delete_tenant("gone"),
    }


def prepare(registry: Registry) -> None:
    for tenant in ("acme", "gone"):
        registry.create_tenant(tenant, max_limits=Limits(), rate_per_second=1, rate_burst=1, concurrency=1)
    registry.deploy("acme", "f", spec("old"))
    registry.deploy("acme", "g", spec("old"))


def assert_unavailable_soon(calls: dict[str, Callable[[], Any]], within_seconds: float) -> None:
    for name, call in calls.items():
        started = time.monotonic()
        with pytest.raises(RegistryUnavailable):
            call()
        assert time.monotonic() - started < within_seconds, name


def test_a_stopped_server_fails_every_call_at_once_and_a_restart_heals_them(
    fragile: PostgresServer, fragile_url: str
) -> None:
    registry = Registry(PostgresDatabase(fragile_url), SecretBox(KEY))
    prepare(registry)
    calls = every_call(registry)

    fragile.stop(immediate=True)  # pg_ctl stop -m immediate
    assert_unavailable_soon(calls, within_seconds=2.5)

    fragile.start()
    for name, call in calls.items():  # the first call after the restart already works
        try:
            call()
        except Exception as exc:
            pytest.fail(f"{name} after the restart: {exc!r}")
    assert registry.current("acme", "f").code == b"new"
    registry.close()


def test_a_frozen_server_fails_calls_after_the_operation_timeout_and_recovers(
    fragile: PostgresServer, fragile_url: str
) -> None:
    registry = Registry(PostgresDatabase(fragile_url, timeouts=FAST), SecretBox(KEY))
    prepare(registry)
    frozen = fragile.backends()

    signal_all(frozen, signal.SIGSTOP)  # the postmaster and every backend: nothing answers, not even a cancel
    try:
        assert_unavailable_soon({"current": lambda: registry.current("acme", "f"),
                                 "deploy": lambda: registry.deploy("acme", "f", spec("new"))}, within_seconds=4.0)
    finally:
        signal_all(frozen, signal.SIGCONT)

    assert registry.deploy("acme", "f", spec("newer")).code == b"newer"
    registry.close()


def test_a_sqlite_file_locked_too_long_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 200)
    backend = Backend("sqlite", path=tmp_path)
    registry = backend.with_tenant()
    holder = sqlite3.connect(tmp_path / "registry.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock

    started = time.monotonic()
    with pytest.raises(RegistryUnavailable):
        registry.deploy("acme", "f", spec("x"))
    assert time.monotonic() - started < 2
    assert registry.list_functions("acme") == []  # readers are not blocked (WAL)

    holder.execute("ROLLBACK")
    holder.close()
    assert registry.deploy("acme", "f", spec("x")).version == 1
    backend.close()


def test_a_gateway_keeps_serving_cached_functions_while_postgres_is_down(
    fragile: PostgresServer, fragile_url: str, tmp_path: Path
) -> None:
    server = ThreadServer(Settings(data_dir=tmp_path, database_url=fragile_url, admin_key=ADMIN_KEY)).start()
    try:
        api = Api(server.url)
        tenant = api.create_tenant()
        token = api.token(tenant)
        api.deployed(tenant, "f", HELLO, token)
        assert api.http.get(f"/run/{tenant}/f").json() == "hello"  # cached now

        fragile.stop(immediate=True)
        started = time.monotonic()
        refused = api.deploy(tenant, "f", HELLO_AGAIN, token)
        assert (refused.status_code, error_code(refused)) == (503, "registry_unavailable")
        assert time.monotonic() - started < 5
        for _ in range(5):
            assert api.http.get(f"/run/{tenant}/f").json() == "hello"
        listed = api.http.get(f"/api/functions/{tenant}", headers=token)
        assert (listed.status_code, error_code(listed)) == (503, "registry_unavailable")
        assert api.http.get("/readyz").status_code == 503

        fragile.start()
        assert api.deployed(tenant, "f", HELLO_AGAIN, token)["version"] == "v2"
        assert api.http.get(f"/run/{tenant}/f").json() == "hello again"
        assert api.http.get("/readyz").status_code == 200
    finally:
        server.stop()

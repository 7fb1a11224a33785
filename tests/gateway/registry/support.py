"""What the registry tests share: a ``Backend`` (one test's storage, on either engine), a key, a spec."""

from __future__ import annotations

from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

from gateway.registry import Database, DeploySpec, Registry, SQLiteDatabase
from gateway.registry.postgres import PostgresDatabase, PostgresTimeouts
from gateway.secret_box import SecretBox
from isolates import Limits
from tests.gateway.support import PostgresServer

KEY = Fernet.generate_key().decode()


class Backend:
    """One test's registry storage: open it as often as a test needs (a reopen, a second process)."""

    def __init__(self, engine: str, *, path: Path | None = None, url: str | None = None,
                 postgres: PostgresServer | None = None) -> None:
        self.engine = engine
        self.path = path
        self.url = url
        self.postgres = postgres
        self.opened: list[Registry | Database] = []

    def database(self, *, timeouts: PostgresTimeouts | None = None) -> Database:
        database: Database
        if self.engine == "sqlite":
            assert self.path is not None
            database = SQLiteDatabase(self.path / "registry.sqlite3")
        else:
            assert self.url is not None
            database = PostgresDatabase(self.url, timeouts=timeouts)
        self.opened.append(database)
        return database

    def open(self, key: str = KEY, *, timeouts: PostgresTimeouts | None = None) -> Registry:
        registry = Registry(self.database(timeouts=timeouts), SecretBox(key))
        self.opened.append(registry)
        return registry

    def with_tenant(self, name: str = "acme") -> Registry:
        registry = self.open()
        registry.create_tenant(name, max_limits=Limits(), rate_per_second=10.0, rate_burst=10, concurrency=2)
        return registry

    def stored_bytes(self) -> bytes:
        """Everything the engine keeps on disk for this registry (and, for PostgreSQL, for others too)."""
        if self.engine == "sqlite":
            assert self.path is not None
            return b"".join(p.read_bytes() for p in self.path.iterdir() if p.is_file())
        assert self.postgres is not None
        with psycopg.connect(self.postgres.url(), autocommit=True) as connection:
            connection.execute("CHECKPOINT")
        return b"".join(p.read_bytes() for p in self.postgres.data.rglob("*") if p.is_file())

    def close(self) -> None:
        for opened in reversed(self.opened):
            opened.close()


def spec(code: str, **fields: object) -> DeploySpec:
    return DeploySpec(language="javascript", code=code.encode(), limits=Limits(), **fields)  # type: ignore[arg-type]

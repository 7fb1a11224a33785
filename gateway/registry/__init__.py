"""The function registry: tenants, functions, versions, encrypted secrets, and the change feed.

    records.py    Tenant, DeploySpec, FunctionVersion, Change: what goes in and comes out
    store.py      Registry: every query, written once over a Database
    schema.py     the numbered migrations (``schema_migrations``), the same for both engines
    database.py   the adapter a Database implements: sessions, transactions, dialect differences
    sqlite.py     SQLiteDatabase: one file in the data dir, WAL (the default; the workers of one host)
    postgres.py   PostgresDatabase: ``WASMTASK_DATABASE_URL``, a small pool, timeouts (several hosts)

``open_registry(settings, box)`` picks the engine from the settings. A database
that does not answer in time raises ``gateway.errors.RegistryUnavailable`` (503).
"""

from __future__ import annotations

from gateway.config import Settings
from gateway.registry.database import Database
from gateway.registry.records import (
    AUTH_MODES,
    CHANGE_KINDS,
    Change,
    ChangeKind,
    DeploySpec,
    FunctionVersion,
    IssuedToken,
    Tenant,
    new_tenant_uid,
)
from gateway.registry.schema import SCHEMA_VERSION, SchemaTooNew
from gateway.registry.sqlite import SQLiteDatabase
from gateway.registry.store import Registry
from gateway.secret_box import SecretBox

REGISTRY_FILE = "registry.sqlite3"  # in the data dir, when no database URL is set

__all__ = [
    "AUTH_MODES",
    "CHANGE_KINDS",
    "REGISTRY_FILE",
    "SCHEMA_VERSION",
    "Change",
    "ChangeKind",
    "Database",
    "DeploySpec",
    "FunctionVersion",
    "IssuedToken",
    "Registry",
    "SQLiteDatabase",
    "SchemaTooNew",
    "Tenant",
    "new_tenant_uid",
    "open_database",
    "open_registry",
]


def open_database(settings: Settings) -> Database:
    """PostgreSQL when ``settings.database_url`` is set, else SQLite in the data dir."""
    if settings.database_url:
        # imported here: psycopg costs ~200 ms of start-up, and only this engine needs it
        from gateway.registry.postgres import PostgresDatabase

        return PostgresDatabase(settings.database_url)
    return SQLiteDatabase(settings.data_dir / REGISTRY_FILE)


def open_registry(settings: Settings, box: SecretBox) -> Registry:
    """The registry the settings name, migrated to this schema."""
    database = open_database(settings)
    try:
        return Registry(database, box)
    except BaseException:
        database.close()
        raise

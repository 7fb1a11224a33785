"""The registry's schema: numbered migrations, one list for SQLite and PostgreSQL.

    1  tenants, functions, versions: the schema from before migrations existed (with
       tenants.uid). A SQLite registry made then is adopted as it is, and tenants from
       before uid existed get one.
    2  versions.number: each function's versions are numbered 1, 2, 3, ...; rows that
       exist already are numbered in the order of their id, per function.
    3  changes: the change feed the workers follow (gateway/registry/store.py).
    4  versions.filename (the user's file name, for error locations and stack traces) and
       versions.note (how a version came about when it was not a plain deploy: "rollback to v2").
    5  function storage (gateway/storage/): each function's JSON document (function_documents) and
       KV entries (kv_entries, keys as UTF-8 bytes so both engines order them alike); both go
       with their function (ON DELETE CASCADE).
    6  jobs (the async job queue, gateway/jobs), schedules (cron, gateway/cron) and runs (the
       bounded history of each function's job and cron runs).
    7  tokens: every tenant token the control plane issued (its jti, tenant, expiry) and
       whether it was revoked; rows go once expired (gateway/identity/tokens.py).

``schema_migrations`` holds one row per migration applied. ``migrate`` applies the
missing ones in one transaction that holds the write lock (SQLite) or an advisory
lock (PostgreSQL), so processes starting together migrate once. Type names in the
DDL are ``{tokens}`` (``Database.types``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.registry.database import Database, Session
from gateway.registry.records import new_tenant_uid

MIGRATIONS_LOCK = 0x7761_736D_0001  # advisory lock number ("wasm", 1): one migrating process at a time


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    then: Callable[[Database, Session], None] | None = None  # data changes the statements cannot express


class SchemaTooNew(RuntimeError):
    """The registry was migrated by a newer wasmtask than this one."""


def _give_tenants_uids(database: Database, session: Session) -> None:
    if "uid" not in database.columns(session, "tenants"):
        session.execute("ALTER TABLE tenants ADD COLUMN uid TEXT")
    for row in session.all("SELECT name FROM tenants WHERE uid IS NULL"):
        session.execute("UPDATE tenants SET uid = ? WHERE name = ?", (new_tenant_uid(), row["name"]))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tenants, functions and versions", (
        """CREATE TABLE IF NOT EXISTS tenants (
            name            TEXT PRIMARY KEY,
            max_limits      TEXT NOT NULL,
            rate_per_second {double} NOT NULL,
            rate_burst      INTEGER NOT NULL,
            concurrency     INTEGER NOT NULL,
            created_at      {double} NOT NULL,
            uid             TEXT
        )""",
        """CREATE TABLE IF NOT EXISTS functions (
            tenant          TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
            name            TEXT NOT NULL,
            current_version {int64} NOT NULL,
            created_at      {double} NOT NULL,
            updated_at      {double} NOT NULL,
            PRIMARY KEY (tenant, name)
        )""",
        """CREATE TABLE IF NOT EXISTS versions (
            id              {id},
            tenant          TEXT NOT NULL,
            function        TEXT NOT NULL,
            language        TEXT NOT NULL,
            code            {blob} NOT NULL,
            limits          TEXT NOT NULL,
            allowed_hosts   TEXT NOT NULL,
            auth            TEXT NOT NULL,
            env             TEXT NOT NULL,
            secret_names    TEXT NOT NULL,
            secrets         {blob} NOT NULL,
            created_at      {double} NOT NULL,
            FOREIGN KEY (tenant, function) REFERENCES functions(tenant, name) ON DELETE CASCADE
                DEFERRABLE INITIALLY DEFERRED
        )""",
        "CREATE INDEX IF NOT EXISTS versions_by_function ON versions (tenant, function, id)",
    ), then=_give_tenants_uids),
    Migration(2, "per-function version numbers", (
        "ALTER TABLE versions ADD COLUMN number INTEGER NOT NULL DEFAULT 0",
        """UPDATE versions SET number = (
            SELECT COUNT(*) FROM versions AS earlier
            WHERE earlier.tenant = versions.tenant AND earlier.function = versions.function
              AND earlier.id <= versions.id
        )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS versions_by_number ON versions (tenant, function, number)",
    )),
    Migration(3, "change feed", (
        """CREATE TABLE IF NOT EXISTS changes (
            id              {id},
            tenant          TEXT NOT NULL,
            function        TEXT,
            kind            TEXT NOT NULL,
            version         INTEGER,
            serial          {int64},
            at              {double} NOT NULL
        )""",
    )),
    Migration(4, "version file names and notes", (
        "ALTER TABLE versions ADD COLUMN filename TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE versions ADD COLUMN note TEXT NOT NULL DEFAULT ''",
    )),
    Migration(5, "function storage: documents and KV entries", (
        """CREATE TABLE IF NOT EXISTS function_documents (
            tenant          TEXT NOT NULL,
            function        TEXT NOT NULL,
            data            {blob} NOT NULL,
            version         {int64} NOT NULL,
            updated_at      {double} NOT NULL,
            PRIMARY KEY (tenant, function),
            FOREIGN KEY (tenant, function) REFERENCES functions(tenant, name) ON DELETE CASCADE
        )""",
        """CREATE TABLE IF NOT EXISTS kv_entries (
            tenant          TEXT NOT NULL,
            function        TEXT NOT NULL,
            key             {blob} NOT NULL,
            value           {blob} NOT NULL,
            is_text         INTEGER NOT NULL,
            size            {int64} NOT NULL,
            expires_at      {double},
            updated_at      {double} NOT NULL,
            PRIMARY KEY (tenant, function, key),
            FOREIGN KEY (tenant, function) REFERENCES functions(tenant, name) ON DELETE CASCADE
        )""",
    )),
    Migration(6, "jobs, schedules and runs", (
        """CREATE TABLE IF NOT EXISTS jobs (
            id              TEXT PRIMARY KEY,
            tenant          TEXT NOT NULL,
            function        TEXT NOT NULL,
            source          TEXT NOT NULL,
            idempotency_key TEXT,
            status          TEXT NOT NULL,
            request         {blob} NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            max_attempts    INTEGER NOT NULL,
            run_after       {double} NOT NULL,
            lease_until     {double},
            worker          TEXT,
            result          {blob},
            error           TEXT,
            fuel_used       {int64},
            duration_ms     {double},
            created_at      {double} NOT NULL,
            started_at      {double},
            finished_at     {double}
        )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_key ON jobs (tenant, idempotency_key)",
        "CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (status, run_after)",
        "CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, status, created_at)",
        """CREATE TABLE IF NOT EXISTS schedules (
            tenant          TEXT NOT NULL,
            function        TEXT NOT NULL,
            expression      TEXT NOT NULL,
            next_run        {double} NOT NULL,
            last_run        {double},
            created_at      {double} NOT NULL,
            PRIMARY KEY (tenant, function)
        )""",
        "CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_run)",
        """CREATE TABLE IF NOT EXISTS runs (
            id              {id},
            tenant          TEXT NOT NULL,
            function        TEXT NOT NULL,
            source          TEXT NOT NULL,
            job             TEXT,
            attempt         INTEGER NOT NULL,
            version         TEXT NOT NULL,
            started_at      {double} NOT NULL,
            duration_ms     {double} NOT NULL,
            code            TEXT NOT NULL,
            status          INTEGER,
            fuel_used       {int64} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS runs_by_function ON runs (tenant, function, id)",
    )),
    Migration(7, "issued tokens and their revocations", (
        """CREATE TABLE IF NOT EXISTS tokens (
            jti             TEXT PRIMARY KEY,
            tenant          TEXT NOT NULL,
            tenant_uid      TEXT NOT NULL,
            scopes          TEXT NOT NULL,
            issued_at       {double} NOT NULL,
            expires_at      {double} NOT NULL,
            revoked_at      {double}
        )""",
        "CREATE INDEX IF NOT EXISTS tokens_by_expiry ON tokens (expires_at)",
        "CREATE INDEX IF NOT EXISTS tokens_revoked ON tokens (revoked_at, expires_at)",
    )),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def migrate(database: Database) -> list[int]:
    """Apply the migrations ``database`` lacks; the versions applied now (oldest first)."""

    def work(session: Session) -> list[int]:
        database.serialize(session, MIGRATIONS_LOCK)
        session.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {double} NOT NULL)".format_map(database.types)
        )
        done = {int(row["version"]) for row in session.all("SELECT version FROM schema_migrations")}
        if done and max(done) > SCHEMA_VERSION:
            raise SchemaTooNew(f"the registry ({database.describe()}) has schema version {max(done)}; this wasmtask"
                               f" knows up to {SCHEMA_VERSION}: upgrade wasmtask")
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            for statement in migration.statements:
                session.execute(statement.format_map(database.types))
            if migration.then is not None:
                migration.then(database, session)
            session.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                            (migration.version, migration.name, time.time()))
            applied.append(migration.version)
        return applied

    return database.write(work)


def schema_version(database: Database) -> int:
    """The newest migration applied (0 for an empty database)."""

    def work(session: Session) -> int:
        if not database.columns(session, "schema_migrations"):
            return 0
        row = session.one("SELECT MAX(version) AS version FROM schema_migrations")
        return int(row["version"] or 0) if row else 0

    return database.read(work)

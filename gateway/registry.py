"""The function registry: tenants, functions, versions and their encrypted secrets, in SQLite (WAL).

No HTTP here. Methods are synchronous and short; the app calls the writing
ones on a worker thread. A deploy is one transaction: the new version row and
the flip of the function's current version commit together or not at all.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gateway.errors import Conflict, NotFound
from gateway.names import check_name
from gateway.secret_box import SecretBox
from isolates.limits import Limits

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    name            TEXT PRIMARY KEY,
    max_limits      TEXT NOT NULL,      -- JSON of isolates.Limits
    rate_per_second REAL NOT NULL,
    rate_burst      INTEGER NOT NULL,
    concurrency     INTEGER NOT NULL,
    created_at      REAL NOT NULL,
    uid             TEXT                -- identity: tokens carry it, a re-created name gets a new one
);
CREATE TABLE IF NOT EXISTS functions (
    tenant          TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    current_version INTEGER NOT NULL,   -- versions.id
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    PRIMARY KEY (tenant, name)
);
CREATE TABLE IF NOT EXISTS versions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: "v<id>"
    tenant          TEXT NOT NULL,
    function        TEXT NOT NULL,
    language        TEXT NOT NULL,
    code            BLOB NOT NULL,
    limits          TEXT NOT NULL,      -- JSON of isolates.Limits
    allowed_hosts   TEXT NOT NULL,      -- JSON list
    auth            TEXT NOT NULL,      -- "public" | "token"
    env             TEXT NOT NULL,      -- JSON object (not secret)
    secret_names    TEXT NOT NULL,      -- JSON list (names are not secret)
    secrets         BLOB NOT NULL,      -- Fernet token of the JSON object
    created_at      REAL NOT NULL,
    FOREIGN KEY (tenant, function) REFERENCES functions(tenant, name) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX IF NOT EXISTS versions_by_function ON versions (tenant, function, id);
"""

AUTH_MODES = ("public", "token")


@dataclass(frozen=True)
class Tenant:
    name: str
    max_limits: Limits
    rate_per_second: float
    rate_burst: int
    concurrency: int
    created_at: float
    uid: str = ""  # random, never reused: what a token is bound to (gateway/identity/tokens.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_limits": self.max_limits.to_dict(),
            "rate_limit": {"per_second": self.rate_per_second, "burst": self.rate_burst},
            "concurrency": self.concurrency,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class DeploySpec:
    """What a deploy stores. ``secrets=None`` keeps the current version's secrets."""

    language: str
    code: bytes
    limits: Limits
    allowed_hosts: tuple[str, ...] = ()
    auth: str = "public"
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class FunctionVersion:
    """One deployed version, secrets decrypted (never serialise ``secrets``: see ``metadata``)."""

    tenant: str
    function: str
    version: int
    language: str
    code: bytes = field(repr=False)
    limits: Limits
    allowed_hosts: tuple[str, ...]
    auth: str
    env: dict[str, str]
    secret_names: tuple[str, ...]
    secrets: dict[str, str] = field(repr=False)
    created_at: float
    updated_at: float = 0.0

    @property
    def version_id(self) -> str:
        return f"v{self.version}"

    def metadata(self) -> dict[str, Any]:
        """What the API shows: everything but the code and the secret values."""
        return {
            "tenant": self.tenant,
            "name": self.function,
            "version": self.version_id,
            "language": self.language,
            "limits": self.limits.to_dict(),
            "allowed_hosts": list(self.allowed_hosts),
            "auth": self.auth,
            "env": dict(self.env),
            "secrets": list(self.secret_names),
            "code_bytes": len(self.code),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class Registry:
    """The registry over one SQLite file. Thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path, box: SecretBox) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.box = box
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a registry made by an earlier version up to this schema."""
        with self.transaction() as db:
            columns = {row["name"] for row in db.execute("PRAGMA table_info(tenants)")}
            if "uid" not in columns:
                db.execute("ALTER TABLE tenants ADD COLUMN uid TEXT")
            for row in db.execute("SELECT name FROM tenants WHERE uid IS NULL").fetchall():
                db.execute("UPDATE tenants SET uid = ? WHERE name = ?", (new_tenant_uid(), row["name"]))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def ping(self) -> None:
        self._query("SELECT 1")

    def check_secret_key(self) -> None:
        """``SecretBoxError`` unless the newest stored secrets decrypt with this registry's key."""
        rows = self._query("SELECT secrets FROM versions ORDER BY id DESC LIMIT 1")
        if rows:
            self.box.open(bytes(rows[0]["secrets"]))

    # tenants

    def create_tenant(
        self, name: str, *, max_limits: Limits, rate_per_second: float, rate_burst: int, concurrency: int
    ) -> Tenant:
        check_name(name, "tenant name")
        now = time.time()
        uid = new_tenant_uid()
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO tenants (name, max_limits, rate_per_second, rate_burst, concurrency, created_at, uid)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, orjson.dumps(max_limits.to_dict()).decode(), rate_per_second, rate_burst, concurrency, now,
                     uid),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"tenant {name!r} exists already") from None
        return Tenant(name, max_limits, rate_per_second, rate_burst, concurrency, now, uid)

    def get_tenant(self, name: str) -> Tenant:
        rows = self._query("SELECT * FROM tenants WHERE name = ?", name)
        if not rows:
            raise NotFound(f"no tenant {name!r}")
        return _tenant(rows[0])

    def list_tenants(self) -> list[Tenant]:
        return [_tenant(row) for row in self._query("SELECT * FROM tenants ORDER BY name")]

    def delete_tenant(self, name: str) -> None:
        with self.transaction() as db:
            if db.execute("DELETE FROM tenants WHERE name = ?", (name,)).rowcount == 0:
                raise NotFound(f"no tenant {name!r}")
            db.execute("DELETE FROM versions WHERE tenant = ?", (name,))

    # functions

    def deploy(self, tenant: str, name: str, spec: DeploySpec) -> FunctionVersion:
        """Store ``spec`` as a new version and make it current, atomically."""
        check_name(name, "function name")
        now = time.time()
        with self._lock:  # the version returned is the one this call made current
            with self.transaction() as db:
                if not db.execute("SELECT 1 FROM tenants WHERE name = ?", (tenant,)).fetchone():
                    raise NotFound(f"no tenant {tenant!r}")
                secrets = spec.secrets
                if secrets is None:
                    previous = db.execute(
                        "SELECT v.secrets FROM functions f JOIN versions v ON v.id = f.current_version"
                        " WHERE f.tenant = ? AND f.name = ?",
                        (tenant, name),
                    ).fetchone()
                    secrets = self.box.open(previous["secrets"]) if previous else {}
                cursor = db.execute(
                    "INSERT INTO versions (tenant, function, language, code, limits, allowed_hosts, auth, env,"
                    " secret_names, secrets, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        tenant,
                        name,
                        spec.language,
                        spec.code,
                        orjson.dumps(spec.limits.to_dict()).decode(),
                        orjson.dumps(list(spec.allowed_hosts)).decode(),
                        spec.auth,
                        orjson.dumps(spec.env).decode(),
                        orjson.dumps(sorted(secrets)).decode(),
                        self.box.seal(secrets),
                        now,
                    ),
                )
                version = int(cursor.lastrowid or 0)
                self._make_current(db, tenant, name, version, now)
            return self.current(tenant, name)

    def _make_current(self, db: sqlite3.Connection, tenant: str, name: str, version: int, now: float) -> None:
        db.execute(
            "INSERT INTO functions (tenant, name, current_version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant, name) DO UPDATE SET current_version = excluded.current_version,"
            " updated_at = excluded.updated_at",
            (tenant, name, version, now, now),
        )

    def current(self, tenant: str, name: str) -> FunctionVersion:
        """The function's current version; ``NotFound`` if there is none."""
        rows = self._query(
            "SELECT v.*, f.updated_at FROM functions f JOIN versions v ON v.id = f.current_version"
            " WHERE f.tenant = ? AND f.name = ?",
            tenant,
            name,
        )
        if not rows:
            raise NotFound(f"no function {name!r} in tenant {tenant!r}")
        return self._version(rows[0])

    def current_version_id(self, tenant: str, name: str) -> int | None:
        rows = self._query("SELECT current_version FROM functions WHERE tenant = ? AND name = ?", tenant, name)
        return int(rows[0]["current_version"]) if rows else None

    def list_functions(self, tenant: str) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT f.name, f.current_version, f.created_at, f.updated_at, v.language, v.auth"
            " FROM functions f JOIN versions v ON v.id = f.current_version WHERE f.tenant = ? ORDER BY f.name",
            tenant,
        )
        return [
            {
                "name": row["name"],
                "version": f"v{row['current_version']}",
                "language": row["language"],
                "auth": row["auth"],
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
            }
            for row in rows
        ]

    def list_versions(self, tenant: str, name: str) -> list[dict[str, Any]]:
        current = self.current_version_id(tenant, name)
        if current is None:
            raise NotFound(f"no function {name!r} in tenant {tenant!r}")
        rows = self._query(
            "SELECT id, language, created_at FROM versions WHERE tenant = ? AND function = ? ORDER BY id",
            tenant,
            name,
        )
        return [
            {"version": f"v{row['id']}", "language": row["language"], "created_at": row["created_at"],
             "current": row["id"] == current}
            for row in rows
        ]

    def delete_function(self, tenant: str, name: str) -> None:
        with self.transaction() as db:
            if db.execute("DELETE FROM functions WHERE tenant = ? AND name = ?", (tenant, name)).rowcount == 0:
                raise NotFound(f"no function {name!r} in tenant {tenant!r}")
            db.execute("DELETE FROM versions WHERE tenant = ? AND function = ?", (tenant, name))

    def _version(self, row: sqlite3.Row) -> FunctionVersion:
        return FunctionVersion(
            tenant=row["tenant"],
            function=row["function"],
            version=int(row["id"]),
            language=row["language"],
            code=bytes(row["code"]),
            limits=Limits.from_dict(orjson.loads(row["limits"])),
            allowed_hosts=tuple(orjson.loads(row["allowed_hosts"])),
            auth=row["auth"],
            env=orjson.loads(row["env"]),
            secret_names=tuple(orjson.loads(row["secret_names"])),
            secrets=self.box.open(bytes(row["secrets"])),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def _tenant(row: sqlite3.Row) -> Tenant:
    return Tenant(
        name=row["name"],
        max_limits=Limits.from_dict(orjson.loads(row["max_limits"])),
        rate_per_second=float(row["rate_per_second"]),
        rate_burst=int(row["rate_burst"]),
        concurrency=int(row["concurrency"]),
        created_at=row["created_at"],
        uid=row["uid"],
    )


def new_tenant_uid() -> str:
    return secrets.token_hex(12)

"""One schema, versioned migrations on both engines; a SQLite registry from before migrations is migrated in place."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import orjson
import pytest

from gateway.registry import SCHEMA_VERSION, Registry, SchemaTooNew
from gateway.registry.schema import MIGRATIONS, migrate, schema_version
from gateway.secret_box import SecretBox
from isolates import Limits
from tests.gateway.registry.support import KEY, Backend, spec

# The registry's schema before migrations existed (gateway/registry.py until then), verbatim.
LEGACY_SCHEMA = """
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


def legacy_registry(path: Path, *, with_uid: bool = True) -> None:
    """What the code before migrations left: tenant acme; f deployed twice and g once, interleaved
    (global version ids: f=1, g=2, f=3), f's secrets sealed with ``KEY``."""
    schema = LEGACY_SCHEMA if with_uid else LEGACY_SCHEMA.replace(
        ",\n    uid             TEXT                -- identity: tokens carry it, a re-created name gets a new one", "")
    box = SecretBox(KEY)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    now = time.time()
    columns = "name, max_limits, rate_per_second, rate_burst, concurrency, created_at" + (", uid" if with_uid else "")
    values = ["acme", orjson.dumps(Limits().to_dict()).decode(), 5.0, 7, 2, now] + (["0123abcd"] if with_uid else [])
    db.execute(f"INSERT INTO tenants ({columns}) VALUES ({', '.join('?' * len(values))})", values)
    for function, code, secrets in (("f", b"f one", {"A": "1"}), ("g", b"g one", {}), ("f", b"f two", {"A": "2"})):
        db.execute(
            "INSERT INTO versions (tenant, function, language, code, limits, allowed_hosts, auth, env,"
            " secret_names, secrets, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("acme", function, "javascript", code, orjson.dumps(Limits().to_dict()).decode(), "[]", "public", "{}",
             orjson.dumps(sorted(secrets)).decode(), box.seal(secrets), now),
        )
    db.execute("INSERT INTO functions VALUES ('acme', 'f', 3, ?, ?), ('acme', 'g', 2, ?, ?)", (now, now, now, now))
    db.close()


@pytest.mark.parametrize("with_uid", [True, False], ids=["current", "before-uid"])
def test_a_sqlite_registry_from_before_migrations_is_migrated_in_place(tmp_path: Path, with_uid: bool) -> None:
    legacy_registry(tmp_path / "registry.sqlite3", with_uid=with_uid)

    registry = Backend("sqlite", path=tmp_path).open()

    assert schema_version(registry.database) == SCHEMA_VERSION
    f, g = registry.current("acme", "f"), registry.current("acme", "g")
    assert (f.version, f.code, f.secrets, f.serial) == (2, b"f two", {"A": "2"}, 3)
    assert (g.version, g.code, g.serial) == (1, b"g one", 2)
    assert [v["version"] for v in registry.list_versions("acme", "f")] == ["v1", "v2"]
    tenant = registry.get_tenant("acme")
    assert (tenant.rate_burst, tenant.concurrency) == (7, 2)
    assert tenant.uid == "0123abcd" if with_uid else len(tenant.uid) == 24
    assert registry.latest_change_id() == 0
    assert registry.deploy("acme", "f", spec("f three")).version == 3
    assert registry.deploy("acme", "g", spec("g two")).secrets == {}
    assert registry.current("acme", "g").version == 2


def test_a_new_registry_gets_every_migration_once(backend: Backend) -> None:
    database = backend.database()

    assert migrate(database) == [m.version for m in MIGRATIONS]
    assert migrate(database) == []
    rows = database.read(lambda session: session.all("SELECT version, name FROM schema_migrations ORDER BY version"))
    assert [(row["version"], row["name"]) for row in rows] == [(m.version, m.name) for m in MIGRATIONS]


def test_processes_starting_together_migrate_once(backend: Backend) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Registry(backend.database(), SecretBox(KEY))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert schema_version(backend.database()) == SCHEMA_VERSION


def test_a_registry_migrated_by_a_newer_wasmtask_is_refused(backend: Backend) -> None:
    database = backend.database()
    migrate(database)
    database.write(lambda session: session.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)",
        (SCHEMA_VERSION + 1,)))

    with pytest.raises(SchemaTooNew, match="upgrade wasmtask"):
        backend.open()

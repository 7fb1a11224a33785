"""Function storage on the registry's database (SQLite embedded, PostgreSQL across hosts).

``RegistryStorage`` implements ``host_api.storage.StorageBackend`` over the registry's
``Database`` (tables of migration 5, gateway/registry/schema.py), for guests and for the
owner's HTTP API alike.

- A document write is one statement (an upsert, or an ``UPDATE ... WHERE version = ?``), so
  optimistic concurrency holds across processes and hosts without a lock: of two writers
  based on the same version, one updates the row and the other matches nothing
  (``storage_conflict``).
- KV keys are stored as UTF-8 bytes: both engines compare bytes alike (PostgreSQL's text
  order depends on the database's collation), so listings and cursors agree. A prefix's
  keys are the range ``[prefix, prefix + 0xFF)``: UTF-8 never has a 0xFF byte.
- A KV write checks the tenant's quota (``KVQuotas``) in its transaction, serialized per
  tenant (SQLite's one write lock; a PostgreSQL advisory lock on the tenant's hash), and
  drops the tenant's expired entries as it goes. An expired entry is never read or listed.
- Rows reference their function: deleting a function (or its tenant) deletes its storage.
"""

from __future__ import annotations

import base64
import binascii
import functools
import time
import zlib
from collections.abc import Callable

from gateway.registry.database import Database, Duplicate, Row, Session
from gateway.storage.quotas import KVQuotas
from host_api.errors import StorageConflict, StorageInvalid, StorageQuotaExceeded, StorageUnavailable
from host_api.storage import Document, FunctionStorage, KVEntry, KVKey, KVPage, StorageScope

BINDINGS_KEPT = 4096  # functions whose FunctionStorage is kept (making one costs a call ~2-4 us)
KV_LOCK_PREFIX = 0x6B76 << 48  # advisory lock numbers ("kv", crc32 of the tenant): one KV writer per tenant
ALIVE = "(expires_at IS NULL OR expires_at > ?)"
GONE = "the function no longer exists"


def encode_cursor(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_cursor(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise StorageInvalid("list: the cursor is not one a listing returned") from None


class RegistryStorage:
    """Documents and KV entries in ``database`` (the registry's); thread-safe."""

    def __init__(self, database: Database, quotas: KVQuotas | None = None) -> None:
        self.database = database
        self.quotas = quotas or KVQuotas()
        self.binding: Callable[[str, str], FunctionStorage] = functools.lru_cache(maxsize=BINDINGS_KEPT)(
            lambda tenant, function: FunctionStorage(self, StorageScope(tenant, function)))
        """The storage of function ``function`` of ``tenant``, for its calls (the same object each time)."""

    # -- documents --

    def read_document(self, scope: StorageScope) -> Document | None:
        row = self.database.read(lambda session: session.one(
            "SELECT data, version FROM function_documents WHERE tenant = ? AND function = ?",
            (scope.tenant, scope.function)))
        return None if row is None else Document(bytes(row["data"]), int(row["version"]))

    def write_document(self, scope: StorageScope, data: bytes, based_on: int | None) -> Document:
        args = (scope.tenant, scope.function, data, time.time())

        def work(session: Session) -> list[Row]:
            if based_on is None:
                return session.all(
                    "INSERT INTO function_documents (tenant, function, data, version, updated_at)"
                    " VALUES (?, ?, ?, 1, ?) ON CONFLICT (tenant, function) DO UPDATE SET data = excluded.data,"
                    " version = function_documents.version + 1, updated_at = excluded.updated_at RETURNING version",
                    args)
            if based_on == 0:
                return session.all(
                    "INSERT INTO function_documents (tenant, function, data, version, updated_at)"
                    " VALUES (?, ?, ?, 1, ?) ON CONFLICT (tenant, function) DO NOTHING RETURNING version", args)
            return session.all(
                "UPDATE function_documents SET data = ?, version = version + 1, updated_at = ?"
                " WHERE tenant = ? AND function = ? AND version = ? RETURNING version",
                (data, args[3], scope.tenant, scope.function, based_on))

        try:
            rows = self.database.write(work)
        except Duplicate:
            raise StorageUnavailable(GONE) from None
        if not rows:
            raise StorageConflict(f"the document changed since version {based_on} was read: read it again, "
                                  "or write with force")
        return Document(data, int(rows[0]["version"]))

    # -- KV --

    def kv_read(self, scope: StorageScope, key: str, now: float) -> KVEntry | None:
        row = self.database.read(lambda session: session.one(
            "SELECT value, is_text, expires_at FROM kv_entries"
            f" WHERE tenant = ? AND function = ? AND key = ? AND {ALIVE}",
            (scope.tenant, scope.function, key.encode("utf-8", "surrogatepass"), now)))
        if row is None:
            return None
        return KVEntry(bytes(row["value"]), bool(row["is_text"]), row["expires_at"])

    def kv_write(self, scope: StorageScope, key: str, entry: KVEntry, now: float) -> None:
        name = key.encode("utf-8", "surrogatepass")
        size = len(name) + len(entry.value)
        quotas = self.quotas

        def work(session: Session) -> None:
            self.database.serialize(session, KV_LOCK_PREFIX | zlib.crc32(scope.tenant.encode()))
            usage = session.one(
                f"SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN {ALIVE} THEN 1 ELSE 0 END), 0) AS keys,"
                f" COALESCE(SUM(CASE WHEN {ALIVE} THEN size ELSE 0 END), 0) AS bytes"
                " FROM kv_entries WHERE tenant = ?", (now, now, scope.tenant))
            assert usage is not None
            if int(usage["total"]) > int(usage["keys"]):
                session.execute("DELETE FROM kv_entries WHERE tenant = ? AND expires_at <= ?", (scope.tenant, now))
            old = session.one("SELECT size FROM kv_entries WHERE tenant = ? AND function = ? AND key = ?",
                              (scope.tenant, scope.function, name))
            keys = int(usage["keys"]) + (0 if old else 1)
            total = int(usage["bytes"]) - (int(old["size"]) if old else 0) + size
            if keys > quotas.max_keys:
                raise StorageQuotaExceeded(f"tenant {scope.tenant!r} may keep at most {quotas.max_keys} KV keys")
            if total > quotas.max_bytes:
                raise StorageQuotaExceeded(f"tenant {scope.tenant!r} may keep at most {quotas.max_bytes} bytes in KV"
                                           f" (this write would make {total})")
            session.execute(
                "INSERT INTO kv_entries (tenant, function, key, value, is_text, size, expires_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, function, key) DO UPDATE SET"
                " value = excluded.value, is_text = excluded.is_text, size = excluded.size,"
                " expires_at = excluded.expires_at, updated_at = excluded.updated_at",
                (scope.tenant, scope.function, name, entry.value, int(entry.is_text), size, entry.expires_at, now))

        try:
            self.database.write(work)
        except Duplicate:
            raise StorageUnavailable(GONE) from None

    def kv_delete(self, scope: StorageScope, key: str) -> None:
        self.database.write(lambda session: session.execute(
            "DELETE FROM kv_entries WHERE tenant = ? AND function = ? AND key = ?",
            (scope.tenant, scope.function, key.encode("utf-8", "surrogatepass"))))

    def kv_list(self, scope: StorageScope, prefix: str, limit: int, cursor: str | None, now: float) -> KVPage:
        start = prefix.encode("utf-8", "surrogatepass")
        sql = f"SELECT key, expires_at FROM kv_entries WHERE tenant = ? AND function = ? AND {ALIVE} AND key >= ?"
        args: list[object] = [scope.tenant, scope.function, now, start]
        if start:
            sql += " AND key < ?"
            args.append(start + b"\xff")
        if cursor:
            sql += " AND key > ?"
            args.append(decode_cursor(cursor))
        sql += " ORDER BY key LIMIT ?"
        args.append(limit + 1)
        rows = self.database.read(lambda session: session.all(sql, args))
        keys = [KVKey(bytes(row["key"]).decode("utf-8", "surrogatepass"), row["expires_at"]) for row in rows[:limit]]
        more = len(rows) > limit
        return KVPage(keys, encode_cursor(bytes(rows[limit - 1]["key"])) if more else None)

    # -- the owner's view (gateway/routes/storage.py) --

    def function_exists(self, tenant: str, function: str) -> bool:
        return self.database.read(lambda session: session.one(
            "SELECT 1 AS found FROM functions WHERE tenant = ? AND name = ?", (tenant, function))) is not None

"""The registry on SQLite: one file in the data dir, WAL, shared by the worker processes of one host.

Each process has two connections, one for reads and one for writes, each behind a
lock (registry calls are short; WAL lets readers go on while one writes). Every
write transaction starts with ``BEGIN IMMEDIATE``: it takes the file's one write
lock first, so two processes never both read and then both write (what makes a
per-function version number safe), and it waits up to ``BUSY_TIMEOUT_MS`` for a
writer in another process before the call fails with ``registry_unavailable``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from gateway.errors import RegistryUnavailable
from gateway.registry.database import Database, Duplicate, Row, Session, T

BUSY_TIMEOUT_MS = 5_000

# Primary result codes that mean "the file cannot be used now", not "this query is wrong".
UNAVAILABLE_CODES = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_READONLY,
})


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class SQLiteSession(Session):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        try:
            return self.connection.execute(sql, args).rowcount
        except sqlite3.IntegrityError as exc:
            raise Duplicate(str(exc)) from exc

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        try:
            return self.connection.execute(sql, args).fetchall()
        except sqlite3.IntegrityError as exc:
            raise Duplicate(str(exc)) from exc


class SQLiteDatabase(Database):
    engine = "sqlite"
    types: ClassVar[Mapping[str, str]] = {"blob": "BLOB", "double": "REAL", "int64": "INTEGER",
                                          "id": "INTEGER PRIMARY KEY AUTOINCREMENT"}
    for_update = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Two connections, each behind its own lock: reads never queue behind a write of this
        # process that waits for another process's (WAL readers see the last commit meanwhile).
        self._reader, self._writer = self._connect(), self._connect()
        self._read_lock, self._write_lock = threading.Lock(), threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                         timeout=BUSY_TIMEOUT_MS / 1000)
            connection.row_factory = _dict_row
            for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "journal_mode=WAL", "synchronous=NORMAL",
                           "foreign_keys=ON"):
                connection.execute(f"PRAGMA {pragma}")
        except sqlite3.OperationalError as exc:
            self._raise_unavailable(exc)
            raise
        return connection

    def read(self, work: Callable[[Session], T]) -> T:
        with self._read_lock:
            try:
                return work(SQLiteSession(self._reader))
            except sqlite3.OperationalError as exc:
                self._raise_unavailable(exc)
                raise

    def write(self, work: Callable[[Session], T]) -> T:
        connection = self._writer
        with self._write_lock:
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    result = work(SQLiteSession(connection))
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                self._raise_unavailable(exc)
                raise
            return result

    def serialize(self, session: Session, lock: int) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` holds the file's only write lock already."""

    def columns(self, session: Session, table: str) -> set[str]:
        return {row["name"] for row in session.all(f"PRAGMA table_info({table})")}

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def close(self) -> None:
        with self._read_lock, self._write_lock:
            self._reader.close()
            self._writer.close()

    def _raise_unavailable(self, exc: sqlite3.OperationalError) -> None:
        """``RegistryUnavailable`` for a busy, locked or unreadable file (anything else is a bug: the caller
        re-raises it as it is)."""
        if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in UNAVAILABLE_CODES:
            raise RegistryUnavailable(f"the registry ({self.describe()}) is unavailable: {exc}") from exc

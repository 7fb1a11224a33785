"""The registry's view of a database: one small adapter, so every query is written once.

Queries are written for both engines in the SQL they share (SQLite 3.35+ and
PostgreSQL 15 agree on ``INSERT ... RETURNING``, ``ON CONFLICT ... DO UPDATE``
with ``excluded``, deferred foreign keys and correlated subqueries), with ``?``
placeholders. What differs sits here, one attribute or method each:

    placeholders        ``?`` (sqlite3) / ``%s`` (psycopg): ``Session`` translates
    column types        ``{blob}``, ``{double}``, ``{int64}``, ``{id}`` in DDL: ``Database.types``
    row locks           ``Database.for_update``: "" (BEGIN IMMEDIATE already holds the
                        only write lock) / " FOR UPDATE"
    serializing writers ``Database.serialize(session, lock)``: nothing / an advisory lock
    introspection       ``Database.columns(session, table)``
    integrity errors    raised as ``Duplicate`` by ``Session.execute``
    unavailability      raised as ``gateway.errors.RegistryUnavailable`` by ``read``/``write``

Work runs as a callable over a ``Session`` (``database.write(lambda session: ...)``),
so that an engine may run it again on a fresh connection when an idle one turned out
to be dead before anything was committed (gateway/registry/postgres.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")
Row = dict[str, Any]


class Duplicate(Exception):
    """A unique or foreign-key constraint refused a write (sqlite3/psycopg ``IntegrityError``)."""


class Session(ABC):
    """Statements on one connection, inside ``Database.write``'s transaction or ``read``'s autocommit."""

    @abstractmethod
    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    def all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; every row it returned, as dicts by column name."""

    def one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        rows = self.all(sql, args)
        return rows[0] if rows else None


class Database(ABC):
    """One engine: connections, transactions, and the dialect's few differences."""

    engine: str  # "sqlite" | "postgresql"
    types: ClassVar[Mapping[str, str]]  # DDL type tokens: blob, double, int64, id
    for_update: str  # appended to a SELECT that locks the rows it reads until the commit

    @abstractmethod
    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` outside a transaction (each statement commits on its own)."""

    @abstractmethod
    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction that already holds the right to write: it commits
        when ``work`` returns and rolls back when it raises."""

    @abstractmethod
    def serialize(self, session: Session, lock: int) -> None:
        """Hold ``lock`` (a number naming what is serialized) until this transaction ends."""

    @abstractmethod
    def columns(self, session: Session, table: str) -> set[str]:
        """The column names of ``table`` (empty when there is no such table)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages (never a password)."""

    @abstractmethod
    def close(self) -> None: ...

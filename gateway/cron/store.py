"""Schedules at rest (``schedules``, schema migration 6), and the claim of a due tick.

A tick is claimed by one write transaction that moves the schedule's ``next_run`` on
and queues the tick's job (gateway/jobs/queue.py) together: on PostgreSQL the due
rows are read ``FOR UPDATE SKIP LOCKED``, so schedulers on every host claim
different schedules and never the same tick twice; on SQLite ``BEGIN IMMEDIATE``
serializes the claims of the processes sharing the file. The job's idempotency key
names the tick, so even a claim replayed by hand cannot queue a tick twice.

Missed ticks are not replayed: the next tick is computed from the time of the
claim, not from the tick claimed, so a scheduler waking after hours of downtime runs
the function once and then keeps to the schedule from now.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gateway.cron.expression import next_tick
from gateway.jobs.queue import insert_job
from gateway.jobs.records import JobRequest
from gateway.registry.database import Database, Session

CLAIM_BATCH = 16  # due schedules claimed per transaction
CRON_ATTEMPTS = 3  # a tick's job is retried like any job (only for failures outside the function)


@dataclass(frozen=True)
class Schedule:
    tenant: str
    function: str
    expression: str
    next_run: float
    last_run: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"schedule": self.expression, "next_run": self.next_run, "last_run": self.last_run}


@dataclass(frozen=True)
class Tick:
    """One claimed tick: the schedule's function, when it was due, and the job that runs it."""

    tenant: str
    function: str
    due: float
    job: str


class Schedules:
    def __init__(self, database: Database) -> None:
        self.database = database
        # PostgreSQL: lock the schedule rows only (not the joined function's), skipping those another claims
        self._claim_lock = " FOR UPDATE OF s SKIP LOCKED" if database.engine == "postgresql" else ""

    def set(self, tenant: str, function: str, expression: str | None, *, now: float | None = None) -> Schedule | None:
        """Give the function ``expression`` (its first tick the next one after now), or no schedule (None)."""
        at = time.time() if now is None else now

        def work(session: Session) -> None:
            if expression is None:
                session.execute("DELETE FROM schedules WHERE tenant = ? AND function = ?", (tenant, function))
                return
            session.execute(
                "INSERT INTO schedules (tenant, function, expression, next_run, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (tenant, function) DO UPDATE SET expression = excluded.expression,"
                " next_run = CASE WHEN schedules.expression = excluded.expression THEN schedules.next_run"
                " ELSE excluded.next_run END",
                (tenant, function, expression, next_tick(expression, at), at))

        self.database.write(work)
        return None if expression is None else self.get(tenant, function)

    def get(self, tenant: str, function: str) -> Schedule | None:
        row = self.database.read(lambda session: session.one(
            "SELECT * FROM schedules WHERE tenant = ? AND function = ?", (tenant, function)))
        if row is None:
            return None
        return Schedule(row["tenant"], row["function"], row["expression"], float(row["next_run"]),
                        None if row["last_run"] is None else float(row["last_run"]))

    def next_due(self) -> float | None:
        """The earliest ``next_run`` of any schedule (None when there is none)."""
        row = self.database.read(lambda session: session.one("SELECT MIN(next_run) AS at FROM schedules"))
        return None if row is None or row["at"] is None else float(row["at"])

    def claim_due(self, *, now: float | None = None) -> list[Tick]:
        """Claim every tick due at ``now`` (at most ``CLAIM_BATCH``): each schedule moves on to its
        first tick after ``now`` and its function's job is queued, in one transaction. A schedule
        whose function is gone is dropped."""
        at = time.time() if now is None else now

        def work(session: Session) -> list[Tick]:
            due = session.all(
                "SELECT s.tenant, s.function, s.expression, s.next_run, f.name AS deployed FROM schedules s"
                " LEFT JOIN functions f ON f.tenant = s.tenant AND f.name = s.function"
                " WHERE s.next_run <= ? ORDER BY s.next_run LIMIT ?" + self._claim_lock,
                (at, CLAIM_BATCH))
            ticks = []
            for row in due:
                if row["deployed"] is None:
                    session.execute("DELETE FROM schedules WHERE tenant = ? AND function = ?",
                                    (row["tenant"], row["function"]))
                    continue
                tick = float(row["next_run"])
                session.execute("UPDATE schedules SET next_run = ?, last_run = ? WHERE tenant = ? AND function = ?",
                                (next_tick(row["expression"], at), tick, row["tenant"], row["function"]))
                key = f"cron:{row['function']}:{int(tick)}"
                if session.one("SELECT id FROM jobs WHERE tenant = ? AND idempotency_key = ?",
                               (row["tenant"], key)) is not None:
                    continue  # this tick was queued already
                # the job is due at once, by the workers' clock (``now`` is the scheduler's, injectable)
                job = insert_job(session, row["tenant"], row["function"], "cron", JobRequest(),
                                 max_attempts=CRON_ATTEMPTS, now=time.time(), idempotency_key=key)
                ticks.append(Tick(row["tenant"], row["function"], tick, job["id"]))
            return ticks

        return self.database.write(work)

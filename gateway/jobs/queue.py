"""The durable job queue, in the registry's database (SQLite embedded, PostgreSQL across hosts).

A job is one row of ``jobs`` (schema migration 6). Workers claim jobs with one write
transaction each: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` (workers on
every host claim different jobs without waiting for each other); on SQLite the
transaction's ``BEGIN IMMEDIATE`` holds the file's one write lock, so claims of the
worker processes of a host are serialized. A claim sets a lease (``lease_until``)
that the running worker renews; a job whose lease lapsed (its worker died) is
claimed again by any worker: at least once. Every update of a claimed job names the
attempt it belongs to, so a worker that lost its lease cannot overwrite the outcome
of the attempt that replaced it: the caller sees one outcome.

Runs (of jobs and cron ticks) are kept in ``runs``: the newest ``RUNS_KEPT`` per function.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from gateway.errors import Conflict, NotFound, QueueFull
from gateway.jobs.records import ACTIVE, FINISHED, Job, JobRequest, JobStatus, Run, Source
from gateway.registry.database import Database, Duplicate, Row, Session

RUNS_KEPT = 100  # per function
CLAIM_BATCH = 8  # rows looked at beyond those claimed (lapsed jobs out of attempts are dead-lettered on the way)


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex


class JobQueue:
    """Jobs and runs over one ``Database``. Synchronous and short: call on a worker thread."""

    def __init__(self, database: Database) -> None:
        self.database = database
        skip = " SKIP LOCKED" if database.engine == "postgresql" else ""
        self._claim_lock = database.for_update + skip

    # submitting

    def submit(self, tenant: str, function: str, request: JobRequest, *, max_attempts: int, max_depth: int,
               idempotency_key: str | None = None, now: float | None = None) -> tuple[Job, bool]:
        """Queue a job; ``(job, created)``. With an ``idempotency_key`` the tenant used before (and whose
        job is still kept), that job instead, ``created`` False (``Conflict`` if it was for another
        function). ``QueueFull`` when the tenant has ``max_depth`` jobs queued or running."""
        at = time.time() if now is None else now

        def work(session: Session) -> tuple[Row, bool]:
            # the tenant's row: submits of one tenant are serialized (an exact depth), and it must exist
            if session.one("SELECT name FROM tenants WHERE name = ?" + self.database.for_update, (tenant,)) is None:
                raise NotFound(f"no tenant {tenant!r}")
            if idempotency_key is not None:
                existing = session.one("SELECT * FROM jobs WHERE tenant = ? AND idempotency_key = ?",
                                       (tenant, idempotency_key))
                if existing is not None:
                    return existing, False
            depth = session.one("SELECT COUNT(*) AS n FROM jobs WHERE tenant = ? AND status IN (?, ?)",
                                (tenant, *ACTIVE))
            if depth is not None and int(depth["n"]) >= max_depth:
                raise QueueFull(f"tenant {tenant!r} has {max_depth} jobs queued or running, its most;"
                                " try again once some have finished", headers={"retry-after": "1"})
            return insert_job(session, tenant, function, "job", request, max_attempts=max_attempts,
                              idempotency_key=idempotency_key, now=at), True

        try:
            row, created = self.database.write(work)
        except Duplicate:  # the same key submitted at the same moment by another host: it won
            row, created = self._by_key(tenant, idempotency_key), False
        job = _job(row)
        if not created and job.function != function:
            raise Conflict(f"Idempotency-Key {idempotency_key!r} was used for a job of function {job.function!r}")
        return job, created

    def _by_key(self, tenant: str, key: str | None) -> Row:
        row = self.database.read(lambda session: session.one(
            "SELECT * FROM jobs WHERE tenant = ? AND idempotency_key = ?", (tenant, key)))
        if row is None:
            raise Conflict(f"Idempotency-Key {key!r} is in use; try again")
        return row

    # reading

    def get(self, tenant: str, job_id: str) -> Job:
        row = self.database.read(lambda session: session.one(
            "SELECT * FROM jobs WHERE tenant = ? AND id = ?", (tenant, job_id)))
        if row is None:
            raise NotFound(f"no job {job_id!r} in tenant {tenant!r} (finished jobs are kept for a limited time)")
        return _job(row)

    def list_jobs(self, tenant: str, *, function: str | None = None, status: JobStatus | None = None,
             limit: int = 50) -> list[Job]:
        """The tenant's jobs, newest first."""
        sql = "SELECT * FROM jobs WHERE tenant = ?"
        args: list[Any] = [tenant]
        if function is not None:
            sql += " AND function = ?"
            args.append(function)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY created_at DESC, id LIMIT ?"
        args.append(limit)
        return [_job(row) for row in self.database.read(lambda session: session.all(sql, args))]

    def depth(self, tenant: str) -> int:
        row = self.database.read(lambda session: session.one(
            "SELECT COUNT(*) AS n FROM jobs WHERE tenant = ? AND status IN (?, ?)", (tenant, *ACTIVE)))
        return int(row["n"]) if row else 0

    # working

    def claim(self, worker: str, *, lease_seconds: float, now: float | None = None,
              skip_tenants: Sequence[str] = ()) -> Job | None:
        """The next job that is due (queued and past its ``run_after``, or running with a lapsed
        lease), now running on ``worker`` under a lease; None when there is none. A lapsed job
        that had its last attempt is dead-lettered (``worker_lost``) instead."""
        claimed = self.claim_many(worker, 1, lease_seconds=lease_seconds, now=now, skip_tenants=skip_tenants)
        return claimed[0] if claimed else None

    def claim_many(self, worker: str, most: int, *, lease_seconds: float, now: float | None = None,
                   skip_tenants: Sequence[str] = (), room: Callable[[str], int] = lambda tenant: 1_000_000,
                   ) -> list[Job]:
        """Up to ``most`` due jobs, oldest first, claimed in one transaction (as ``claim``), and at most
        ``room(tenant)`` of each tenant's."""
        at = time.time() if now is None else now
        sql = ("SELECT id, tenant, status, attempts, max_attempts FROM jobs"
               " WHERE ((status = 'queued' AND run_after <= ?) OR (status = 'running' AND lease_until < ?))")
        args: list[Any] = [at, at]
        if skip_tenants:
            sql += f" AND tenant NOT IN ({', '.join('?' for _ in skip_tenants)})"
            args.extend(skip_tenants)
        sql += " ORDER BY run_after, created_at LIMIT ?" + self._claim_lock
        args.append(most + CLAIM_BATCH)

        def work(session: Session) -> list[Row]:
            claimed: list[Row] = []
            taken: Counter[str] = Counter()
            for row in session.all(sql, args):
                if len(claimed) == most:
                    break
                if taken[row["tenant"]] >= room(row["tenant"]):
                    continue
                lapsed = row["status"] == "running"
                if lapsed and int(row["attempts"]) >= int(row["max_attempts"]):
                    session.execute(
                        "UPDATE jobs SET status = 'dead', error = ?, finished_at = ?, lease_until = NULL"
                        " WHERE id = ?", (_error("worker_lost", "the worker running its last attempt stopped"),
                                          at, row["id"]))
                    continue
                session.execute(
                    "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = ?, lease_until = ?,"
                    " started_at = ?, error = CASE WHEN ? THEN ? ELSE error END WHERE id = ?",
                    (worker, at + lease_seconds, at, lapsed,
                     _error("worker_lost", "the worker running the previous attempt stopped"), row["id"]))
                updated = session.one("SELECT * FROM jobs WHERE id = ?", (row["id"],))
                assert updated is not None
                claimed.append(updated)
                taken[row["tenant"]] += 1
            return claimed

        return [_job(row) for row in self.database.write(work)]

    def renew(self, job: Job, *, lease_seconds: float, now: float | None = None) -> bool:
        """Extend the lease of ``job`` (as claimed); False when this attempt lost it."""
        at = time.time() if now is None else now
        changed = self.database.write(lambda session: session.execute(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running' AND attempts = ?",
            (at + lease_seconds, job.id, job.attempts)))
        return changed == 1

    def release(self, job: Job) -> bool:
        """Give ``job`` (as claimed, not run to its end: its worker is stopping) back to the queue at once,
        with one more attempt allowed (``attempts`` only grows: it is what fences a late writer); False
        when this attempt no longer held it."""
        changed = self.database.write(lambda session: session.execute(
            "UPDATE jobs SET status = 'queued', max_attempts = max_attempts + 1, worker = NULL, lease_until = NULL"
            " WHERE id = ? AND status = 'running' AND attempts = ?", (job.id, job.attempts)))
        return changed == 1

    def finish(self, job: Job, run: Run, *, status: JobStatus, result: dict[str, Any] | None = None,
               error: tuple[str, str] | None = None, retry_at: float | None = None) -> bool:
        """Record ``run`` of ``job`` (as claimed) and its outcome: ``status`` (a finished one), or
        ``queued`` again from ``retry_at``. False when this attempt had lost its lease (the run is
        recorded all the same; the job keeps the outcome of the attempt that holds it)."""
        error_text = None if error is None else _error(*error)

        def work(session: Session) -> bool:
            if status == "queued":
                changed = session.execute(
                    "UPDATE jobs SET status = 'queued', run_after = ?, error = ?, worker = NULL, lease_until = NULL,"
                    " fuel_used = ?, duration_ms = ? WHERE id = ? AND status = 'running' AND attempts = ?",
                    (retry_at, error_text, run.fuel_used, run.duration_ms, job.id, job.attempts))
            else:
                changed = session.execute(
                    "UPDATE jobs SET status = ?, result = ?, error = ?, fuel_used = ?, duration_ms = ?,"
                    " finished_at = ?, lease_until = NULL WHERE id = ? AND status = 'running' AND attempts = ?",
                    (status, None if result is None else orjson.dumps(result), error_text, run.fuel_used,
                     run.duration_ms, time.time(), job.id, job.attempts))
            record_run(session, run)
            return changed == 1

        return self.database.write(work)

    def purge(self, *, older_than: float) -> int:
        """Delete finished jobs finished before ``older_than`` (Unix seconds); how many."""
        return self.database.write(lambda session: session.execute(
            f"DELETE FROM jobs WHERE status IN ({', '.join('?' for _ in FINISHED)}) AND finished_at < ?",
            (*FINISHED, older_than)))

    # the run history

    def runs(self, tenant: str, function: str, *, limit: int = RUNS_KEPT) -> list[Run]:
        """The function's newest runs, newest first."""
        rows = self.database.read(lambda session: session.all(
            "SELECT * FROM runs WHERE tenant = ? AND function = ? ORDER BY id DESC LIMIT ?",
            (tenant, function, limit)))
        return [Run(tenant=row["tenant"], function=row["function"], source=row["source"], job=row["job"] or "",
                    attempt=int(row["attempt"]), version=row["version"], started_at=float(row["started_at"]),
                    duration_ms=float(row["duration_ms"]), code=row["code"],
                    status=None if row["status"] is None else int(row["status"]), fuel_used=int(row["fuel_used"]))
                for row in rows]


def insert_job(session: Session, tenant: str, function: str, source: Source, request: JobRequest, *,
               max_attempts: int, now: float, idempotency_key: str | None = None) -> Row:
    """Insert a queued job (in the caller's transaction); its row. ``Duplicate`` for a key in use."""
    job_id = new_job_id()
    session.execute(
        "INSERT INTO jobs (id, tenant, function, source, idempotency_key, status, request, attempts, max_attempts,"
        " run_after, created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)",
        (job_id, tenant, function, source, idempotency_key, request.dump(), max_attempts, now, now))
    row = session.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    assert row is not None
    return row


def record_run(session: Session, run: Run) -> None:
    """Append ``run`` to its function's history, dropping what is past the newest ``RUNS_KEPT``."""
    session.execute(
        "INSERT INTO runs (tenant, function, source, job, attempt, version, started_at, duration_ms, code, status,"
        " fuel_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run.tenant, run.function, run.source, run.job, run.attempt, run.version, run.started_at, run.duration_ms,
         run.code, run.status, run.fuel_used))
    oldest_kept = session.one(
        "SELECT id FROM runs WHERE tenant = ? AND function = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
        (run.tenant, run.function, RUNS_KEPT - 1))
    if oldest_kept is not None:
        session.execute("DELETE FROM runs WHERE tenant = ? AND function = ? AND id < ?",
                        (run.tenant, run.function, oldest_kept["id"]))


def _error(code: str, message: str) -> str:
    return orjson.dumps({"code": code, "message": message}).decode()


def _job(row: Row) -> Job:
    return Job(
        id=row["id"],
        tenant=row["tenant"],
        function=row["function"],
        source=row["source"],
        status=row["status"],
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        created_at=float(row["created_at"]),
        run_after=float(row["run_after"]),
        request=JobRequest.load(bytes(row["request"])),
        idempotency_key=row["idempotency_key"],
        started_at=_float(row["started_at"]),
        finished_at=_float(row["finished_at"]),
        lease_until=_float(row["lease_until"]),
        result=None if row["result"] is None else orjson.loads(bytes(row["result"])),
        error=None if row["error"] is None else orjson.loads(row["error"]),
        fuel_used=None if row["fuel_used"] is None else int(row["fuel_used"]),
        duration_ms=_float(row["duration_ms"]),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)

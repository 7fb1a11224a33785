"""The job queue on a real registry (SQLite and PostgreSQL): submit, claim, leases, retries, idempotency, depth."""

from __future__ import annotations

import threading

import pytest

from gateway.errors import Conflict, QueueFull
from gateway.jobs.queue import RUNS_KEPT, JobQueue, record_run
from gateway.jobs.records import Job, JobRequest, Run
from gateway.registry import Registry
from isolates import Limits
from tests.gateway.registry.support import Backend, spec

T0 = 1_800_000_000.0


def queue_of(backend: Backend) -> tuple[Registry, JobQueue]:
    registry = backend.with_tenant("acme")
    registry.deploy("acme", "f", spec("module.exports = () => 1"))
    return registry, JobQueue(registry.database)


def submit(queue: JobQueue, *, key: str | None = None, function: str = "f", depth: int = 100,
           now: float = T0) -> tuple[Job, bool]:
    return queue.submit("acme", function, JobRequest(b'{"n": 1}', "application/json", (("a", "1"),)),
                        max_attempts=3, max_depth=depth, idempotency_key=key, now=now)


def run_of(job: Job, code: str = "ok") -> Run:
    return Run("acme", job.function, job.source, job.id, job.attempts, "v1", T0, 1.5, code,
               200 if code == "ok" else None, 1234)


def test_a_job_is_queued_claimed_run_and_its_result_kept(backend: Backend) -> None:
    _, queue = queue_of(backend)
    job, created = submit(queue)
    assert created and job.status == "queued" and job.attempts == 0
    assert job.request == JobRequest(b'{"n": 1}', "application/json", (("a", "1"),))

    claimed = queue.claim("w1", lease_seconds=30, now=T0 + 1)
    assert claimed is not None and claimed.id == job.id
    assert claimed.status == "running" and claimed.attempts == 1 and claimed.lease_until == T0 + 31
    assert queue.claim("w2", lease_seconds=30, now=T0 + 2) is None  # nothing else is due

    assert queue.finish(claimed, run_of(claimed), status="succeeded", result={"kind": "json", "value": 7})
    done = queue.get("acme", job.id)
    assert done.status == "succeeded" and done.result == {"kind": "json", "value": 7}
    assert done.fuel_used == 1234 and done.finished
    [run] = queue.runs("acme", "f")
    assert (run.job, run.attempt, run.code, run.status, run.fuel_used) == (job.id, 1, "ok", 200, 1234)


def test_the_same_idempotency_key_answers_the_same_job(backend: Backend) -> None:
    registry, queue = queue_of(backend)
    first, created = submit(queue, key="order-42")
    again, created_again = submit(queue, key="order-42")
    other, _ = submit(queue, key="order-43")

    assert created and not created_again
    assert again.id == first.id and other.id != first.id
    assert len(queue.list_jobs("acme")) == 2
    registry.deploy("acme", "g", spec("module.exports = () => 2"))
    with pytest.raises(Conflict):
        submit(queue, key="order-42", function="g")


def test_a_full_queue_refuses_and_finished_jobs_do_not_count(backend: Backend) -> None:
    _, queue = queue_of(backend)
    submit(queue, depth=2)
    submit(queue, depth=2)
    with pytest.raises(QueueFull) as refused:
        submit(queue, depth=2)
    assert refused.value.code == "queue_full"

    claimed = queue.claim("w", lease_seconds=30, now=T0)
    assert claimed is not None
    queue.finish(claimed, run_of(claimed), status="succeeded", result={"kind": "json", "value": 1})
    assert submit(queue, depth=2)[1]
    assert queue.depth("acme") == 2


def test_a_lapsed_lease_gives_the_job_to_another_worker_and_the_first_cannot_overwrite_it(backend: Backend) -> None:
    _, queue = queue_of(backend)
    job, _ = submit(queue)
    first = queue.claim("dead-worker", lease_seconds=10, now=T0)
    assert first is not None

    assert queue.claim("w2", lease_seconds=10, now=T0 + 9) is None  # the lease holds
    second = queue.claim("w2", lease_seconds=10, now=T0 + 11)
    assert second is not None and second.id == job.id and second.attempts == 2
    assert second.error == {"code": "worker_lost", "message": "the worker running the previous attempt stopped"}

    assert not queue.renew(first, lease_seconds=10)
    assert not queue.finish(first, run_of(first), status="succeeded", result={"kind": "json", "value": "late"})
    assert queue.finish(second, run_of(second), status="succeeded", result={"kind": "json", "value": "mine"})
    done = queue.get("acme", job.id)
    assert done.result == {"kind": "json", "value": "mine"} and done.attempts == 2
    assert [run.attempt for run in queue.runs("acme", "f")] == [2, 1]  # both runs happened, one outcome counts


def test_a_job_whose_last_attempt_lost_its_worker_is_dead(backend: Backend) -> None:
    _, queue = queue_of(backend)
    job, _ = submit(queue)
    for attempt in range(3):
        assert queue.claim(f"w{attempt}", lease_seconds=10, now=T0 + 20 * attempt) is not None
    assert queue.claim("w3", lease_seconds=10, now=T0 + 100) is None
    dead = queue.get("acme", job.id)
    assert dead.status == "dead" and dead.error is not None and dead.error["code"] == "worker_lost"
    assert [j.id for j in queue.list_jobs("acme", status="dead")] == [job.id]


def test_a_retry_waits_for_its_time(backend: Backend) -> None:
    _, queue = queue_of(backend)
    submit(queue)
    claimed = queue.claim("w", lease_seconds=30, now=T0)
    assert claimed is not None
    queue.finish(claimed, run_of(claimed, "overloaded"), status="queued", error=("overloaded", "busy"),
                 retry_at=T0 + 5)
    assert queue.claim("w", lease_seconds=30, now=T0 + 4) is None
    again = queue.claim("w", lease_seconds=30, now=T0 + 5)
    assert again is not None and again.attempts == 2 and again.error == {"code": "overloaded", "message": "busy"}


def test_workers_of_two_processes_claim_each_job_exactly_once(backend: Backend) -> None:
    _, queue = queue_of(backend)
    jobs = {submit(queue)[0].id for _ in range(40)}
    queues = [queue, JobQueue(backend.database())]  # a second connection pool: another process
    claimed: list[str] = []
    lock = threading.Lock()

    def work(q: JobQueue, name: str) -> None:
        while (job := q.claim(name, lease_seconds=60, now=T0 + 1)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=work, args=(queues[n % 2], f"w{n}")) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(jobs)


def test_finished_jobs_are_purged_after_their_time_and_runs_are_bounded(backend: Backend) -> None:
    _, queue = queue_of(backend)
    old, _ = submit(queue)
    waiting, _ = submit(queue)
    claimed = queue.claim("w", lease_seconds=30, now=T0)
    assert claimed is not None and claimed.id == old.id
    queue.finish(claimed, run_of(claimed), status="failed", error=("guest_error", "boom"))
    finished_at = queue.get("acme", old.id).finished_at
    assert finished_at is not None
    assert queue.purge(older_than=finished_at) == 0
    assert queue.purge(older_than=finished_at + 1) == 1
    assert [job.id for job in queue.list_jobs("acme")] == [waiting.id]  # queued jobs are never purged

    for _ in range(RUNS_KEPT + 5):
        queue.database.write(lambda session: record_run(session, run_of(claimed)))
    assert len(queue.runs("acme", "f", limit=1000)) == RUNS_KEPT


def test_a_deleted_tenant_takes_its_jobs_and_history_along(backend: Backend) -> None:
    registry, queue = queue_of(backend)
    submit(queue, key="k")
    claimed = queue.claim("w", lease_seconds=30, now=T0)
    assert claimed is not None
    queue.finish(claimed, run_of(claimed), status="succeeded", result={"kind": "json", "value": 1})
    registry.delete_tenant("acme")
    registry.create_tenant("acme", max_limits=Limits(), rate_per_second=1.0, rate_burst=1, concurrency=1)

    assert queue.list_jobs("acme") == [] and queue.runs("acme", "f") == []  # the new "acme" sees nothing
    assert submit(queue, key="k")[1]  # and its keys are its own


def test_a_batch_claim_keeps_to_each_tenants_room(backend: Backend) -> None:
    registry, queue = queue_of(backend)
    registry.create_tenant("other", max_limits=Limits(), rate_per_second=1.0, rate_burst=1, concurrency=1)
    registry.deploy("other", "f", spec("module.exports = () => 1"))
    for _ in range(4):
        submit(queue)
    late = queue.submit("other", "f", JobRequest(), max_attempts=3, max_depth=10, now=T0 + 1)[0]

    claimed = queue.claim_many("w", 10, lease_seconds=30, now=T0 + 2,
                               room=lambda tenant: 2 if tenant == "acme" else 1)

    assert sorted(job.tenant for job in claimed) == ["acme", "acme", "other"]  # acme's backlog does not starve other
    assert late.id in {job.id for job in claimed}


def test_a_job_released_by_a_stopping_worker_is_due_again_at_once_with_an_attempt_more(backend: Backend) -> None:
    _, queue = queue_of(backend)
    job, _ = submit(queue)
    claimed = queue.claim("stopping", lease_seconds=30, now=T0)
    assert claimed is not None and queue.release(claimed)

    again = queue.claim("w", lease_seconds=30, now=T0 + 1)
    assert again is not None and again.id == job.id and (again.attempts, again.max_attempts) == (2, 4)
    assert not queue.release(claimed)  # that attempt is over: it cannot touch the job any more

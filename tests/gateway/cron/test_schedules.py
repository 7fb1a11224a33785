"""Cron schedules on a real registry (SQLite and PostgreSQL), with the clock passed in: no waiting for minutes."""

from __future__ import annotations

import threading

import pytest

from gateway.cron.expression import check_expression, next_tick
from gateway.cron.store import Schedules, Tick
from gateway.errors import InvalidRequest
from gateway.jobs.queue import JobQueue
from gateway.registry import Registry
from tests.gateway.registry.support import Backend, spec

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z: on a five-minute boundary
assert T0 % 300 == 0


def scheduled(backend: Backend, expression: str = "*/5 * * * *") -> tuple[Registry, Schedules]:
    registry = backend.with_tenant("acme")
    registry.deploy("acme", "tick", spec("module.exports = () => 1"))
    schedules = Schedules(registry.database)
    schedules.set("acme", "tick", expression, now=T0 + 1)
    return registry, schedules


def test_a_tick_is_claimed_once_when_due_and_queues_one_job(backend: Backend) -> None:
    registry, schedules = scheduled(backend)
    schedule = schedules.get("acme", "tick")
    assert schedule is not None and schedule.next_run == T0 + 300

    assert schedules.claim_due(now=T0 + 299) == []
    [tick] = schedules.claim_due(now=T0 + 300.2)
    assert (tick.tenant, tick.function, tick.due) == ("acme", "tick", T0 + 300)
    assert schedules.claim_due(now=T0 + 300.2) == []  # claimed: the same tick never again
    assert schedules.claim_due(now=T0 + 599) == []

    [job] = JobQueue(registry.database).list_jobs("acme")
    assert (job.id, job.source, job.function, job.status) == (tick.job, "cron", "tick", "queued")
    assert job.idempotency_key == f"cron:tick:{int(T0 + 300)}"
    after = schedules.get("acme", "tick")
    assert after is not None and (after.last_run, after.next_run) == (T0 + 300, T0 + 600)


def test_missed_ticks_are_not_replayed_after_downtime(backend: Backend) -> None:
    _, schedules = scheduled(backend)
    three_hours_later = T0 + 3 * 3600 + 42

    ticks = schedules.claim_due(now=three_hours_later)
    assert len(ticks) == 1  # 36 ticks were missed: the function runs once on waking, not 36 times
    schedule = schedules.get("acme", "tick")
    assert schedule is not None and schedule.next_run == T0 + 3 * 3600 + 300  # then on, from now
    assert schedules.claim_due(now=three_hours_later + 1) == []


def test_two_schedulers_on_separate_connections_claim_each_tick_exactly_once(backend: Backend) -> None:
    registry, first = scheduled(backend, "* * * * *")
    second = Schedules(backend.database())  # another process's (or host's) connection pool
    claimed: list[Tick] = []
    lock = threading.Lock()

    def scheduler(schedules: Schedules) -> None:
        for minute in range(1, 6):
            for _ in range(5):  # every scheduler polls several times within each minute
                ticks = schedules.claim_due(now=T0 + 60 * minute + 0.5)
                with lock:
                    claimed.extend(ticks)

    threads = [threading.Thread(target=scheduler, args=(schedules,)) for schedules in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tick.due for tick in claimed) == [T0 + 60 * minute for minute in range(1, 6)]
    assert len(JobQueue(registry.database).list_jobs("acme")) == 5


def test_changing_the_expression_moves_the_next_tick_and_keeping_it_does_not(backend: Backend) -> None:
    _, schedules = scheduled(backend)
    schedules.set("acme", "tick", "*/5 * * * *", now=T0 + 200)  # a redeploy with the same schedule
    kept = schedules.get("acme", "tick")
    assert kept is not None and kept.next_run == T0 + 300
    schedules.set("acme", "tick", "0 * * * *", now=T0 + 200)
    moved = schedules.get("acme", "tick")
    assert moved is not None and moved.next_run == T0 + 3600 and moved.expression == "0 * * * *"
    schedules.set("acme", "tick", None)
    assert schedules.get("acme", "tick") is None and schedules.next_due() is None


def test_the_schedule_of_a_deleted_function_is_dropped(backend: Backend) -> None:
    registry, schedules = scheduled(backend)
    registry.delete_function("acme", "tick")
    assert schedules.claim_due(now=T0 + 301) == []
    assert schedules.get("acme", "tick") is None


@pytest.mark.parametrize("expression", ["*/5 * * * *", "0 9 * * mon-fri", "@hourly", "  0   0 1 * *  "])
def test_standard_expressions_are_accepted(expression: str) -> None:
    checked = check_expression(expression)
    assert next_tick(checked, T0) > T0


@pytest.mark.parametrize(("expression", "says"), [
    ("* * * * * *", "has 6 fields"),  # seconds: below the one-minute minimum
    ("*/5 * * *", "has 4 fields"),
    ("61 * * * *", "not a valid cron expression"),
    ("0 0 30 2 *", "never fires"),
    ("@every_second", "unknown nickname"),
    ("", "five fields"),
])
def test_bad_expressions_say_what_is_wrong(expression: str, says: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_expression(expression)
    assert says in refused.value.message


def test_ticks_are_utc() -> None:
    assert next_tick("0 9 * * *", T0) == T0 + 3600  # 09:00Z, one hour after 08:00Z

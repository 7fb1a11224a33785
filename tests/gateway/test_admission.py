"""Fair admission, without HTTP: tenant caps, the queue bound, the global cap."""

from __future__ import annotations

import os
import threading

import anyio
import anyio.to_thread
import pytest

from gateway.admission import WORKER_NICENESS, Admission
from gateway.errors import ConcurrencyLimited


def test_a_tenant_never_holds_every_slot() -> None:
    admission = Admission(max_isolates=3, queue_depth=4, queue_timeout_ms=100)

    assert admission.tenant_capacity(10) == 2
    assert admission.tenant_capacity(1) == 1


def test_excess_calls_wait_briefly_then_fail_while_another_tenant_runs() -> None:
    admission = Admission(max_isolates=3, queue_depth=1, queue_timeout_ms=200)
    release = threading.Event()
    outcomes: dict[str, list[str]] = {"hog": [], "calm": []}

    async def hog() -> None:
        try:
            await admission.run("hog", 2, release.wait, 5)
            outcomes["hog"].append("ok")
        except ConcurrencyLimited as error:
            outcomes["hog"].append(error.code)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(hog)
            await anyio.sleep(0.05)
            outcomes["calm"].append(str(await admission.run("calm", 2, lambda: "ok")))
            await anyio.sleep(0.3)  # the queued hog call times out
            release.set()

    anyio.run(main)

    assert outcomes["calm"] == ["ok"]
    assert sorted(outcomes["hog"]) == ["concurrency_limit"] * 3 + ["ok"] * 2


def test_a_full_queue_refuses_at_once() -> None:
    admission = Admission(max_isolates=2, queue_depth=0, queue_timeout_ms=1000)
    release = threading.Event()

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(admission.run, "t", 1, release.wait, 5)
            await anyio.sleep(0.05)
            with anyio.fail_after(0.5), pytest.raises(ConcurrencyLimited):
                await admission.run("t", 1, lambda: None)
            release.set()

    anyio.run(main)


def test_a_tenants_waiting_calls_are_admitted_in_arrival_order() -> None:
    admission = Admission(max_isolates=4, queue_depth=8, queue_timeout_ms=5000)
    gate = threading.Event()
    ran: list[int] = []

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(admission.run, "t", 1, gate.wait, 5)  # holds the tenant's one slot
            await anyio.sleep(0.05)
            for index in range(6):
                group.start_soon(admission.run, "t", 1, ran.append, index)
                await anyio.sleep(0)  # each is queued before the next arrives
            gate.set()

    anyio.run(main)

    assert ran == [0, 1, 2, 3, 4, 5]


def test_another_tenant_is_admitted_while_a_hog_is_at_its_cap_with_calls_queued() -> None:
    admission = Admission(max_isolates=3, queue_depth=8, queue_timeout_ms=5000)
    hog_release = threading.Event()
    hog_running: list[int] = []
    seen_by_victim: list[tuple[int, int]] = []  # (hog calls running, hog calls waiting) when the victim ran

    def hog_call() -> None:
        hog_running.append(1)
        hog_release.wait(5)

    def victim_call() -> str:
        seen_by_victim.append((len(hog_running), admission._gates["hog"].waiting))
        return "ok"

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):  # two run (its cap: 3 isolates - 1), three wait
                group.start_soon(admission.run, "hog", 2, hog_call)
            while len(hog_running) < 2:
                await anyio.sleep(0.01)
            assert await admission.run("victim", 2, victim_call) == "ok"
            hog_release.set()

    anyio.run(main)

    assert seen_by_victim == [(2, 3)]  # the hog was at its cap, with calls queued, and held no victim slot
    assert len(hog_running) == 5


def test_calls_run_at_a_lower_cpu_priority_than_the_event_loop() -> None:
    admission = Admission(max_isolates=2, queue_depth=1, queue_timeout_ms=1000)

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def main() -> tuple[int, int, int]:
        loop_niceness = niceness()
        in_call = await admission.run("t", 1, niceness)
        after = await anyio.to_thread.run_sync(niceness, limiter=admission.threads)  # a worker between calls
        return loop_niceness, in_call, after

    loop_niceness, in_call, after = anyio.run(main)

    assert in_call == min(19, loop_niceness + WORKER_NICENESS)
    # only the call itself ran lowered (going back up needs CAP_SYS_NICE: root has it)
    assert after == loop_niceness if os.geteuid() == 0 else after >= loop_niceness

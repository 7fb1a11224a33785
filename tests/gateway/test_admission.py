"""Fair admission, without HTTP: tenant caps, the queue bound, the global cap."""

from __future__ import annotations

import threading

import anyio
import pytest

from gateway.admission import Admission
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

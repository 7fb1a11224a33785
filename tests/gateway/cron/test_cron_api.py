"""Cron over HTTP on a real gateway (SQLite and PostgreSQL): the ``schedule`` of a deploy, its ticks run through
the job worker, and the run history. The scheduler's clock is moved on, not waited for."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.service import Gateway
from tests.gateway.support import Api, ThreadServer, error_code

TICK = "module.exports = function (ctx, cb) { console.log('tick', ctx.meta.source); cb(null, ctx.meta.source); };"


@pytest.fixture
def gateway(server: ThreadServer) -> Iterator[Gateway]:
    """The server's gateway; its scheduler's clock is put back after the test."""
    gateway: Gateway = server.app.state.gateway
    assert gateway.scheduler is not None
    clock = gateway.scheduler.clock
    yield gateway
    gateway.scheduler.clock = clock


def runs_of(api: Api, tenant: str, name: str, token: dict[str, str], count: int) -> list[dict[str, Any]]:
    """The function's runs once there are ``count`` (or what there is after 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        runs: list[dict[str, Any]] = api.http.get(f"/api/runs/{tenant}/{name}", headers=token).json()["runs"]
        if len(runs) >= count or time.monotonic() > deadline:
            return runs
        time.sleep(0.1)


def test_a_deploy_carries_its_schedule(api: Api, tenant: str, token: dict[str, str]) -> None:
    deployed = api.deployed(tenant, "cron", TICK, token, schedule="*/5 * * * *")
    schedule = deployed["schedule"]
    assert schedule["schedule"] == "*/5 * * * *" and schedule["last_run"] is None
    assert schedule["next_run"] % 300 == 0 and 0 < schedule["next_run"] - time.time() <= 300

    assert api.deployed(tenant, "cron", TICK, token)["schedule"] == schedule  # omitted: kept
    assert api.http.get(f"/api/functions/{tenant}/cron", headers=token).json()["schedule"] == schedule
    refused = api.deploy(tenant, "cron", TICK, token, schedule="* * * * * *")
    assert refused.status_code == 400 and error_code(refused) == "invalid_request"
    assert "five" in refused.json()["error"]["message"]
    assert api.deployed(tenant, "cron", TICK, token, schedule=None)["schedule"] is None
    assert api.http.get(f"/api/runs/{tenant}/cron", headers=token).json()["schedule"] is None


def test_a_due_tick_runs_the_function_once_with_logs_and_history(api: Api, tenant: str, token: dict[str, str],
                                                                 gateway: Gateway) -> None:
    api.deployed(tenant, "cron", TICK, token, schedule="* * * * *")
    assert gateway.scheduler is not None
    later = time.time() + 120
    gateway.scheduler.clock = lambda: later  # two minutes on, and stopped there: a tick is due (one was missed)
    try:
        check_one_tick(api, tenant, token)
    finally:  # the server is shared by the session: no more ticks once the test is over
        api.deployed(tenant, "cron", TICK, token, schedule=None)


def check_one_tick(api: Api, tenant: str, token: dict[str, str]) -> None:
    [run] = runs_of(api, tenant, "cron", token, 1)
    assert (run["source"], run["code"], run["status"], run["attempt"], run["version"]) == ("cron", "ok", 200, 1, "v1")
    assert run["fuel_used"] > 0
    time.sleep(2.5)  # more scheduler polls at the same (moved) time: no second run
    assert len(api.http.get(f"/api/runs/{tenant}/cron", headers=token).json()["runs"]) == 1, "one tick, one run"
    job = api.http.get(f"/api/jobs/{tenant}/{run['job']}", headers=token).json()
    assert job["source"] == "cron" and job["result"] == {"kind": "json", "value": "cron"}

"""Several gateways over one PostgreSQL registry: each job and each cron tick runs once, and a job whose
worker was killed mid-run is finished by another."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import Settings
from gateway.service import Gateway
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import ADMIN_KEY, REPO, Api, PostgresServer, ThreadServer, free_port

ECHO = "module.exports = function (ctx, cb) { cb(null, ctx.meta.job); };"
SERVE = ("import uvicorn; from gateway.app import create_app; from gateway.config import Settings;"
         " uvicorn.run(create_app(Settings.from_env()), host='127.0.0.1', port={port}, log_level='warning')")


class GatewayProcess:
    """One gateway (the app under uvicorn) in a process of its own, so that a test can kill -9 it."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"gateway-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE.format(port=self.port)], cwd=REPO, stdout=open(self.log, "w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "WASMTASK_DATA_DIR": str(data_dir), "WASMTASK_ADMIN_KEY": ADMIN_KEY})
        http = httpx.Client(base_url=self.url, timeout=1, trust_env=False)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except Exception:
                pass
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def two_gateways(tmp_path: Path, postgres: PostgresServer) -> Iterator[tuple[ThreadServer, ThreadServer]]:
    """Two gateways (each its own registry pool, job worker and scheduler) over one PostgreSQL database."""
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres.create_database("twohosts"),
                        **TEST_SETTINGS)  # type: ignore[arg-type]
    first = ThreadServer(settings).start()
    second = ThreadServer(settings).start()
    yield first, second
    first.stop()
    second.stop()


def test_each_job_runs_once_whichever_gateway_took_it(two_gateways: tuple[ThreadServer, ThreadServer]) -> None:
    one, other = Api(two_gateways[0].url), Api(two_gateways[1].url)
    tenant = one.create_tenant()
    token = one.token(tenant)
    one.deployed(tenant, "echo", ECHO, token)
    ids = [(one if n % 2 else other).http.post(f"/api/jobs/{tenant}/echo", headers=token).json()["id"]
           for n in range(24)]

    for job_id in ids:
        done = other.http.get(f"/api/jobs/{tenant}/{job_id}", params={"wait": "20s"}, headers=token).json()
        assert (done["status"], done["attempts"], done["result"]["value"]) == ("succeeded", 1, job_id)
    runs = one.http.get(f"/api/runs/{tenant}/echo", headers=token).json()["runs"]
    assert sorted(run["job"] for run in runs) == sorted(ids)  # one run per job, no job run twice


def test_a_tick_runs_once_across_two_schedulers(two_gateways: tuple[ThreadServer, ThreadServer]) -> None:
    one = Api(two_gateways[0].url)
    tenant = one.create_tenant()
    token = one.token(tenant)
    one.deployed(tenant, "tick", ECHO, token, schedule="* * * * *")
    later = time.time() + 120
    schedulers = [server.app.state.gateway.scheduler for server in two_gateways]
    for scheduler in schedulers:
        scheduler.clock = lambda: later  # both see the tick due, at the same moment

    deadline = time.monotonic() + 20
    while not one.http.get(f"/api/runs/{tenant}/tick", headers=token).json()["runs"]:
        assert time.monotonic() < deadline, "the tick did not run"
        time.sleep(0.1)
    time.sleep(3)  # three more polls of each scheduler
    runs = one.http.get(f"/api/runs/{tenant}/tick", headers=token).json()["runs"]
    assert [(run["source"], run["code"]) for run in runs] == [("cron", "ok")]
    gateways: list[Gateway] = [server.app.state.gateway for server in two_gateways]
    assert all(gateway.scheduler is not None for gateway in gateways)


def test_a_job_whose_worker_is_killed_mid_run_is_finished_by_another(
        tmp_path: Path, postgres: PostgresServer, slow_upstream: str) -> None:
    database_url = postgres.create_database("killed")
    data_dir = tmp_path / "data"
    setup = ThreadServer(Settings(data_dir=data_dir, database_url=database_url,
                                  **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    try:  # the tenant, its token and the function, made through a gateway stopped before the job is queued
        admin = Api(setup.url, setup.control_url)
        tenant = admin.create_tenant()
        token = admin.token(tenant)
        code = (f"module.exports = async function (ctx, cb) {{ const r = await fetch('{slow_upstream}/?s=1.5');"
                " cb(null, (await r.text()) + ' on attempt ' + ctx.meta.attempt); };")
        admin.deployed(tenant, "slow", code, token, allowed_hosts=[slow_upstream])
    finally:
        setup.stop()
    env = {"WASMTASK_DATABASE_URL": database_url, "WASMTASK_JOB_LEASE_S": "2", "WASMTASK_WORKERS": "1"}
    doomed = GatewayProcess(data_dir, env)
    survivor: GatewayProcess | None = None
    try:
        api = Api(doomed.url, setup.control_url)
        job_id = api.http.post(f"/api/jobs/{tenant}/slow", headers=token).json()["id"]
        deadline = time.monotonic() + 10
        while api.http.get(f"/api/jobs/{tenant}/{job_id}", headers=token).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        doomed.kill()  # kill -9 mid-run: no goodbye, the lease just stops being renewed

        survivor = GatewayProcess(data_dir, env)
        other = Api(survivor.url, setup.control_url)
        done = other.http.get(f"/api/jobs/{tenant}/{job_id}", params={"wait": "25s"}, headers=token).json()
        assert (done["status"], done["attempts"]) == ("succeeded", 2), done
        assert done["result"] == {"kind": "json", "value": "slept 1.5 on attempt 2"}
        runs = other.http.get(f"/api/runs/{tenant}/slow", headers=token).json()["runs"]
        assert [(run["attempt"], run["code"]) for run in runs] == [(2, "ok")]  # the killed run never ended
    finally:
        doomed.stop()
        if survivor is not None:
            survivor.stop()

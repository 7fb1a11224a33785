"""PostgreSQL restarting under a gateway with jobs queued and running: no accepted job is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, PostgresServer, ThreadServer

SLOWISH = "module.exports = async function (ctx, cb) {{ const r = await fetch('{upstream}/?s=0.3'); cb(null, ctx.body); }};"


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own: it is stopped and started again."""
    with PostgresServer.private() as server:
        yield server


def test_jobs_accepted_before_postgres_restarts_all_finish_after(tmp_path: Path, own_postgres: PostgresServer,
                                                                 slow_upstream: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=own_postgres.create_database("restart"),
                        job_lease_seconds=2.0, **TEST_SETTINGS)  # type: ignore[arg-type]
    server = ThreadServer(settings).start()
    try:
        api = Api(server.url, server.control_url)
        tenant = api.create_tenant()
        token = api.token(tenant)
        api.deployed(tenant, "slowish", SLOWISH.format(upstream=slow_upstream), token, allowed_hosts=[slow_upstream])
        accepted = [api.http.post(f"/api/jobs/{tenant}/slowish", headers=token, json={"n": n}).json()["id"]
                    for n in range(12)]

        own_postgres.stop(immediate=True)  # every backend gone at once, mid-run
        time.sleep(1.5)
        own_postgres.start()

        deadline = time.monotonic() + 60
        results = {}
        while len(results) < len(accepted):
            assert time.monotonic() < deadline, f"unfinished: {set(accepted) - set(results)}"
            for job_id in accepted:
                if job_id not in results:
                    answer = api.http.get(f"/api/jobs/{tenant}/{job_id}", params={"wait": "2s"}, headers=token)
                    if answer.status_code == 200 and answer.json()["status"] in ("succeeded", "failed", "dead"):
                        results[job_id] = answer.json()
        assert {job["status"] for job in results.values()} == {"succeeded"}
        assert sorted(job["result"]["value"]["n"] for job in results.values()) == list(range(12))
    finally:
        server.stop()

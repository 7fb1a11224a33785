"""Retries of failures outside the function, on a real gateway: the tenant's one API slot (what ad-hoc runs,
deploys and jobs share, gateway/admission.py) is held meanwhile, as a long ad-hoc run would hold it, so the job's
run fails with ``concurrency_limit``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.service import API_BUCKET, Gateway, admission_key
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, ThreadServer

HELLO = "module.exports = function (ctx, cb) { cb(null, 'done'); };"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("retries")), job_max_attempts=2,
                        **TEST_SETTINGS)  # type: ignore[arg-type]
    running = ThreadServer(settings).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(server: ThreadServer) -> Api:
    return Api(server.url, server.control_url)


class SlotHolder:
    """Holds the tenant's API slot on the server's event loop until ``release()``."""

    def __init__(self, server: ThreadServer, tenant: str) -> None:
        gateway: Gateway = server.app.state.gateway
        self.loop = gateway._background[0].get_loop()
        self.held: Future[None] = Future()
        self.done = asyncio.run_coroutine_threadsafe(self._hold(gateway, tenant), self.loop)
        self.held.result(timeout=10)

    async def _hold(self, gateway: Gateway, name: str) -> None:
        self.release_event = asyncio.Event()
        tenant = await gateway.tenant(name)
        async with gateway.admission.slot(admission_key(tenant, API_BUCKET), gateway.concurrency_share(tenant)):
            self.held.set_result(None)
            await self.release_event.wait()

    def release(self) -> None:
        self.loop.call_soon_threadsafe(self.release_event.set)
        self.done.result(timeout=10)


def runs(api: Api, tenant: str, token: dict[str, str], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        found: list[dict[str, Any]] = api.http.get(f"/api/runs/{tenant}/hello", headers=token).json()["runs"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def tenant_of_one(api: Api) -> tuple[str, dict[str, str]]:
    tenant = api.create_tenant(concurrency=1)
    token = api.token(tenant)
    api.deployed(tenant, "hello", HELLO, token)
    return tenant, token


def test_a_run_refused_for_concurrency_is_retried_after_a_backoff(server: ThreadServer, api: Api) -> None:
    tenant, token = tenant_of_one(api)
    holder = SlotHolder(server, tenant)
    job = api.http.post(f"/api/jobs/{tenant}/hello", headers=token).json()

    [first] = runs(api, tenant, token, 1)
    holder.release()  # before the retry: it waits 0.5 to 1 s
    done = api.http.get(f"/api/jobs/{tenant}/{job['id']}", params={"wait": "20s"}, headers=token).json()

    assert first["code"] == "concurrency_limit" and first["attempt"] == 1
    assert (done["status"], done["attempts"], done["result"]["value"]) == ("succeeded", 2, "done")


def test_a_job_whose_retries_run_out_is_dead(server: ThreadServer, api: Api) -> None:
    tenant, token = tenant_of_one(api)
    holder = SlotHolder(server, tenant)
    try:
        job = api.http.post(f"/api/jobs/{tenant}/hello", headers=token).json()
        done = api.http.get(f"/api/jobs/{tenant}/{job['id']}", params={"wait": "20s"}, headers=token).json()
    finally:
        holder.release()

    assert (done["status"], done["attempts"], done["error"]["code"]) == ("dead", 2, "concurrency_limit")
    assert [run["code"] for run in runs(api, tenant, token, 2)] == ["concurrency_limit", "concurrency_limit"]
    dead = api.http.get(f"/api/jobs/{tenant}", params={"status": "dead"}, headers=token).json()["jobs"]
    assert [item["id"] for item in dead] == [job["id"]]

"""``wasmtask serve --workers 2``: one port, a supervisor that replaces a killed worker, and Redis faults."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.coordination.redis_server import PrivateRedis
from tests.gateway.support import Api, ProcessServer, child_pids

HELLO = "module.exports = function (cb) { cb(null, 'hello'); };"


def workers_of(server: ProcessServer) -> set[int]:
    """uvicorn's worker processes (they run the app; the supervisor does not, nor the control plane or the builder)."""
    assert server.process is not None
    workers = set()
    for pid in child_pids(server.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:  # it has just exited: not a worker
            continue
        if not any(other in cmdline for other in ("multiprocessing.resource_tracker", "gateway.control_plane",
                                                  "toolchains.builder")):
            workers.add(pid)
    return workers


@pytest.fixture
def two_workers(tmp_path: Path, redis_server: PrivateRedis) -> Iterator[ProcessServer]:
    server = ProcessServer(tmp_path / "data", {"WASMTASK_WORKERS": "2", "WASMTASK_REDIS_URL": redis_server.url})
    server.start()
    deadline = time.monotonic() + 30
    while len(workers_of(server)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    yield server
    server.stop()


def test_a_killed_worker_is_replaced_and_no_request_fails(two_workers: ProcessServer) -> None:
    api = Api(two_workers.url)
    tenant = api.create_tenant(rate_limit={"per_second": 10_000, "burst": 10_000})
    api.deployed(tenant, "f", HELLO, api.token(tenant))
    before = workers_of(two_workers)
    assert len(before) == 2
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=two_workers.url, timeout=10, trust_env=False) as client:
            while not stop.is_set():
                try:
                    response = client.get(f"/run/{tenant}/f")
                    if response.status_code != 200:
                        failures.append(str(response.status_code))
                except httpx.TransportError as exc:  # only a request on the killed worker may fail
                    failures.append(type(exc).__name__)
                    client.close()
                    client = httpx.Client(base_url=two_workers.url, timeout=10, trust_env=False)

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(0.5)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = workers_of(two_workers)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    thread.join()
    after = workers_of(two_workers)
    assert len(after) == 2 and victim not in after
    # a request in flight on the killed worker may break; every other one succeeds
    assert len(failures) <= 1, failures
    assert api.http.get(f"/run/{tenant}/f").json() == "hello"


def test_calls_go_on_while_redis_is_away_and_readyz_says_so(tmp_path: Path, redis_server: PrivateRedis) -> None:
    server = ProcessServer(tmp_path / "data", {"WASMTASK_REDIS_URL": redis_server.url}).start()
    try:
        api = Api(server.url)
        tenant = api.create_tenant(rate_limit={"per_second": 100, "burst": 100})
        api.deployed(tenant, "f", HELLO, api.token(tenant))
        redis_server.stop()
        started = time.monotonic()
        statuses = [api.http.get(f"/run/{tenant}/f").status_code for _ in range(20)]
        assert statuses == [200] * 20
        assert time.monotonic() - started < 10  # the fallback answers at once, not after a timeout per call
        ready = api.http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert "redis" in ready.json()["degraded"]
        metrics = api.http.get("/metrics").text
        assert "wasmtask_rate_limit_fallbacks_total" in metrics

        redis_server.start()  # back: everything recovers by itself
        deadline = time.monotonic() + 10
        while api.http.get("/readyz").json()["status"] != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert api.http.get("/readyz").json()["status"] == "ready"
        assert api.http.get(f"/run/{tenant}/f").status_code == 200
    finally:
        server.stop()


def test_two_workers_without_a_redis_url_share_a_private_one(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "data", {"WASMTASK_WORKERS": "2"}).start()
    try:
        assert (tmp_path / "data" / "redis" / "redis.sock").exists()
        api = Api(server.url)
        tenant = api.create_tenant(rate_limit={"per_second": 0.01, "burst": 10})
        api.deployed(tenant, "f", HELLO, api.token(tenant))
        statuses = []
        for _ in range(30):  # new connections: the kernel spreads them over both workers
            with httpx.Client(base_url=server.url, timeout=10, trust_env=False) as client:
                statuses.append(client.get(f"/run/{tenant}/f").status_code)
        assert statuses.count(200) == 10  # one bucket for both workers, not one each
    finally:
        server.stop()
    assert not (tmp_path / "data" / "redis" / "redis.sock").exists()  # stopped with the supervisor

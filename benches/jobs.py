"""Async jobs, measured against the HTTP path: ``python -m benches.jobs [--database-url URL] [--jobs N]``.

Issue 17's targets, on a real gateway (uvicorn on loopback, in this process's thread,
its job worker and scheduler running as in ``wasmtask serve``), with a hello function:

- submit-to-start latency with an idle queue: ``--latency`` jobs submitted one after
  another, each waited for (``?wait=``) before the next; per job ``started_at - created_at``
  as the registry recorded them (the claim's time minus the submit's commit), p50 and p99,
  and the whole submit-to-result round trip seen by the client;
- jobs/s at saturation: ``--jobs`` jobs submitted by 16 concurrent clients, timed from the
  first submit until the last job has finished.

SQLite (a temp data dir) always; PostgreSQL with ``--database-url`` or, where PostgreSQL 15
is installed, a private server (the tests' way).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

from gateway.app import create_app
from gateway.config import Settings
from gateway.service import Gateway

ADMIN_KEY = "bench-admin-key-0123456789"
HELLO = "module.exports = function (ctx, cb) { cb(null, 'hello'); };"


@contextlib.contextmanager
def gateway(data_dir: Path, database_url: str | None) -> Iterator[tuple[str, Gateway]]:
    settings = Settings(data_dir=data_dir, database_url=database_url, admin_key=ADMIN_KEY, job_queue_depth=100_000)
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.gateway
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(url: str, gw: Gateway, latency_jobs: int, saturation_jobs: int) -> dict[str, float]:
    tenant = f"bench-{uuid.uuid4().hex[:6]}"
    gw.registry.create_tenant(tenant, max_limits=gw.settings.tenant.max_limits, rate_per_second=1e6,
                              rate_burst=1_000_000, concurrency=gw.settings.tenant_concurrency)
    admin = {"authorization": f"Bearer {ADMIN_KEY}"}
    http = httpx.Client(base_url=url, timeout=60, trust_env=False, headers=admin)
    assert http.put(f"/api/functions/{tenant}/hello", json={"code": HELLO}).status_code == 200
    submit = f"/api/jobs/{tenant}/hello"

    starts, rounds = [], []
    for n in range(latency_jobs + 20):
        began = time.perf_counter()
        job = http.post(submit).json()
        done = http.get(f"/api/jobs/{tenant}/{job['id']}", params={"wait": "10s"}).json()
        assert done["status"] == "succeeded", done
        if n >= 20:  # warm-up: the program cache, the connections
            starts.append((done["started_at"] - done["created_at"]) * 1000)
            rounds.append((time.perf_counter() - began) * 1000)

    clients = [httpx.Client(base_url=url, timeout=60, trust_env=False, headers=admin) for _ in range(16)]
    began = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda n: clients[n % 16].post(submit).json()["id"], range(saturation_jobs)))
    submitted = time.perf_counter() - began
    while gw.jobs.depth(tenant) > 0:
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    finished = [gw.jobs.get(tenant, job_id) for job_id in ids[-50:]]
    assert all(job.status == "succeeded" for job in finished)
    return {"start_p50_ms": statistics.median(starts), "start_p99_ms": percentile(starts, 0.99),
            "roundtrip_p50_ms": statistics.median(rounds), "roundtrip_p99_ms": percentile(rounds, 0.99),
            "submit_per_s": saturation_jobs / submitted, "jobs_per_s": saturation_jobs / elapsed}


@contextlib.contextmanager
def postgres_url(url: str | None) -> Iterator[str | None]:
    if url:
        yield url
        return
    from tests.gateway.support import PostgresServer  # the tests' private server, when it can run here

    if PostgresServer.missing():
        yield None
        return
    server = PostgresServer().start()
    try:
        yield server.create_database("benchjobs")
    finally:
        server.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL to measure on (default: a private one, if possible)")
    parser.add_argument("--latency", type=int, default=200, help="jobs for the idle-queue latency")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs for the saturation throughput")
    args = parser.parse_args()
    print(f"{'registry':<11} {'start p50':>10} {'start p99':>10} {'submit->result p50':>19} {'p99':>8}"
          f" {'submits/s':>10} {'jobs/s':>8}")
    with postgres_url(args.database_url) as pg_url:
        for engine, url in (("sqlite", None), ("postgresql", pg_url)):
            if engine == "postgresql" and url is None:
                print("postgresql  skipped: no PostgreSQL 15 here and no --database-url")
                continue
            with tempfile.TemporaryDirectory() as data_dir, gateway(Path(data_dir), url) as (base, gw):
                result = measure(base, gw, args.latency, args.jobs)
            print(f"{engine:<11} {result['start_p50_ms']:>8.1f}ms {result['start_p99_ms']:>8.1f}ms"
                  f" {result['roundtrip_p50_ms']:>17.1f}ms {result['roundtrip_p99_ms']:>6.1f}ms"
                  f" {result['submit_per_s']:>10.0f} {result['jobs_per_s']:>8.0f}")


if __name__ == "__main__":
    main()

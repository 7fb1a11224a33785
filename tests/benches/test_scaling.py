"""The several-workers benches with tiny parameters: CPU accounting, the bench's redis-server, what Redis costs a
call, how soon a deploy is served by another gateway, and the scale-out tables. Each checks that the machinery
runs and gives sane numbers; no speed, ratio or target is asserted."""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from benches import cpu, peers, propagation, redis_cost, report, wrk
from benches.__main__ import parse_args
from benches.redis_server import RedisUnderTest
from benches.wrk import LoadResult

needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists(),
                                 reason="redis-server not installed (apt-get install -y redis-server)")
TINY = redis_cost.Plan(inprocess_rounds=1, calls=8, component_repetitions=20, http_rounds=1, duration_s=1,
                       warmup_s=1)


def burn(seconds: float) -> None:
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass


def python_load(url: str, *, system: str, concurrency: int, duration_s: int,
                server_cpu: Callable[[], float] | None = None) -> LoadResult:
    """A stand-in for wrk (one connection, in turn), so these tests need no wrk."""
    before = server_cpu() if server_cpu else 0.0
    latencies = []
    started = time.perf_counter()
    with httpx.Client(trust_env=False, timeout=30) as client:
        while time.perf_counter() - started < duration_s:
            sent = time.perf_counter()
            assert client.get(url).status_code == 200
            latencies.append((time.perf_counter() - sent) * 1000)
    elapsed = time.perf_counter() - started
    return LoadResult(system=system, concurrency=concurrency, duration_s=elapsed, requests=len(latencies),
                      ok_per_second=len(latencies) / elapsed, p50_ms=statistics.median(latencies),
                      p99_ms=max(latencies), server_cpu_s=server_cpu() - before if server_cpu else None)


def test_process_cpu_seconds_grow_with_work() -> None:
    before = cpu.process_cpu_seconds(os.getpid())
    burn(0.1)
    assert cpu.process_cpu_seconds(os.getpid()) - before >= 0.05  # 10 ms ticks


def test_group_cpu_counts_the_leader_and_the_children_it_reaped() -> None:
    code = ("import subprocess, sys, time\n"
            "subprocess.run([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
            "while time.process_time() - t < 0.2: pass'])\n"
            "t = time.process_time()\n"
            "while time.process_time() - t < 0.2: pass\n"
            "print('done', flush=True)\n"
            "time.sleep(30)\n")
    leader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert leader.stdout is not None and leader.stdout.readline() == b"done\n"
        assert cpu.group_pids(leader.pid) == [leader.pid]
        assert cpu.group_cpu_seconds(leader.pid) >= 0.3
        assert cpu.group_cpu_seconds(leader.pid, (os.getpid(),)) > cpu.group_cpu_seconds(leader.pid)
    finally:
        os.killpg(leader.pid, 9)
        leader.wait()


def test_wrk_counts_server_and_wrk_cpu_against_starlette_with_two_workers(tmp_path: Path) -> None:
    try:
        wrk_path = wrk.find_wrk(install=False)
    except wrk.WrkMissing as error:
        pytest.skip(str(error))
    server = peers.start_starlette(tmp_path, workers=2)
    try:
        assert server.process is not None
        assert len(cpu.group_pids(server.process.pid)) >= 3  # uvicorn's supervisor and its 2 workers
        result = wrk.run(wrk_path, wrk.write_lua(tmp_path), server.url + "/", system="starlette-2w", concurrency=4,
                         duration_s=1, server_cpu=functools.partial(cpu.group_cpu_seconds, server.process.pid))
    finally:
        server.stop()
    assert result.requests > 0 and result.non_2xx == 0
    assert result.server_cpu_s is not None and result.server_cpu_s > 0
    assert result.wrk_cpu_s is not None and result.wrk_cpu_s >= 0
    assert result.server_cpu_us_per_request is not None and result.server_cpu_us_per_request > 0
    assert result.cores_busy is not None and result.cores_busy > 0


@needs_redis
def test_the_bench_redis_counts_commands_and_is_stopped(tmp_path: Path) -> None:
    with RedisUnderTest(tmp_path / "redis") as server:
        pid = server.pid
        with server.client() as client:
            client.xadd("stream", {"r": "x"})
            client.xadd("stream", {"r": "y"})
        assert server.command_stats()["xadd"].calls == 2
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


@needs_redis
def test_redis_cost_measures_every_variant_in_process_and_over_http(tmp_path: Path) -> None:
    cost = redis_cost.measure(tmp_path, python_load, TINY, concurrencies=(1, 4))
    # (a block may be left out of the medians on a busy machine: the gateway stopped running the function inline)
    assert {(b.variant, b.concurrency) for b in cost.inprocess} == {(v, c) for v in redis_cost.VARIANTS for c in (1, 4)}
    assert all(math.isfinite(b.cpu_us_per_call) and b.cpu_us_per_call > 0 and b.calls == 8 for b in cost.inprocess)
    assert {(run.mode, run.concurrency) for run in cost.http} == {(m, c) for m in redis_cost.MODES for c in (1, 4)}
    assert all(run.requests > 0 and run.gateway_us_per_call > 0 for run in cost.http)
    assert 0 < cost.commands_per_call["evalsha"] <= 1.0  # at most one rate-limit trip a call (leases): a count
    assert cost.commands_per_call["xadd"] > 0
    assert [c.part for c in cost.components] == ["rate-limit take (EVALSHA, 1 a call)",
                                                  "2 log records published and written (a pipelined XADD batch of 2)"]
    assert all(c.memory_us > 0 and c.redis_us > 0 for c in cost.components)
    text = redis_cost.markdown(cost)
    assert "| memory |" in text and "| redis rate limit only |" in text
    assert "| wrk c=4, 1 round(s) |" in text
    assert redis_cost.RedisCost.from_dict(cost.to_dict()) == cost


@needs_redis
def test_propagation_watches_each_deploy_on_the_other_gateway(tmp_path: Path) -> None:
    result = propagation.measure(tmp_path, 3)
    assert [d.version for d in result.deploys] == [1, 2, 3]
    assert all(d.visible_ms is not None and d.visible_ms >= 0 and d.deploy_ms > 0 for d in result.deploys)
    p99 = result.percentile_ms(99)
    assert p99 is not None and math.isfinite(p99)
    assert propagation.markdown(result).splitlines()[2].startswith("| 3 | ")
    assert propagation.Propagation.from_dict(result.to_dict()) == result


def load(system: str, concurrency: int, per_second: float, server_cpu_s: float | None = None) -> LoadResult:
    return LoadResult(system=system, concurrency=concurrency, duration_s=2.0, requests=int(per_second * 2),
                      ok_per_second=per_second, p50_ms=1.0, p99_ms=2.0, server_cpu_s=server_cpu_s, wrk_cpu_s=0.5)


def scale_out_results() -> report.Results:
    return report.Results(
        started="2026-01-01T00:00:00+00:00", machine={}, conditions={},
        load=[load("starlette-2w", 64, 18_000, 1.9), load("wasmtask-2w", 64, 1_500, 3.0),
              load("starlette", 64, 10_000, 1.0), load("wasmtask", 64, 1_000, 2.0), load("workerd", 64, 12_000)],
        redis_cost=redis_cost.RedisCost(
            inprocess=[redis_cost.InProcessBlock("memory", 1, 100, 700.0, None),
                       redis_cost.InProcessBlock("redis", 1, 100, 760.0, 0.01)],
            commands_per_call={"evalsha": 1.0, "xadd": 2.0}, server_us_per_call=30.0),
        propagation=propagation.Propagation([propagation.Visibility(1, 30.0, 150.0, 12, True),
                                             propagation.Visibility(2, 31.0, None, 900, True)]),
    )


def test_systems_are_ordered_with_their_several_worker_variants() -> None:
    assert report.systems(scale_out_results().load) == ["wasmtask", "wasmtask-2w", "starlette", "starlette-2w",
                                                        "workerd"]
    assert peers.label("wasmtask-2w") == "wasmtask, 2 workers + Redis"
    assert peers.label("starlette-4w") == "bare Starlette, 4 workers"
    assert peers.split_workers("node-vm") == ("node-vm", 1)


def test_scale_out_tables_compare_n_workers_with_one() -> None:
    results = scale_out_results()
    assert report.scaling(results.load) == {("wasmtask", 2): {64: 1.5}, ("starlette", 2): {64: 1.8}}
    text = report.markdown(results)
    assert "| wasmtask, 2 workers + Redis / 1 worker | 1.50x |" in text
    assert "2 workers: wasmtask 1.50x against bare Starlette 1.80x (missed)." in text
    assert "| wasmtask, 2 workers + Redis | bare Starlette, 2 workers | >= 0.5x | 0.08x (missed) |" in text
    assert "| wasmtask, 1 worker | 1,000 / 1.25 |" in text  # µs CPU per request / cores busy
    assert "| redis | 760.0 (+60.0) |" in text
    assert "| 2 | 150 | never | 150 |" in text  # a deploy never seen counts as infinitely late


def test_results_with_redis_cost_and_propagation_round_trip(tmp_path: Path) -> None:
    results = scale_out_results()
    paths = report.write(results, tmp_path)
    assert report.Results.from_dict(json.loads(paths["json"].read_text())) == results


def test_only_accepts_the_new_scenarios() -> None:
    assert parse_args(["--only", "redis,propagation"]).only == ("redis", "propagation")

"""A hog tenant at its concurrency cap beside a victim tenant's hello calls, over HTTP.

One ``wasmtask serve`` (1 uvicorn worker). The victim (the bench tenant) serves
the Workers hello; the hog tenant serves ``BURN`` (~0.1 s of pure CPU per call,
so it runs on worker threads, gateway/inline.py), loaded by a second wrk with
twice its concurrency cap in connections: its calls fill its slots and its queue
(the excess waits, or is turned away with ``concurrency_limit``). The victim's
p50/p99 (wrk, ``VICTIM_CONCURRENCY`` connections) is measured alone, then while
the hog runs; the issue's target is a p99 ratio of at most 2.

Run alone: ``python -m benches.hog_victim [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benches import cpu, inprocess, wrk
from benches.gateway_server import RATE_LIMIT, GatewayUnderTest

HOG = "hog"
BURN = "module.exports = function (cb) { let x = 0; for (let i = 0; i < 2e6; i++) { x += i % 7; } cb(null, x); };"
BURN_LIMITS = {"fuel": 2_000_000_000, "wall_clock_ms": 10_000}
VICTIM_CONCURRENCY = 4


@dataclass
class HogVictim:
    victim_concurrency: int
    hog_concurrency: int  # wrk connections on the hog: twice its cap
    hog_cap: int  # the hog tenant's concurrency (one worker: all of it)
    alone: wrk.LoadResult
    with_hog: wrk.LoadResult
    hog: wrk.LoadResult

    @property
    def p99_ratio(self) -> float:
        return self.with_hog.p99_ms / self.alone.p99_ms if self.alone.p99_ms else float("inf")

    @property
    def p50_ratio(self) -> float:
        return self.with_hog.p50_ms / self.alone.p50_ms if self.alone.p50_ms else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "p50_ratio": round(self.p50_ratio, 2), "p99_ratio": round(self.p99_ratio, 2)}


def measure(work_dir: Path, *, seconds: int = 5, victim_concurrency: int = VICTIM_CONCURRENCY) -> HogVictim:
    wrk_path = wrk.find_wrk()
    work_dir.mkdir(parents=True, exist_ok=True)
    lua = wrk.write_lua(work_dir)
    with GatewayUnderTest(work_dir, name="wasmtask-hog-victim") as gateway:
        assert gateway.admin is not None and gateway.control is not None
        hog_tenant = gateway._expect(gateway.control.post("/api/tenants", json={"name": HOG,
                                                                                "rate_limit": RATE_LIMIT}),
                                     "create the hog tenant")
        gateway._expect(gateway.admin.put(f"/api/functions/{HOG}/burn", json={
            "code": BURN, "language": "javascript", "limits": BURN_LIMITS}), "deploy the hog's function")
        gateway.deploy("hello", inprocess.SCENARIOS["workers-hello"][0])
        gateway.call("hello")
        victim_url = gateway.url("hello")
        hog_url = victim_url.replace(f"/run/{gateway.tenant['name']}/hello", f"/run/{HOG}/burn")
        cap = int(str(hog_tenant.get("concurrency", 2)))
        server_cpu = functools.partial(cpu.group_cpu_seconds, gateway.pid)
        wrk.run(wrk_path, lua, victim_url, system="victim", concurrency=8, duration_s=2)  # warm-up
        alone = wrk.run(wrk_path, lua, victim_url, system="victim alone", concurrency=victim_concurrency,
                        duration_s=seconds, server_cpu=server_cpu)
        hog_results: list[wrk.LoadResult] = []
        hog_errors: list[BaseException] = []

        def hog_load() -> None:
            try:
                hog_results.append(wrk.run(wrk_path, lua, hog_url, system="hog", concurrency=2 * cap,
                                           duration_s=seconds + 3))
            except BaseException as error:  # reported below, in the main thread
                hog_errors.append(error)

        hog = threading.Thread(target=hog_load, name="hog-load")
        hog.start()
        time.sleep(1.5)  # the hog's slots and queue are full (its first call also demotes it from inline)
        with_hog = wrk.run(wrk_path, lua, victim_url, system="victim with hog", concurrency=victim_concurrency,
                           duration_s=seconds, server_cpu=server_cpu)
        hog.join()
        if hog_errors:
            raise RuntimeError(f"the hog's load failed: {hog_errors[0]}")
    return HogVictim(victim_concurrency, 2 * cap, cap, alone, with_hog, hog_results[0])


def markdown(result: HogVictim) -> str:
    def row(label: str, load: wrk.LoadResult) -> str:
        errors = load.non_2xx + sum(load.socket_errors.values())
        return (f"| {label} | {load.concurrency} | {load.ok_per_second:,.0f} | {load.p50_ms:.2f} | {load.p99_ms:.2f} | "
                f"{errors:,} |")

    return "\n".join([
        f"Hog and victim, 1 uvicorn worker: the hog tenant (concurrency {result.hog_cap}) runs ~0.1 s CPU calls "
        f"on {result.hog_concurrency} connections; the victim tenant calls the Workers hello.",
        "",
        "| load | connections | ok req/s | p50 ms | p99 ms | non-2xx or socket errors |",
        "|---|---:|---:|---:|---:|---:|",
        row("victim alone", result.alone),
        row("victim with the hog", result.with_hog),
        row("the hog (during the victim's run and 3 s more)", result.hog),
        "",
        f"Victim p50 ratio (with hog / alone): {result.p50_ratio:.2f}; **p99 ratio: {result.p99_ratio:.2f}** "
        "(target <= 2).",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benches.hog_victim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="each victim wrk run (default 5)")
    parser.add_argument("--victim-concurrency", type=int, default=VICTIM_CONCURRENCY)
    args = parser.parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="wasmtask-hog-victim-"))
    try:
        result = measure(work_dir, seconds=args.seconds, victim_concurrency=args.victim_concurrency)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

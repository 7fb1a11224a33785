"""`python -m benches` (`make bench`): every scenario in one run, side by side, written to benches/results/."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx

from benches import (
    cpu,
    hog_victim,
    inprocess,
    machine,
    micro,
    peers,
    phases,
    plots,
    propagation,
    redis_cost,
    report,
    wrk,
)
from benches.gateway_server import GatewayUnavailable, GatewayUnderTest, uvicorn_call
from benches.gateway_server import settings as gateway_settings
from benches.processes import ServerFailed
from benches.redis_server import RedisUnavailable, RedisUnderTest
from benches.wrk import LoadResult

SCENARIOS = ("inprocess", "micro", "http", "deploy", "peers", "redis", "propagation", "phases", "hog")
CONCURRENCIES = (1, 8, 64)
DEFAULT_OUT = Path(__file__).parent / "results"
# Several processes beside one: 2, and one per CPU when that is another number.
WORKER_COUNTS = tuple(sorted({2, os.cpu_count() or 2} - {1}))
# The baselines of wasmtask's HTTP targets, loaded in the same run with --only http.
HTTP_BASELINES = ("starlette", *(peers.with_workers("starlette", n) for n in WORKER_COUNTS), "workerd")
ALL_PEERS = (*HTTP_BASELINES, *(name for name in peers.PEERS if name not in HTTP_BASELINES))


@dataclass(frozen=True)
class Target:
    """A system under wrk load: where to send it, and how to read its CPU seconds so far."""

    url: str
    cpu_seconds: Callable[[], float]


@dataclass(frozen=True)
class Plan:
    """How long each part runs: the full run stays under ~4 minutes on 2 cores, --quick about 1."""

    duration_s: int  # one wrk run, per system, concurrency and round
    rounds: int  # interleaved rounds per point; the report shows the median round and the spread
    slow_duration_s: int  # SLOW_SYSTEMS: one round of this length (its c=64 answers take seconds)
    warmup_s: int  # wrk, per system, at WARMUP_CONCURRENCY, before the measured runs
    inprocess_calls: int  # per in-process scenario (after inprocess.measure's own 200 warm-up calls)
    deploys: int  # cold deploys per deploy scenario
    micro_scale: float  # benches.micro: each claim's default repetitions times this
    redis: redis_cost.Plan  # what Redis costs a call
    propagation_deploys: int  # deploys through one gateway, each watched on another


FULL = Plan(duration_s=3, rounds=3, slow_duration_s=5, warmup_s=2, inprocess_calls=1000, deploys=5, micro_scale=1.0,
            redis=redis_cost.FULL, propagation_deploys=100)
QUICK = Plan(duration_s=2, rounds=1, slow_duration_s=2, warmup_s=1, inprocess_calls=200, deploys=3,
             micro_scale=0.25, redis=redis_cost.QUICK, propagation_deploys=20)
WARMUP_CONCURRENCY = 8
# Orders of magnitude slower than the rest: measured once per concurrency, not in every round.
SLOW_SYSTEMS = frozenset({"node-spawn"})
# The process-per-request peer keeps children running for a moment after wrk hangs up; let them finish.
SETTLE_AFTER = {"node-spawn": 1.0}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benches", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (2 s per point, fewer calls)")
    parser.add_argument("--only", type=_scenarios, default=SCENARIOS,
                        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved wrk rounds per point (default: 3, --quick: 1); more on a busy machine")
    return parser.parse_args(argv)


def _scenarios(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {unknown}; choose from {','.join(SCENARIOS)}")
    return chosen


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # unwind through every `finally`: servers get stopped


def run_inprocess(plan: Plan, results: report.Results) -> None:
    say(f"in-process: {len(inprocess.SCENARIOS)} scenarios x {plan.inprocess_calls} calls")
    try:
        results.inprocess = inprocess.run(calls=plan.inprocess_calls)
    except Exception as error:  # a broken runtime must not hide the HTTP results; the reason is reported
        results.skipped["inprocess"] = f"{type(error).__name__}: {error}"


def run_micro(plan: Plan, results: report.Results) -> None:
    say(f"micro: {len(micro.CLAIMS)} claims, each slow path beside its fast path")
    try:
        measured = micro.measure(scale=plan.micro_scale, say=say)
    except Exception as error:  # as for inprocess: the other scenarios still run, the reason is reported
        results.skipped["micro"] = f"{type(error).__name__}: {error}"
        return
    results.micro = measured.claims
    results.skipped.update({f"micro {name}": reason for name, reason in measured.skipped.items()})


def start_gateway(stack: contextlib.ExitStack, work_dir: Path, plan: Plan, only: tuple[str, ...],
                  results: report.Results, targets: dict[str, Target]) -> None:
    say("wasmtask: starting the gateway (1 worker)")
    try:
        gateway = stack.enter_context(GatewayUnderTest(work_dir))
        results.conditions["bench tenant concurrency"] = gateway.tenant.get("concurrency", "?")
        if "deploy" in only:
            say(f"deploy: {plan.deploys} cold deploys per scenario")
            for scenario in ("hello-world", "workers-hello"):
                results.deploy.append(gateway.measure_deploys(scenario, inprocess.SCENARIOS[scenario][0],
                                                              plan.deploys))
        if "http" in only:
            gateway.deploy("hello", inprocess.SCENARIOS["workers-hello"][0])
            gateway.call("hello")
            targets["wasmtask"] = Target(gateway.url("hello"), functools.partial(cpu.group_cpu_seconds, gateway.pid))
    except (ServerFailed, GatewayUnavailable, httpx.HTTPError) as error:
        scenarios = [scenario for scenario in ("http", "deploy") if scenario in only]
        results.skipped[f"wasmtask ({', '.join(scenarios)})"] = f"gateway not available: {error}"
    if "http" in only:
        for workers in WORKER_COUNTS:
            start_gateway_workers(stack, work_dir, workers, results, targets)


def start_gateway_workers(stack: contextlib.ExitStack, work_dir: Path, workers: int, results: report.Results,
                          targets: dict[str, Target]) -> None:
    """``wasmtask serve --workers N`` with the bench's own redis-server (its CPU counted with the gateway's)."""
    system = peers.with_workers("wasmtask", workers)
    say(f"wasmtask: starting {workers} workers + Redis")
    try:
        redis_server = stack.enter_context(RedisUnderTest(work_dir / f"{system}-redis"))
        gateway = stack.enter_context(GatewayUnderTest(work_dir, name=system, workers=workers,
                                                       redis_url=redis_server.url))
        gateway.deploy("hello", inprocess.SCENARIOS["workers-hello"][0])
        gateway.call("hello")  # one keep-alive connection, so one worker: wrk's warm-up (8 connections) does the rest
    except (RedisUnavailable, ServerFailed, GatewayUnavailable, httpx.HTTPError) as error:
        results.skipped[system] = f"not available: {error}"
        return
    targets[system] = Target(gateway.url("hello"),
                             functools.partial(cpu.group_cpu_seconds, gateway.pid, (redis_server.pid,)))


def start_peers(stack: contextlib.ExitStack, work_dir: Path, hello_js: Path, names: tuple[str, ...],
                results: report.Results, targets: dict[str, Target]) -> None:
    for name in names:
        say(f"peer {name}: starting")
        try:
            server = peers.start(name, work_dir, hello_js)
        except (peers.PeerUnavailable, ServerFailed) as error:
            results.skipped[name] = str(error)
            continue
        stack.callback(server.stop)
        assert server.process is not None
        targets[name] = Target(server.url + "/", functools.partial(cpu.group_cpu_seconds, server.process.pid))


def run_load(wrk_path: str, lua: Path, plan: Plan, targets: dict[str, Target], results: report.Results) -> None:
    for system, target in list(targets.items()):
        say(f"warm-up {system}: {plan.warmup_s} s at c={WARMUP_CONCURRENCY}")
        try:
            wrk.run(wrk_path, lua, target.url, system=system, concurrency=WARMUP_CONCURRENCY,
                    duration_s=plan.warmup_s)
        except (RuntimeError, ValueError, OSError) as error:
            results.skipped[system] = f"warm-up failed: {error}"
            del targets[system]
        time.sleep(SETTLE_AFTER.get(system, 0.0))
    # Rounds, each interleaved (every system at c=1, then at c=8, ...), so a change in the machine's load
    # (it is shared) hits all systems alike; each point reports its median round.
    runs: dict[tuple[str, int], list[LoadResult]] = {}
    for round_index in range(plan.rounds):
        for concurrency in CONCURRENCIES:
            for system, target in targets.items():
                slow = system in SLOW_SYSTEMS
                if slow and round_index > 0:
                    continue
                try:
                    result = wrk.run(wrk_path, lua, target.url, system=system, concurrency=concurrency,
                                     duration_s=plan.slow_duration_s if slow else plan.duration_s,
                                     load_average=round(machine.load_average(), 2), server_cpu=target.cpu_seconds)
                except (RuntimeError, ValueError, OSError) as error:
                    results.skipped[f"{system} c={concurrency} round {round_index + 1}"] = f"wrk failed: {error}"
                    continue
                runs.setdefault((system, concurrency), []).append(result)
                say(f"round {round_index + 1}/{plan.rounds} {system:>12} c={concurrency:<3} "
                    f"{result.ok_per_second:>10,.1f} req/s  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  "
                    f"errors {result.non_2xx + sum(result.socket_errors.values())}")
                time.sleep(SETTLE_AFTER.get(system, 0.0))
    results.load = [wrk.median_round(point) for point in runs.values()]
    during = [r.load_average for point in runs.values() for r in point if r.load_average is not None]
    if during:
        results.conditions["1-min load average at the start of each wrk run (ours included: server + wrk)"] = (
            f"{min(during):.2f} to {max(during):.2f}")


def run_redis(plan: Plan, work_dir: Path, wrk_path: str | None, lua: Path, results: report.Results) -> None:
    say("redis: the gateway's CPU per call with and without Redis")

    def run_wrk(url: str, *, system: str, concurrency: int, duration_s: int,
                server_cpu: Callable[[], float] | None = None) -> LoadResult:
        assert wrk_path is not None
        return wrk.run(wrk_path, lua, url, system=system, concurrency=concurrency, duration_s=duration_s,
                       server_cpu=server_cpu)

    if wrk_path is None:
        results.skipped["redis (over HTTP)"] = "wrk not available: only the in-process measurement ran"
    try:
        results.redis_cost = redis_cost.measure(work_dir, run_wrk if wrk_path else None, plan.redis, say=say)
    except (RedisUnavailable, ServerFailed, GatewayUnavailable, httpx.HTTPError, RuntimeError, OSError) as error:
        results.skipped["redis"] = f"{type(error).__name__}: {error}"


def run_propagation(plan: Plan, work_dir: Path, results: report.Results) -> None:
    say(f"propagation: {plan.propagation_deploys} deploys through one gateway, each watched on another")
    try:
        results.propagation = propagation.measure(work_dir, plan.propagation_deploys, say=say)
    except (RedisUnavailable, ServerFailed, GatewayUnavailable, httpx.HTTPError) as error:
        results.skipped["propagation"] = f"{type(error).__name__}: {error}"


def run_phases(plan: Plan, work_dir: Path, results: report.Results) -> None:
    """benches/phases.py: the gateway's own CPU per call in-process, and one HTTP call's phases (c=1 and c=64)."""
    say("phases: CPU per call through ASGI, then py-spy over wrk at c=1 and c=64")
    try:
        overhead = asyncio.run(phases.asgi_overhead(work_dir / "phases", calls=plan.inprocess_calls * 4))
        tables = [phases.http_phases(work_dir / "phases", seconds=2 * plan.duration_s, concurrency=c) for c in (1, 64)]
    except Exception as error:  # py-spy or wrk missing, or the gateway failed: the reason is reported
        results.skipped["phases"] = f"{type(error).__name__}: {error}"
        return
    results.sections.append({"title": "Where one edge call's microseconds go (`python -m benches.phases`)",
                             "markdown": phases.markdown(overhead, tables),
                             "data": {"asgi": overhead.to_dict(), "http": [t.to_dict() for t in tables]}})


def run_hog_victim(plan: Plan, work_dir: Path, results: report.Results) -> None:
    """benches/hog_victim.py: a victim tenant's hello latency, alone and beside a hog at its concurrency cap."""
    say("hog and victim: the victim's latency alone, then beside a CPU-heavy hog tenant")
    try:
        measured = hog_victim.measure(work_dir / "hog-victim", seconds=plan.duration_s + 2)
    except Exception as error:  # as for phases
        results.skipped["hog"] = f"{type(error).__name__}: {error}"
        return
    results.sections.append({"title": "A hog tenant beside a victim tenant (`python -m benches.hog_victim`)",
                             "markdown": hog_victim.markdown(measured), "data": measured.to_dict()})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        plan = dataclasses.replace(plan, rounds=max(1, args.rounds))
    signal.signal(signal.SIGTERM, _terminate)
    started_at = time.monotonic()
    out_dir: Path = args.out
    log_dir = out_dir / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    work_dir = Path(tempfile.mkdtemp(prefix="wasmtask-bench-"))
    say("sampling the machine's background load (1 s)")
    load_before = tuple(round(value, 2) for value in os.getloadavg())
    busy_before = machine.busy_fraction(1.0)
    results = report.Results(
        started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        machine={},
        conditions={
            "mode": "quick" if args.quick else "full",
            "load average before (1/5/15 min)": " / ".join(f"{v:.2f}" for v in load_before),
            "CPU busy before start (1 s sample, all CPUs)": f"{busy_before:.0%}",
        },
    )
    try:
        if "inprocess" in args.only:
            run_inprocess(plan, results)
        if "micro" in args.only:
            run_micro(plan, results)
        wrk_path: str | None = None
        if any(scenario in args.only for scenario in ("http", "peers", "redis")):
            try:
                wrk_path = wrk.find_wrk()
            except wrk.WrkMissing as error:  # redis: the in-process measurement still runs (run_redis says so)
                for scenario in ("http", "peers"):
                    if scenario in args.only:
                        results.skipped[scenario] = str(error)
        if wrk_path:
            results.conditions.update({
                "wrk": f"{plan.rounds} interleaved round(s) of {plan.duration_s} s per point, median round shown "
                       f"({', '.join(sorted(SLOW_SYSTEMS))}: 1 round of {plan.slow_duration_s} s); "
                       f"{wrk.WRK_THREADS} thread, timeout {wrk.WRK_TIMEOUT}, warm-up {plan.warmup_s} s "
                       f"at c={WARMUP_CONCURRENCY} per system",
            })
        hello_js = work_dir / "hello.js"
        hello_js.write_text(inprocess.SCENARIOS["workers-hello"][0] + "\n")
        targets: dict[str, Target] = {}
        lua = wrk.write_lua(work_dir)
        with contextlib.ExitStack() as stack:
            if "deploy" in args.only or ("http" in args.only and wrk_path):
                results.conditions["gateway"] = gateway_settings()
                results.conditions["gateway uvicorn call (bare Starlette mirrors it)"] = f"`{uvicorn_call()}`"
                start_gateway(stack, work_dir, plan, args.only, results, targets)
            if wrk_path and ("peers" in args.only or "http" in args.only):
                start_peers(stack, work_dir, hello_js, ALL_PEERS if "peers" in args.only else HTTP_BASELINES,
                            results, targets)
            if wrk_path and targets:
                results.conditions["CPU accounting"] = (
                    "per wrk run, user + system CPU seconds of each server's process group from /proc "
                    "(uvicorn's supervisor and workers; wasmtask N workers: plus its redis-server) and of wrk "
                    "(RUSAGE_CHILDREN); nothing pinned: servers and wrk share the machine's CPUs")
                run_load(wrk_path, lua, plan, targets, results)
        # After the HTTP servers are stopped: these start their own and measure CPU, which the others would share.
        if "redis" in args.only:
            run_redis(plan, work_dir, wrk_path, lua, results)
        if "propagation" in args.only:
            run_propagation(plan, work_dir, results)
        if "phases" in args.only:
            run_phases(plan, work_dir, results)
        if "hog" in args.only:
            run_hog_victim(plan, work_dir, results)
        # Keep the servers' logs with the results (before the work dir goes).
        log_dir.mkdir(parents=True, exist_ok=True)
        for log in work_dir.glob("*.log"):
            shutil.copy(log, log_dir / log.name)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    node = peers.node_binary()
    workerd_path = peers.NODE_PREFIX / "node_modules" / ".bin" / "workerd"
    results.machine = machine.describe(node, str(workerd_path) if workerd_path.exists() else None, shutil.which("wrk"))
    results.conditions["load average after (1/5/15 min)"] = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    results.conditions["run took"] = f"{time.monotonic() - started_at:.0f} s"
    paths = report.write(results, out_dir)
    try:
        pictures = plots.write(results.load, out_dir)
    except plots.PlotsUnavailable as error:
        pictures = []
        say(f"no plots: {error}")
    print(report.markdown(results))
    say("wrote " + ", ".join(str(p) for p in [*paths.values(), *pictures]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

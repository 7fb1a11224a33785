"""`python -m benches.density`: many functions on one host (issue 14).

Deploys N distinct JavaScript functions (default 1,000; ``--functions 10000``)
into one `wasmtask serve` (benches/gateway_server.py), then calls them over
HTTP from one client on this machine: round-robin over all of them (twice: the
second pass is the steady state), then at random. Then restarts the gateway
over the same data dir and times the first call of functions it has not seen
since the restart. Reports deploy time per function, call p50/p99, RSS per
worker, disk per function (the data dir: registry and prepared artifacts), and
the first call after a restart. Not part of ``make bench`` (N deploys take minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benches.gateway_server import GatewayUnderTest
from benches.measure import percentile

DEFAULT_FUNCTIONS = 1000
RESTART_SAMPLE = 200  # first calls after the restart, each of a different function


def hello_source(index: int) -> str:
    """A Workers hello, distinct per function (its own constant: a distinct snapshot)."""
    return (f"const greeting = 'hello from function {index}';\n"
            "export default { fetch(request) { return new Response(greeting); } };\n")


def function_name(index: int) -> str:
    return f"f{index:05d}"


@dataclass
class Latencies:
    """Client round trips in ms."""

    values: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | None]:
        ordered = sorted(self.values)
        if not ordered:
            return {"count": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None}
        return {"count": len(ordered), "p50_ms": round(percentile(ordered, 0.50), 3),
                "p99_ms": round(percentile(ordered, 0.99), 3), "mean_ms": round(statistics.fmean(ordered), 3)}


def rss_kib(pid: int) -> int:
    """Resident set of one process (VmRSS), KiB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_pids(leader: int) -> list[int]:
    """The processes of the server's process group (with one worker: the server itself)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == leader:  # pgrp
            pids.append(int(entry.name))
    return sorted(pids)


def worker_rss_mib(leader: int) -> float:
    """The largest RSS among the group's processes (the worker's, with --workers 1), MiB."""
    return round(max((rss_kib(pid) for pid in group_pids(leader)), default=0) / 1024, 1)


def disk_bytes(directory: Path) -> dict[str, int]:
    """Bytes allocated under ``directory``, by top-level entry (files' blocks, not apparent sizes)."""
    sizes: dict[str, int] = {}
    for root, _, files in os.walk(directory):
        top = Path(root).relative_to(directory).parts
        label = top[0] if top else "(top)"
        for name in files:
            try:
                sizes[label] = sizes.get(label, 0) + os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return sizes


def timed(gateway: GatewayUnderTest, name: str, into: Latencies) -> None:
    into.values.append(gateway.call(name))


def run(functions: int, random_calls: int, restart_sample: int, work_dir: Path) -> dict[str, object]:
    admin_key = secrets.token_urlsafe(24)
    data_dir = work_dir / "data"
    names = [function_name(i) for i in range(functions)]
    result: dict[str, object] = {"functions": functions}
    with GatewayUnderTest(work_dir, data_dir=data_dir, admin_key=admin_key) as gateway:
        result["rss_idle_mib"] = worker_rss_mib(gateway.pid)
        deploy_ms: list[float] = []
        prepare_ms: list[float] = []
        started = time.perf_counter()
        for index, name in enumerate(names):
            elapsed, prepared = gateway.deploy(name, hello_source(index))
            deploy_ms.append(elapsed)
            if prepared is not None:
                prepare_ms.append(prepared)
            if (index + 1) % 500 == 0:
                print(f"  deployed {index + 1}/{functions} ({time.perf_counter() - started:.0f} s)",
                      file=sys.stderr, flush=True)
        result["deploy"] = {"total_s": round(time.perf_counter() - started, 1),
                            "per_function": Latencies(deploy_ms).summary(),
                            "prepare": Latencies(prepare_ms).summary()}
        result["rss_after_deploys_mib"] = worker_rss_mib(gateway.pid)
        check = gateway.answer(names[-1])
        if check != f"hello from function {functions - 1}":
            raise RuntimeError(f"unexpected answer from {names[-1]}: {check[:200]!r}")
        first_pass, second_pass, at_random, one = Latencies(), Latencies(), Latencies(), Latencies()
        for _ in range(min(functions, 500)):  # the floor: every call a hit, the slot's image already mapped
            timed(gateway, names[0], one)
        for name in names:
            timed(gateway, name, first_pass)
        for name in names:
            timed(gateway, name, second_pass)
        chooser = random.Random(14)
        for _ in range(random_calls):
            timed(gateway, chooser.choice(names), at_random)
        result["calls"] = {"one_function": one.summary(), "round_robin_first_pass": first_pass.summary(),
                           "round_robin_second_pass": second_pass.summary(),
                           "random": at_random.summary()}
        result["rss_after_calls_mib"] = worker_rss_mib(gateway.pid)
    disk = disk_bytes(data_dir)
    result["disk"] = {"bytes_by_entry": disk, "total_bytes": sum(disk.values()),
                      "per_function_kib": round(sum(disk.values()) / functions / 1024, 1)}
    restarted = Latencies()
    with GatewayUnderTest(work_dir, name="wasmtask-restarted", data_dir=data_dir, admin_key=admin_key,
                          create_tenant=False) as gateway:
        result["rss_idle_after_restart_mib"] = worker_rss_mib(gateway.pid)
        for name in random.Random(41).sample(names, min(restart_sample, functions)):
            timed(gateway, name, restarted)
        result["first_call_after_restart"] = restarted.summary()
        result["rss_after_restart_calls_mib"] = worker_rss_mib(gateway.pid)
    return result


def markdown(result: dict[str, object]) -> str:
    calls: dict[str, dict[str, object]] = result["calls"]  # type: ignore[assignment]  # JSON built above
    deploy: dict[str, dict[str, object]] = result["deploy"]  # type: ignore[assignment]
    disk: dict[str, object] = result["disk"]  # type: ignore[assignment]
    first: dict[str, object] = result["first_call_after_restart"]  # type: ignore[assignment]
    rows = [
        ("deploy, client round trip", deploy["per_function"]),
        ("deploy, the gateway's prepare_ms", deploy["prepare"]),
        ("call, one function over and over (the floor)", calls["one_function"]),
        ("call, round-robin, first pass", calls["round_robin_first_pass"]),
        ("call, round-robin, second pass", calls["round_robin_second_pass"]),
        ("call, at random", calls["random"]),
        ("first call of a function after a restart", first),
    ]
    lines = [f"### Density: {result['functions']:,} functions, one worker", "",
             "| what | count | p50 ms | p99 ms | mean ms |", "|---|---:|---:|---:|---:|"]
    for label, summary in rows:
        lines.append(f"| {label} | {summary['count']} | {summary['p50_ms']} | {summary['p99_ms']} "
                     f"| {summary['mean_ms']} |")
    lines += ["", f"- RSS of the worker: idle {result['rss_idle_mib']} MiB, after the deploys "
              f"{result['rss_after_deploys_mib']} MiB, after the calls {result['rss_after_calls_mib']} MiB; "
              f"after a restart idle {result['rss_idle_after_restart_mib']} MiB, after "
              f"{first['count']} first calls {result['rss_after_restart_calls_mib']} MiB",
              f"- Disk: {disk['per_function_kib']} KiB per function ({disk['bytes_by_entry']})",
              f"- Deploying all: {deploy['total_s']} s"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benches.density", description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=DEFAULT_FUNCTIONS, help="distinct functions to deploy")
    parser.add_argument("--random-calls", type=int, default=None, help="calls at random (default: 2 x functions)")
    parser.add_argument("--restart-sample", type=int, default=RESTART_SAMPLE,
                        help="functions first called after the restart")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (data dir and logs)")
    args = parser.parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="wasmtask-density-"))
    try:
        result = run(args.functions, args.random_calls if args.random_calls is not None else 2 * args.functions,
                     args.restart_sample, work_dir)
    finally:
        if args.keep:
            print(f"work dir kept: {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    print(markdown(result))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

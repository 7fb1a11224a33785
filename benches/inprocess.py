"""In-process cost per call, by phase: a fresh Store per call, no HTTP (measured by benches/measure.py).

A call's time is what the caller waits for: ``isolates.run`` until it returns
its result. The Store is dropped after that (``run``'s ``release``, as the
gateway does once the response is on its way): that drop, the pooling slot's
reset, is timed on its own as the "close" phase.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from benches.measure import Sample, StopRule, run_until_stable, summarise
from host_api.request import guest_request
from isolates import CallSpec, IsolateError, Limits, Program, prepare
from isolates import run as run_call

SCENARIOS: dict[str, tuple[str, dict[str, object]]] = {
    "hello-world": ('return function (cb) { cb(null, "Hello, world"); }', {}),
    "json-transform": (
        """module.exports = function (ctx, cb) {
  const items = ctx.body.items.map((item) =>
    ({ id: item.id, name: item.name.toUpperCase(), total: item.price * item.qty }));
  cb(null, { count: items.length, sum: items.reduce((a, b) => a + b.total, 0), items });
};""",
        {
            "method": "POST",
            "headers": [("content-type", "application/json")],
            "body": (
                b'{"items": ['
                + b",".join(b'{"id": %d, "name": "item-%d", "price": %d.5, "qty": %d}' % (i, i, i, i % 7)
                            for i in range(50))
                + b"]}"
            ),
        },
    ),
    "cpu-heavy": (
        """module.exports = function (cb) {
  let n = 0; for (let i = 0; i < 200000; i++) { n = (n * 31 + i) % 1000003; }
  cb(null, n);
};""",
        {},
    ),
    "workers-hello": ('export default { fetch() { return new Response("Hello, world"); } };', {}),
}


@dataclass
class InProcessRow:
    scenario: str
    calls: int
    median_us: float
    p99_us: float
    phases_us: dict[str, float]  # median per phase
    fuel: int


def measure(name: str, calls: int = 2000, warmup: int = 200) -> InProcessRow:
    """``calls`` fresh-isolate calls after ``warmup``, through the measuring core of ``wasmtask bench``."""
    source, request_fields = SCENARIOS[name]
    limits = Limits()
    program = prepare("javascript", source, limits)
    request = guest_request(**request_fields)  # type: ignore[arg-type]
    rule = StopRule(min_runs=calls, max_runs=calls, warmup=warmup, budget_s=math.inf)  # a fixed count
    samples, stop, elapsed = run_until_stable(released_call(program, request, CallSpec(limits=limits)), rule)
    summary = summarise(name, samples, stop, elapsed)
    if summary.errors:
        raise RuntimeError(f"{name}: calls failed: {summary.errors}")
    return InProcessRow(
        scenario=name,
        calls=summary.runs,
        median_us=summary.wall_us["p50"],
        p99_us=summary.wall_us["p99"],
        phases_us=summary.phases_us,
        fuel=int(summary.fuel_median or 0),
    )


def released_call(program: Program, request: dict[str, Any], spec: CallSpec) -> Callable[[], Sample]:
    """One call timed until ``run`` returns; its Store dropped right after, timed as "close"."""
    pending: list[Callable[[], None]] = []

    def call() -> Sample:
        started = time.perf_counter_ns()
        try:
            result = run_call(program, request, spec, release=pending.append)
        except IsolateError as error:
            sample = Sample(wall_us=(time.perf_counter_ns() - started) / 1000, error=error.code)
        else:
            wall_us = (time.perf_counter_ns() - started) / 1000
            body = result.body if result.kind == "response" else orjson.dumps(result.value)
            sample = Sample(wall_us=wall_us, fuel=result.fuel_used, phases_us=dict(result.phases_us),
                            output_bytes=len(body))
        closing = time.perf_counter_ns()
        for close in pending:
            close()
        pending.clear()
        sample.phases_us["close"] = (time.perf_counter_ns() - closing) / 1000
        return sample

    return call


def run(calls: int = 2000) -> list[InProcessRow]:
    return [measure(name, calls=calls) for name in SCENARIOS]


def markdown(rows: list[InProcessRow]) -> str:
    phase_names = ["store", "instantiate", "call", "close"]
    lines = [
        "| scenario | median µs | p99 µs | " + " | ".join(f"{p} µs" for p in phase_names) + " | fuel |",
        "|---|---:|---:|" + "---:|" * len(phase_names) + "---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.median_us:.0f} | {row.p99_us:.0f} | "
            + " | ".join(f"{row.phases_us.get(p, 0):.0f}" for p in phase_names)
            + f" | {row.fuel:,} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))

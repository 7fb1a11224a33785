"""In-process cost per call, by phase: a fresh Store per call, no HTTP."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from host_api.request import guest_request
from isolates import CallSpec, Limits, prepare
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
    source, request_fields = SCENARIOS[name]
    limits = Limits()
    program = prepare("javascript", source, limits)
    request = guest_request(**request_fields)  # type: ignore[arg-type]
    spec = CallSpec(limits=limits)
    totals: list[float] = []
    phases: dict[str, list[float]] = {}
    fuel = 0
    for index in range(warmup + calls):
        started = time.perf_counter_ns()
        result = run_call(program, request, spec)
        elapsed = (time.perf_counter_ns() - started) / 1000
        if index < warmup:
            continue
        totals.append(elapsed)
        fuel = result.fuel_used
        for phase, value in result.phases_us.items():
            phases.setdefault(phase, []).append(value)
    totals.sort()
    return InProcessRow(
        scenario=name,
        calls=calls,
        median_us=statistics.median(totals),
        p99_us=totals[int(len(totals) * 0.99) - 1],
        phases_us={phase: statistics.median(values) for phase, values in phases.items()},
        fuel=fuel,
    )


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

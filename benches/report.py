"""One run's results: the JSON with raw numbers, the ratios, the Markdown tables."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benches import inprocess, micro, propagation, redis_cost
from benches.gateway_server import DeployResult
from benches.peers import label, split_workers, with_workers
from benches.wrk import LoadResult

SUBJECT = "wasmtask"
# wasmtask's HTTP hello throughput over each baseline's, and the target ratio (issue 5).
TARGETS = {"workerd": 1.0, "starlette": 0.5}
SYSTEM_ORDER = ("wasmtask", "starlette", "workerd", "node-vm", "node-spawn")
# Issue 12: N workers over 1 worker, wasmtask (+ Redis) against the floor (bare Starlette), at this concurrency.
SCALING_BASELINE = "starlette"
SCALING_CONCURRENCY = 64


@dataclass
class Results:
    started: str  # ISO time
    machine: dict[str, str]
    conditions: dict[str, object]  # load averages, background CPU, durations, gateway settings
    inprocess: list[inprocess.InProcessRow] = field(default_factory=list)
    load: list[LoadResult] = field(default_factory=list)
    deploy: list[DeployResult] = field(default_factory=list)
    micro: list[micro.Claim] = field(default_factory=list)
    redis_cost: redis_cost.RedisCost | None = None
    propagation: propagation.Propagation | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # system or scenario -> reason
    # scenarios that render themselves (benches/phases.py, benches/hog_victim.py): title, markdown, JSON data
    sections: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "started": self.started,
            "machine": self.machine,
            "conditions": self.conditions,
            "inprocess": [vars(row) for row in self.inprocess],
            "load": [result.to_dict() for result in self.load],
            "deploy": [result.to_dict() for result in self.deploy],
            "micro": [asdict(claim) for claim in self.micro],
            "redis_cost": self.redis_cost.to_dict() if self.redis_cost else None,
            "propagation": self.propagation.to_dict() if self.propagation else None,
            "skipped": self.skipped,
            "sections": self.sections,
            "ratios": {baseline: {str(c): r for c, r in by_c.items()} for baseline, by_c in ratios(self.load).items()},
            "scaling": {with_workers(system, n): {str(c): r for c, r in by_c.items()}
                        for (system, n), by_c in scaling(self.load).items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        """The inverse of ``to_dict`` (``data`` as read back from latest.json)."""
        return cls(
            started=str(data["started"]),
            machine=dict(data["machine"]),
            conditions=dict(data["conditions"]),
            inprocess=[inprocess.InProcessRow(**row) for row in data.get("inprocess", [])],
            load=[LoadResult.from_dict(row) for row in data.get("load", [])],
            deploy=[DeployResult.from_dict(row) for row in data.get("deploy", [])],
            micro=[micro.Claim.from_dict(row) for row in data.get("micro", [])],
            redis_cost=redis_cost.RedisCost.from_dict(data["redis_cost"]) if data.get("redis_cost") else None,
            propagation=propagation.Propagation.from_dict(data["propagation"]) if data.get("propagation") else None,
            skipped=dict(data.get("skipped", {})),
            sections=list(data.get("sections", [])),
        )


def systems(load: list[LoadResult]) -> list[str]:
    """Known systems first (each followed by its several-worker variants, fewest first), then the rest by name."""

    def key(system: str) -> tuple[int, str, int]:
        base, workers = split_workers(system)
        rank = SYSTEM_ORDER.index(base) if base in SYSTEM_ORDER else len(SYSTEM_ORDER)
        return rank, base, workers

    return sorted({result.system for result in load}, key=key)


def concurrencies(load: list[LoadResult]) -> list[int]:
    return sorted({result.concurrency for result in load})


def lookup(load: list[LoadResult], system: str, concurrency: int) -> LoadResult | None:
    return next((r for r in load if r.system == system and r.concurrency == concurrency), None)


def ratios(load: list[LoadResult], subject: str = SUBJECT) -> dict[str, dict[int, float | None]]:
    """For each baseline in TARGETS and each concurrency: subject's ok req/s over the baseline's (None if missing)."""
    table: dict[str, dict[int, float | None]] = {}
    for baseline in TARGETS:
        table[baseline] = {}
        for concurrency in concurrencies(load):
            mine, theirs = lookup(load, subject, concurrency), lookup(load, baseline, concurrency)
            if mine is None or theirs is None or theirs.ok_per_second <= 0:
                table[baseline][concurrency] = None
            else:
                table[baseline][concurrency] = mine.ok_per_second / theirs.ok_per_second
    return table


def scaling(load: list[LoadResult]) -> dict[tuple[str, int], dict[int, float | None]]:
    """For each system run with N > 1 workers: its ok req/s over the same system's with 1 worker, per concurrency."""
    table: dict[tuple[str, int], dict[int, float | None]] = {}
    for system in systems(load):
        base, workers = split_workers(system)
        if workers == 1:
            continue
        by_c: dict[int, float | None] = {}
        for concurrency in concurrencies(load):
            several, one = lookup(load, system, concurrency), lookup(load, base, concurrency)
            by_c[concurrency] = (several.ok_per_second / one.ok_per_second
                                 if several and one and one.ok_per_second > 0 else None)
        table[(base, workers)] = by_c
    return table


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _errors(result: LoadResult) -> str:
    parts = [f"{result.non_2xx} non-2xx"] if result.non_2xx else []
    parts += [f"{count} {kind}" for kind, count in result.socket_errors.items()]
    return ", ".join(parts) or "0"


def _throughput(result: LoadResult) -> str:
    """The median round, and the range over the rounds when there were several."""
    rounds = result.rounds_per_second
    if len(rounds) < 2:
        return _number(result.ok_per_second)
    return f"{_number(result.ok_per_second)} ({_number(min(rounds))}–{_number(max(rounds))})"


def throughput_table(load: list[LoadResult]) -> str:
    levels = concurrencies(load)
    lines = ["| system | " + " | ".join(f"c={c} req/s · p99 ms" for c in levels) + " | errors |",
             "|---|" + "---:|" * len(levels) + "---|"]
    for system in systems(load):
        row = [lookup(load, system, c) for c in levels]
        cells = [f"{_throughput(r)} · p99 {_number(r.p99_ms)}" if r else "—" for r in row]
        errors = "; ".join(f"c={r.concurrency}: {_errors(r)}" for r in row if r and _errors(r) != "0") or "0"
        lines.append(f"| {label(system)} | " + " | ".join(cells) + f" | {errors} |")
    return "\n".join(lines)


def latency_table(load: list[LoadResult]) -> str:
    levels = concurrencies(load)
    lines = ["| system | " + " | ".join(f"c={c} p50 / p99 ms" for c in levels) + " |",
             "|---|" + "---:|" * len(levels)]
    for system in systems(load):
        cells = []
        for c in levels:
            r = lookup(load, system, c)
            cells.append(f"{_number(r.p50_ms)} / {_number(r.p99_ms)}" if r else "—")
        lines.append(f"| {label(system)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_table(load: list[LoadResult]) -> str:
    """Server CPU per request, and how busy the machine's cores were with the server and wrk together."""
    if not any(result.server_cpu_s is not None for result in load):
        return ""
    levels = concurrencies(load)
    lines = ["| system | " + " | ".join(f"c={c} µs CPU per request / cores busy" for c in levels) + " |",
             "|---|" + "---:|" * len(levels)]
    for system in systems(load):
        cells = []
        for c in levels:
            r = lookup(load, system, c)
            per_request, busy = (r.server_cpu_us_per_request, r.cores_busy) if r else (None, None)
            cells.append("—" if per_request is None else
                         f"{_number(per_request)} / {'—' if busy is None else f'{busy:.2f}'}")
        lines.append(f"| {label(system)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def round_ratios(load: list[LoadResult], system: str, baseline: str, concurrency: int) -> list[float]:
    """``system`` over ``baseline`` round by round (rounds are interleaved: each pair ran seconds apart)."""
    mine, theirs = lookup(load, system, concurrency), lookup(load, baseline, concurrency)
    if not mine or not theirs or len(mine.rounds_per_second) != len(theirs.rounds_per_second):
        return []
    return [a / b for a, b in zip(mine.rounds_per_second, theirs.rounds_per_second, strict=True) if b > 0]


def scaling_table(load: list[LoadResult]) -> str:
    """N workers over 1, per system and concurrency, and issue 12's target at SCALING_CONCURRENCY."""
    table = scaling(load)
    if not table:
        return ""
    levels = concurrencies(load)
    lines = ["| N workers over 1 worker: req/s of the median rounds (median of the per-round ratios; range) | "
             + " | ".join(f"c={c}" for c in levels) + " |",
             "|---|" + "---:|" * len(levels)]
    for (base, workers), by_c in table.items():
        cells = []
        for c in levels:
            if by_c.get(c) is None:
                cells.append("—")
                continue
            paired = round_ratios(load, with_workers(base, workers), base, c)
            spread = (f" ({statistics.median(paired):.2f}x; {min(paired):.2f}–{max(paired):.2f}x)"
                      if len(paired) > 1 else "")
            cells.append(f"{by_c[c]:.2f}x{spread}")
        lines.append(f"| {label(with_workers(base, workers))} / 1 worker | " + " | ".join(cells) + " |")
    verdicts = []
    for (base, workers), by_c in table.items():
        if base != SUBJECT:
            continue
        mine, floor = by_c.get(SCALING_CONCURRENCY), table.get((SCALING_BASELINE, workers), {}).get(SCALING_CONCURRENCY)
        if mine is None or floor is None:
            verdicts.append(f"{workers} workers: n/a (a system is missing)")
        else:
            verdicts.append(f"{workers} workers: wasmtask {mine:.2f}x against bare Starlette {floor:.2f}x "
                            f"({'met' if mine >= floor else 'missed'})")
    if verdicts:
        lines += ["", f"Target (issue 12): wasmtask N workers + Redis scale at least as well as bare Starlette, "
                      f"c={SCALING_CONCURRENCY}: " + "; ".join(verdicts) + "."]
    return "\n".join(lines)


def ratio_table(load: list[LoadResult], skipped: dict[str, str]) -> str:
    """wasmtask over each baseline of TARGETS; wasmtask with N workers over workerd and over Starlette with N."""
    levels = concurrencies(load)
    lines = ["| req/s of | over | target | " + " | ".join(f"c={c}" for c in levels) + " |",
             "|---|---|---:|" + "---:|" * len(levels)]
    several = sorted({split_workers(s)[1] for s in systems(load) if split_workers(s)[0] == SUBJECT} - {1})
    for workers in (1, *several):
        subject = with_workers(SUBJECT, workers)
        for baseline, target in TARGETS.items():
            # workerd is one process serving every core already; Starlette is compared worker for worker
            baseline_system = baseline if baseline == "workerd" else with_workers(baseline, workers)
            cells = []
            for c in levels:
                mine, theirs = lookup(load, subject, c), lookup(load, baseline_system, c)
                if mine is None or theirs is None or theirs.ok_per_second <= 0:
                    missing = subject if mine is None else baseline_system
                    was_skipped = any(key == missing or key.startswith(missing + " ") for key in skipped)
                    cells.append(f"n/a ({missing} {'skipped' if was_skipped else 'not run'})")
                else:
                    ratio = mine.ok_per_second / theirs.ok_per_second
                    cells.append(f"{ratio:.2f}x {'(met)' if ratio >= target else '(missed)'}")
            lines.append(f"| {label(subject)} | {label(baseline_system)} | >= {target:.1f}x | " + " | ".join(cells)
                         + " |")
    return "\n".join(lines)


def deploy_table(deploys: list[DeployResult]) -> str:
    lines = ["| scenario | deploys | first deploy ms | median deploy ms | median prepare ms (server) "
             "| median first call ms | median second call ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for result in deploys:
        if not result.timings:
            continue

        def cell(name: str, result: DeployResult = result) -> str:
            value = result.median(name)
            return "—" if value is None else _number(value)

        lines.append(f"| {result.scenario} | {len(result.timings)} | {_number(result.timings[0].deploy_ms)} | "
                     f"{cell('deploy_ms')} | {cell('prepare_ms')} | {cell('first_call_ms')} | "
                     f"{cell('second_call_ms')} |")
    return "\n".join(lines)


def markdown(results: Results) -> str:
    machine = results.machine
    conditions = results.conditions
    out = [
        f"# wasmtask benchmarks, {results.started}",
        "",
        f"Machine: {machine.get('nproc')} CPUs ({machine.get('cpu')}), kernel {machine.get('kernel')}; "
        f"Python {machine.get('python')}, wasmtime {machine.get('wasmtime')}, starlette {machine.get('starlette')}, "
        f"uvicorn {machine.get('uvicorn')}, node {machine.get('node')}, {machine.get('workerd')}, "
        f"{machine.get('wrk')}.",
        "",
        "Conditions:",
        "",
        *(f"- {key}: {value}" for key, value in conditions.items()),
    ]
    if results.load:
        out += [
            "",
            "## HTTP hello-world: throughput (2xx responses per second; median round, range of rounds)",
            "",
            "Same Workers module everywhere (`export default { fetch() { return new Response(\"Hello, world\") } }`), "
            "GET over keep-alive connections from wrk on the same machine.",
            "",
            throughput_table(results.load),
            "",
            "## HTTP hello-world: latency (of the median round)",
            "",
            latency_table(results.load),
            "",
            "## wasmtask against its targets (throughput ratios)",
            "",
            ratio_table(results.load, results.skipped),
        ]
        scaled = scaling_table(results.load)
        if scaled:
            out += ["", "## Several workers: N workers over 1 (throughput ratios, same run)", "", scaled]
        cpu = cpu_table(results.load)
        if cpu:
            out += ["", "## Server CPU per request, and cores busy (server + wrk; of the median round)", "",
                    "Server: user + system CPU of its process group (supervisor, workers; wasmtask N workers: "
                    "with its redis-server) over the run, per request wrk counted. Cores busy: server and wrk CPU "
                    "over the run's wall time.", "", cpu]
    if results.deploy:
        out += ["", "## Deploy (cold) and the first call after it, through the gateway", "",
                deploy_table(results.deploy)]
    if results.redis_cost:
        out += ["", "## What Redis costs a call: the gateway's CPU with and without `WASMTASK_REDIS_URL` (one worker)",
                "", redis_cost.markdown(results.redis_cost)]
    if results.propagation:
        out += ["", "## A deploy through one gateway, served by another (shared data dir and Redis)", "",
                "Delay from the deploy's answer on A to B's first answer with the new version.", "",
                propagation.markdown(results.propagation)]
    if results.inprocess:
        out += ["", "## In-process cost per call by phase (fresh Store per call, no HTTP; medians, µs)", "",
                inprocess.markdown(results.inprocess)]
    if results.micro:
        out += ["", "## Why the hot path is shaped this way (`python -m benches.micro`; medians)", "",
                micro.markdown(micro.MicroResults(results.micro))]
    for section in results.sections:
        out += ["", f"## {section['title']}", "", str(section["markdown"])]
    if results.skipped:
        out += ["", "## Skipped", ""]
        for name, reason in results.skipped.items():
            first, _, rest = reason.partition("\n")
            out.append(f"- {name}: {first}")
            if rest.strip():
                out += ["", "  ```", *(f"  {line}" for line in rest.splitlines()), "  ```"]
    return "\n".join(out) + "\n"


def write(results: Results, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "latest.json", "markdown": out_dir / "latest.md"}
    paths["json"].write_text(json.dumps(results.to_dict(), indent=2, ensure_ascii=False) + "\n")
    paths["markdown"].write_text(markdown(results))
    return paths

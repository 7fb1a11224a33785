"""One run's results: the JSON with raw numbers, the ratios, the Markdown tables."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benches import inprocess, micro
from benches.gateway_server import DeployResult
from benches.peers import LABELS
from benches.wrk import LoadResult

SUBJECT = "wasmtask"
# wasmtask's HTTP hello throughput over each baseline's, and the target ratio (issue 5).
TARGETS = {"workerd": 1.0, "starlette": 0.5}
SYSTEM_ORDER = ("wasmtask", "starlette", "workerd", "node-vm", "node-spawn")


@dataclass
class Results:
    started: str  # ISO time
    machine: dict[str, str]
    conditions: dict[str, object]  # load averages, background CPU, durations, gateway settings
    inprocess: list[inprocess.InProcessRow] = field(default_factory=list)
    load: list[LoadResult] = field(default_factory=list)
    deploy: list[DeployResult] = field(default_factory=list)
    micro: list[micro.Claim] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # system or scenario -> reason

    def to_dict(self) -> dict[str, object]:
        return {
            "started": self.started,
            "machine": self.machine,
            "conditions": self.conditions,
            "inprocess": [vars(row) for row in self.inprocess],
            "load": [result.to_dict() for result in self.load],
            "deploy": [result.to_dict() for result in self.deploy],
            "micro": [asdict(claim) for claim in self.micro],
            "skipped": self.skipped,
            "ratios": {baseline: {str(c): r for c, r in by_c.items()} for baseline, by_c in ratios(self.load).items()},
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
            skipped=dict(data.get("skipped", {})),
        )


def systems(load: list[LoadResult]) -> list[str]:
    present = {result.system for result in load}
    return [s for s in SYSTEM_ORDER if s in present] + sorted(present - set(SYSTEM_ORDER))


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
    lines = ["| system | " + " | ".join(f"c={c} req/s" for c in levels) + " | errors |",
             "|---|" + "---:|" * len(levels) + "---|"]
    for system in systems(load):
        row = [lookup(load, system, c) for c in levels]
        cells = [_throughput(r) if r else "—" for r in row]
        errors = "; ".join(f"c={r.concurrency}: {_errors(r)}" for r in row if r and _errors(r) != "0") or "0"
        lines.append(f"| {LABELS.get(system, system)} | " + " | ".join(cells) + f" | {errors} |")
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
        lines.append(f"| {LABELS.get(system, system)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_table(load: list[LoadResult], skipped: dict[str, str]) -> str:
    table = ratios(load)
    levels = concurrencies(load)
    lines = ["| wasmtask req/s over | target | " + " | ".join(f"c={c}" for c in levels) + " |",
             "|---|---:|" + "---:|" * len(levels)]
    for baseline, target in TARGETS.items():
        cells = []
        for c in levels:
            ratio = table[baseline].get(c)
            if ratio is None:
                missing = SUBJECT if lookup(load, SUBJECT, c) is None else baseline
                was_skipped = any(key == missing or key.startswith(missing + " ") for key in skipped)
                cells.append(f"n/a ({missing} {'skipped' if was_skipped else 'not run'})")
            else:
                cells.append(f"{ratio:.2f}x {'(met)' if ratio >= target else '(missed)'}")
        lines.append(f"| {LABELS.get(baseline, baseline)} | >= {target:.1f}x | " + " | ".join(cells) + " |")
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
    if results.deploy:
        out += ["", "## Deploy (cold) and the first call after it, through the gateway", "",
                deploy_table(results.deploy)]
    if results.inprocess:
        out += ["", "## In-process cost per call by phase (fresh Store per call, no HTTP; medians, µs)", "",
                inprocess.markdown(results.inprocess)]
    if results.micro:
        out += ["", "## Why the hot path is shaped this way (`python -m benches.micro`; medians)", "",
                micro.markdown(micro.MicroResults(results.micro))]
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

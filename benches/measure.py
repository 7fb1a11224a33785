"""The measuring core: call a prepared function until its median is known, then summarise.

One core for ``wasmtask bench`` (gateway/cli/bench.py) and the platform's own
``benches/inprocess.py``. Each call is a fresh isolate (``isolates.run``), as on
the request path.

Stopping rule: after ``min_runs`` calls, stop as soon as the distribution-free
95% confidence interval of the median wall time (order statistics n/2 ± 0.98·√n,
the binomial interval) is within ``precision`` of the median on both sides, or
when ``budget_s`` or ``max_runs`` is reached (``stop`` says which).

Units: wall times and phases in microseconds; fuel in wasmtime fuel units
(deterministic: a function doing the same work uses the same fuel on every run
and machine; host calls and fetch waits cost no fuel); sizes in bytes.

Peak linear memory is ``InvokeResult.memory_bytes``: the module's memory at the
end of the call, which is its peak since a Wasm memory never shrinks (initial
pages, or the snapshot's, plus every ``memory.grow``). Components (Python guests)
have none (``peak_memory_bytes`` is ``None`` with the reason).
"""

from __future__ import annotations

import bisect
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

PEAK_MEMORY_UNAVAILABLE = "not measured for components (Python guests): only core modules expose their memory"
SCHEMA = "wasmtask-bench/1"


@dataclass
class Sample:
    """One call: its wall time, its phases, and what it used (``error`` is the IsolateError code, if any)."""

    wall_us: float
    fuel: int | None = None
    phases_us: dict[str, float] = field(default_factory=dict)
    output_bytes: int = 0
    log_bytes: int = 0
    error: str | None = None
    memory_bytes: int | None = None  # linear memory at the end of the call: its peak


@dataclass(frozen=True)
class StopRule:
    """When to stop calling: ``precision`` is the CI half-width as a fraction of the median (0.02 = 2%)."""

    precision: float = 0.02
    budget_s: float = 10.0
    min_runs: int = 20
    max_runs: int = 100_000
    warmup: int = 5


@dataclass
class Summary:
    """What ``measure`` found for one function (``to_dict`` is its JSON)."""

    name: str
    runs: int
    stop: str  # "converged" | "budget" | "max_runs"
    ci_pct: float | None  # half-width of the median's 95% CI, % of the median
    elapsed_s: float
    fuel_min: int | None
    fuel_median: float | None
    fuel_max: int | None
    wall_us: dict[str, float]  # p50, p90, p99, max, mean
    phases_us: dict[str, float]  # median per phase (store, instantiate, init, call, close)
    output_bytes: float | None  # median
    log_bytes: float | None  # median
    errors: dict[str, int]
    language: str = ""
    wall_samples_us: list[float] = field(default_factory=list, repr=False)  # in call order; not in the JSON
    memory_min: int | None = None  # peak linear memory per call, bytes
    memory_median: float | None = None
    memory_max: int | None = None

    @property
    def fuel_constant(self) -> bool:
        return self.fuel_min is not None and self.fuel_min == self.fuel_max

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "runs": self.runs,
            "stop": self.stop,
            "ci_pct": self.ci_pct,
            "elapsed_s": round(self.elapsed_s, 3),
            "fuel": {"min": self.fuel_min, "median": self.fuel_median, "max": self.fuel_max,
                     "constant": self.fuel_constant},
            "wall_us": self.wall_us,
            "instantiate_us": self.phases_us.get("instantiate"),
            "reset_us": self.phases_us.get("close"),
            "phases_us": self.phases_us,
            "peak_memory_bytes": None if self.memory_min is None else {
                "min": self.memory_min, "median": self.memory_median, "max": self.memory_max},
            **({"peak_memory_note": PEAK_MEMORY_UNAVAILABLE} if self.memory_min is None and self.fuel_min is not None
               else {}),
            "output_bytes": self.output_bytes,
            "log_bytes": self.log_bytes,
            "errors": self.errors,
        }


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (``fraction`` 0.99 for p99)."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median_ci_pct(ordered: Sequence[float]) -> float | None:
    """Half-width of the median's 95% confidence interval (order statistics), as % of the median."""
    n = len(ordered)
    spread = 0.98 * math.sqrt(n)  # 1.96 * sqrt(n) / 2
    low, high = math.floor(n / 2 - spread), math.ceil(n / 2 + spread)
    if low < 0 or high >= n:
        return None  # too few runs for an interval
    median = statistics.median(ordered)
    if median <= 0:
        return None
    return 100 * max(median - ordered[low], ordered[high] - median) / median


def run_until_stable(call: Callable[[], Sample], rule: StopRule) -> tuple[list[Sample], str, float]:
    """Call (after ``rule.warmup`` discarded calls) until the rule says stop: the samples, why, seconds."""
    for _ in range(rule.warmup):
        call()
    samples: list[Sample] = []
    ordered: list[float] = []
    started = time.perf_counter()
    while True:
        sample = call()
        samples.append(sample)
        bisect.insort(ordered, sample.wall_us)
        elapsed = time.perf_counter() - started
        if len(samples) >= rule.min_runs:
            ci = median_ci_pct(ordered)
            if ci is not None and ci <= rule.precision * 100:
                return samples, "converged", elapsed
        if len(samples) >= rule.max_runs:
            return samples, "max_runs", elapsed
        if elapsed >= rule.budget_s:
            return samples, "budget", elapsed


def summarise(name: str, samples: list[Sample], stop: str, elapsed_s: float, language: str = "") -> Summary:
    ordered = sorted(sample.wall_us for sample in samples)
    good = [sample for sample in samples if sample.error is None]
    fuel = sorted(sample.fuel for sample in good if sample.fuel is not None)
    memory = sorted(sample.memory_bytes for sample in good if sample.memory_bytes is not None)
    phases: dict[str, list[float]] = {}
    for sample in good:
        for phase, value in sample.phases_us.items():
            phases.setdefault(phase, []).append(value)
    return Summary(
        name=name,
        language=language,
        runs=len(samples),
        stop=stop,
        ci_pct=_round(median_ci_pct(ordered)),
        elapsed_s=elapsed_s,
        fuel_min=fuel[0] if fuel else None,
        fuel_median=statistics.median(fuel) if fuel else None,
        fuel_max=fuel[-1] if fuel else None,
        wall_us={"p50": round(statistics.median(ordered), 1), "p90": round(percentile(ordered, 0.90), 1),
                 "p99": round(percentile(ordered, 0.99), 1), "max": round(ordered[-1], 1),
                 "mean": round(statistics.fmean(ordered), 1)},
        phases_us={phase: round(statistics.median(values), 1) for phase, values in phases.items()},
        output_bytes=statistics.median(s.output_bytes for s in good) if good else None,
        log_bytes=statistics.median(s.log_bytes for s in good) if good else None,
        errors=dict(Counter(sample.error for sample in samples if sample.error is not None)),
        wall_samples_us=[sample.wall_us for sample in samples],
        memory_min=memory[0] if memory else None,
        memory_median=statistics.median(memory) if memory else None,
        memory_max=memory[-1] if memory else None,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- calling isolates -------------------------------------------------------------------------------------------


def isolate_call(program: Any, requests: Sequence[dict[str, Any]], spec: Any) -> Callable[[], Sample]:
    """One fresh-isolate call per invocation, cycling through ``requests``; errors are samples, not exceptions."""
    from isolates import IsolateError
    from isolates import run as run_call

    position = 0

    def call() -> Sample:
        nonlocal position
        request = requests[position % len(requests)]
        position += 1
        started = time.perf_counter_ns()
        try:
            result = run_call(program, request, spec)
        except IsolateError as error:
            return Sample(wall_us=(time.perf_counter_ns() - started) / 1000, error=error.code,
                          log_bytes=sum(len(record.msg.encode()) for record in error.logs))
        return result_sample(result, (time.perf_counter_ns() - started) / 1000)

    return call


def result_sample(result: Any, wall_us: float) -> Sample:
    """The Sample of a successful call's ``InvokeResult`` that took ``wall_us``."""
    body = result.body if result.kind == "response" else orjson.dumps(result.value)
    return Sample(wall_us=wall_us, fuel=result.fuel_used, phases_us=dict(result.phases_us),
                  output_bytes=len(body), log_bytes=sum(len(record.msg.encode()) for record in result.logs),
                  memory_bytes=result.memory_bytes)


def measure(name: str, program: Any, requests: Sequence[dict[str, Any]], spec: Any, rule: StopRule,
            language: str = "") -> Summary:
    """Measure a prepared ``isolates.Program`` with ``requests`` (one or more guest requests) under ``spec``."""
    samples, stop, elapsed = run_until_stable(isolate_call(program, requests, spec), rule)
    return summarise(name, samples, stop, elapsed, language)


# --- reporting ----------------------------------------------------------------------------------------------------


def document(summaries: Sequence[Summary], rule: StopRule) -> dict[str, Any]:
    """The JSON of a run (``--json``; also what ``--compare`` reads back)."""
    first = summaries[0] if summaries else None
    functions = []
    for summary in summaries:
        entry = summary.to_dict()
        if first is not None:
            entry["ratio_to_first"] = {"fuel": _ratio(summary.fuel_median, first.fuel_median),
                                       "p50": _ratio(summary.wall_us["p50"], first.wall_us["p50"])}
        functions.append(entry)
    return {"schema": SCHEMA,
            "rule": {"precision_pct": rule.precision * 100, "budget_s": rule.budget_s, "min_runs": rule.min_runs,
                     "max_runs": rule.max_runs, "warmup": rule.warmup},
            "functions": functions}


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 3)


TABLE_COLUMNS = ("function", "runs", "stop", "CI ±%", "fuel median", "fuel min..max", "fuel ×", "p50 µs", "p90 µs",
                 "p99 µs", "max µs", "p50 ×", "instantiate µs", "reset µs", "peak memory KiB", "output B", "log B",
                 "errors")


def markdown(doc: dict[str, Any]) -> str:
    """The Markdown table of a ``document`` (one row per function; ratios to the first)."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|---|" + "---:|" * (len(TABLE_COLUMNS) - 2) + "---|"]
    for entry in doc["functions"]:
        fuel = entry["fuel"]
        span = "-" if fuel["min"] is None else (
            "constant" if fuel["constant"] else f"{fuel['min']}..{fuel['max']}")
        ratios = entry.get("ratio_to_first", {})
        errors = ", ".join(f"{code}: {count}" for code, count in sorted(entry["errors"].items())) or "0"
        wall = entry["wall_us"]
        cells = [entry["name"], entry["runs"], entry["stop"], _cell(entry["ci_pct"]), _cell(fuel["median"]), span,
                 _cell(ratios.get("fuel")), _cell(wall["p50"]), _cell(wall["p90"]), _cell(wall["p99"]),
                 _cell(wall["max"]), _cell(ratios.get("p50")), _cell(entry["instantiate_us"]),
                 _cell(entry["reset_us"]), _memory_cell(entry["peak_memory_bytes"]), _cell(entry["output_bytes"]),
                 _cell(entry["log_bytes"]), errors]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _memory_cell(memory: dict[str, float] | None) -> str:
    """Peak linear memory in KiB (whole: Wasm pages are 64 KiB): the median, and min..max when calls differ."""
    if memory is None:
        return "-"
    median = _cell(round(memory["median"] / 1024, 1))
    if memory["min"] == memory["max"]:
        return median
    return f"{median} ({_cell(round(memory['min'] / 1024, 1))}..{_cell(round(memory['max'] / 1024, 1))})"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


LOAD_COLUMNS = ("target", "concurrency", "generator", "requests", "ok/s", "p50 ms", "p99 ms", "non-2xx",
                "socket errors")


def load_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of ``wasmtask bench --http``: one row per concurrency (end to end over HTTP)."""
    lines = ["| " + " | ".join(LOAD_COLUMNS) + " |", "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        errors = ", ".join(f"{kind}: {count}" for kind, count in sorted(row["socket_errors"].items())) or "0"
        cells = [row["target"], row["concurrency"], row["generator"], row["requests"], _cell(row["ok_per_second"]),
                 _cell(row["p50_ms"]), _cell(row["p99_ms"]), row["non_2xx"], errors]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


# --- comparing with a baseline ------------------------------------------------------------------------------------


@dataclass
class Change:
    """One function's change against the baseline (fractions: 0.05 = +5%)."""

    name: str
    fuel_change: float | None
    p99_change: float | None
    regressed: list[str]  # "fuel", "p99", "memory", "missing", "errors"
    memory_change: float | None = None  # of the median peak linear memory


def compare(baseline: dict[str, Any], current: dict[str, Any], *, fuel_threshold: float,
            p99_threshold: float, memory_threshold: float = math.inf) -> list[Change]:
    """Each baseline function against the current run: regressed when fuel, p99 or peak memory grew past its
    threshold, when it now fails where it did not, or when it is gone."""
    now = {entry["name"]: entry for entry in current["functions"]}
    changes = []
    for before in baseline["functions"]:
        after = now.get(before["name"])
        if after is None:
            changes.append(Change(before["name"], None, None, ["missing"]))
            continue
        fuel_change = _growth(before["fuel"]["median"], after["fuel"]["median"])
        p99_change = _growth(before["wall_us"]["p99"], after["wall_us"]["p99"])
        memory_change = _growth(_median_memory(before), _median_memory(after))
        regressed = []
        if _exceeds(fuel_change, fuel_threshold):
            regressed.append("fuel")
        if _exceeds(p99_change, p99_threshold):
            regressed.append("p99")
        if _exceeds(memory_change, memory_threshold):
            regressed.append("memory")
        if sum(after["errors"].values()) > 0 and not before["errors"]:
            regressed.append("errors")
        changes.append(Change(before["name"], fuel_change, p99_change, regressed, memory_change))
    return changes


def _exceeds(change: float | None, threshold: float) -> bool:
    """More than ``threshold``; exactly the threshold passes (11 pages over 10 is 10%, not 10.000000000000009%)."""
    return change is not None and change > threshold + 1e-9


def _median_memory(entry: dict[str, Any]) -> float | None:
    memory = entry.get("peak_memory_bytes")
    return memory.get("median") if isinstance(memory, dict) else None


def _growth(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return after / before - 1


def compare_markdown(changes: Sequence[Change]) -> str:
    lines = ["| function | fuel change | p99 change | peak memory change | verdict |", "|---|---:|---:|---:|---|"]
    for change in changes:
        verdict = "regressed: " + ", ".join(change.regressed) if change.regressed else "ok"
        lines.append(f"| {change.name} | {_pct(change.fuel_change)} | {_pct(change.p99_change)} | "
                     f"{_pct(change.memory_change)} | {verdict} |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


# --- plot ---------------------------------------------------------------------------------------------------------


def plot(summaries: Sequence[Summary], path: str) -> str | None:
    """Latency distribution (percentile axis, log latency) and fuel per call, side by side; the reason if not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    figure, (latency, fuel) = plt.subplots(1, 2, figsize=(12, 4.5))
    for summary in summaries:
        ordered = sorted(summary.wall_samples_us)
        if not ordered:
            continue
        fractions = [100 * (index + 1) / len(ordered) for index in range(len(ordered))]
        latency.plot(fractions, ordered, label=summary.name)
    latency.set_yscale("log")
    latency.set_xlabel("percentile")
    latency.set_ylabel("wall time per call (µs)")
    latency.set_title("latency distribution")
    latency.legend()
    names = [summary.name for summary in summaries]
    fuel.bar(names, [summary.fuel_median or 0 for summary in summaries])
    fuel.set_ylabel("fuel per call (median)")
    fuel.set_title("fuel per call")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None

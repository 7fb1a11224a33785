"""PNG plots (matplotlib, Agg): latency distribution per system at the highest concurrency; throughput by
concurrency."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benches.peers import label
from benches.report import concurrencies, lookup, systems
from benches.wrk import LoadResult


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed (pip install -e '.[bench]')."""


def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported here: it is optional, and slow to import)."""
    try:
        import matplotlib
    except ImportError as error:
        raise PlotsUnavailable("matplotlib not installed: pip install -e '.[bench]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def _nines(percentile: float) -> float:
    """x position of a percentile on an HdrHistogram-style axis: 90 -> 1, 99 -> 2, 99.9 -> 3."""
    return -math.log10(max(1e-6, 1 - percentile / 100))


def latency_distribution(load: list[LoadResult], path: Path) -> Path:
    pyplot = _pyplot()
    concurrency = max(concurrencies(load))
    figure, axes = pyplot.subplots(figsize=(8, 5))
    for system in systems(load):
        result = lookup(load, system, concurrency)
        if result is None or not result.curve_ms:
            continue
        points = [(p, ms) for p, ms in result.curve_ms if p < 100 and ms > 0]
        axes.plot([_nines(p) for p, _ in points], [ms for _, ms in points], marker="o", markersize=3,
                  label=f"{label(system)} (max {result.curve_ms[-1][1]:,.1f} ms)")
    ticks = [0, 50, 90, 99, 99.9, 99.99]
    axes.set_xticks([_nines(p) for p in ticks], [f"p{p:g}" for p in ticks])
    axes.set_yscale("log")
    axes.set_xlabel("percentile")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title(f"HTTP hello-world latency distribution at {concurrency} connections (wrk)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def throughput(load: list[LoadResult], path: Path) -> Path:
    pyplot = _pyplot()
    levels = concurrencies(load)
    figure, axes = pyplot.subplots(figsize=(8, 5))
    for system in systems(load):
        points = [(c, r.ok_per_second) for c in levels if (r := lookup(load, system, c)) and r.ok_per_second > 0]
        if points:
            axes.plot([c for c, _ in points], [v for _, v in points], marker="o", label=label(system))
    axes.set_xscale("log", base=2)
    axes.set_xticks(levels, [str(c) for c in levels])
    axes.set_yscale("log")
    axes.set_xlabel("concurrent connections")
    axes.set_ylabel("2xx responses per second (log scale)")
    axes.set_title("HTTP hello-world throughput by concurrency (wrk)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def write(load: list[LoadResult], out_dir: Path) -> list[Path]:
    if not load:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    highest = max(concurrencies(load))
    return [latency_distribution(load, out_dir / f"latency_c{highest}.png"),
            throughput(load, out_dir / "throughput.png")]

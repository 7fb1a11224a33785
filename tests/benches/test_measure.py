"""The measuring core's statistics and stopping rule on made-up samples (no isolates, no clock thresholds)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from benches.measure import Sample, StopRule, compare, median_ci_pct, percentile, run_until_stable, summarise


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7.0


def test_the_median_interval_needs_enough_runs() -> None:
    assert median_ci_pct([1.0, 2.0, 3.0]) is None
    assert median_ci_pct([100.0] * 20) == 0.0
    assert median_ci_pct(sorted([100.0] * 10 + [200.0] * 10)) == pytest.approx(100 / 3)  # 150 ± 50


def test_identical_samples_stop_at_min_runs() -> None:
    samples, stop, _ = run_until_stable(lambda: Sample(wall_us=100.0, fuel=42), StopRule(min_runs=15, warmup=0))
    assert (len(samples), stop) == (15, "converged")


def test_a_spread_that_never_settles_stops_at_max_runs() -> None:
    walls = itertools.cycle([1.0, 1000.0])
    rule = StopRule(min_runs=10, max_runs=40, warmup=3, budget_s=math.inf)
    samples, stop, _ = run_until_stable(lambda: Sample(wall_us=next(walls)), rule)
    assert (len(samples), stop) == (40, "max_runs")


def test_summarise_separates_errors_from_costs() -> None:
    samples = [Sample(wall_us=10.0, fuel=5, output_bytes=3), Sample(wall_us=30.0, fuel=5, output_bytes=3),
               Sample(wall_us=20.0, error="cpu_limit_exceeded")]
    summary = summarise("f", samples, "budget", 0.1)
    assert (summary.fuel_min, summary.fuel_max, summary.fuel_constant) == (5, 5, True)
    assert summary.errors == {"cpu_limit_exceeded": 1}
    assert summary.wall_us["p50"] == 20.0 and summary.wall_us["max"] == 30.0


def entry(name: str, fuel: float, p99: float, errors: dict[str, int] | None = None) -> dict[str, Any]:
    return {"name": name, "fuel": {"median": fuel}, "wall_us": {"p99": p99}, "errors": errors or {}}


def test_compare_flags_each_kind_of_regression() -> None:
    baseline = {"functions": [entry("a", 100, 10), entry("b", 100, 10), entry("c", 100, 10), entry("gone", 1, 1)]}
    current = {"functions": [entry("a", 104, 10), entry("b", 106, 10), entry("c", 100, 30, {"guest_error": 1})]}
    changes = {change.name: change.regressed for change in
               compare(baseline, current, fuel_threshold=0.05, p99_threshold=1.0)}
    assert changes == {"a": [], "b": ["fuel"], "c": ["p99", "errors"], "gone": ["missing"]}

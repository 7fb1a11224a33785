"""benches.micro with two repetitions per claim: each measurement runs and gives sane numbers. No ratio is asserted."""

from __future__ import annotations

import ctypes
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from wasmtime import _bindings

from benches import micro, report
from benches.__main__ import parse_args
from isolates import raw

SLOW = {"component_cache"}  # compiles the Python component once (seconds)


def claims() -> list[object]:
    params: list[object] = [
        pytest.param(claim, id=claim.__name__, marks=[pytest.mark.slow] if claim.__name__ in SLOW else [])
        for claim in micro.CLAIMS
    ]
    builds = pytest.mark.skipif(not os.environ.get("WASMTASK_BENCH_TOOLCHAINS"),
                                reason="cold toolchain builds take a minute: set WASMTASK_BENCH_TOOLCHAINS=1")
    params += [pytest.param(claim, id=claim.__name__, marks=[builds, pytest.mark.slow])
               for claim in micro.TOOLCHAIN_CLAIMS]
    return params


def sane(samples: list[float]) -> bool:
    return bool(samples) and all(math.isfinite(value) and value > 0 for value in samples)


@pytest.mark.parametrize("claim", claims())
def test_each_claim_measures_both_paths(claim: Callable[[int], micro.Claim]) -> None:
    try:
        measured = claim(2 if claim not in micro.TOOLCHAIN_CLAIMS else 1)
    except micro.Skipped as reason:
        pytest.skip(str(reason))
    assert measured.name == claim.__name__
    assert measured.relied_on_by
    for side in (measured.slow, measured.fast):
        assert side.label
        assert sane(side.samples_us)
        assert math.isfinite(side.p99_us) and side.p99_us >= side.median_us > 0
    assert math.isfinite(measured.ratio) and measured.ratio > 0


def test_releasing_gil_swaps_raw_bookkeeping_calls_and_puts_them_back() -> None:
    holding = raw._store_new
    with micro.bookkeeping_releasing_gil():
        assert raw._store_new is not holding and raw._store_new.__name__ == "wasmtime_store_new"
        assert not raw._store_new._flags_ & ctypes._FUNCFLAG_PYTHONAPI  # type: ignore[attr-defined]  # releases the GIL
        assert raw._memory_data.restype is ctypes.c_void_p  # raw's own signature kept
        assert raw._func_call_releasing_gil is _bindings._wasmtime_func_call_unchecked
    assert raw._store_new is holding
    assert raw._store_new is not _bindings._wasmtime_store_new


def fixed_claim() -> micro.Claim:
    return micro.Claim("host_call", "A host call", micro.Side("trampoline", [10.0, 12.0, 30.0]),
                       micro.Side("raw callback", [2.0, 2.0, 3.0], "detail"), "isolates/module_linker.py")


def test_markdown_shows_both_paths_the_ratio_and_who_relies_on_it() -> None:
    results = micro.MicroResults([fixed_claim()], {"random_bytes": "no Python component"})
    text = micro.markdown(results)
    assert ("| A host call; per call | trampoline: **12 µs** (p99 30 µs, n=3) | "
            "raw callback: **2.00 µs** (p99 3.00 µs, n=3); detail | 6.0x | isolates/module_linker.py |") in text
    assert "- skipped random_bytes: no Python component" in text


def test_micro_rows_round_trip_through_the_report_json(tmp_path: Path) -> None:
    results = report.Results(started="2026-01-01T00:00:00+00:00", machine={}, conditions={}, micro=[fixed_claim()])
    paths = report.write(results, tmp_path)
    assert report.Results.from_dict(json.loads(paths["json"].read_text())) == results
    assert "## Why the hot path is shaped this way" in paths["markdown"].read_text()


def test_only_micro_is_a_scenario() -> None:
    assert parse_args(["--only", "micro"]).only == ("micro",)

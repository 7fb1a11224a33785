"""The harness's parsing, ratio and report code on fixed input. No timing is asserted anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benches import report
from benches.__main__ import parse_args
from benches.gateway_server import DeployResult, DeployTiming
from benches.inprocess import InProcessRow
from benches.wrk import LUA_DONE, LoadResult, median_round, parse

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:19004/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.69ms    5.13ms  46.00ms   94.49%
    Req/Sec     5.29k     1.22k    6.91k    60.00%
  Latency Distribution
     50%  695.00us
     75%    2.99ms
     90%    4.88ms
     99%   33.18ms
  5403 requests in 1.04s, 770.35KB read
  Non-2xx or 3xx responses: 403
Requests/sec:   5197.06
Transfer/sec:    740.99KB
WRK_JSON {"requests": 5403, "duration_us": 1000000, "bytes": 788838, "connect": 0, "read": 2, "write": 0, \
"status": 403, "timeout": 1, "curve_us": [[1, 394], [50, 695], [99, 33181], [100, 45997]]}
"""


def load(system: str, concurrency: int, per_second: float) -> LoadResult:
    return LoadResult(system=system, concurrency=concurrency, duration_s=5.0, requests=int(per_second * 5),
                      ok_per_second=per_second, p50_ms=1.0, p99_ms=2.0, curve_ms=[(50.0, 1.0), (99.0, 2.0)])


def fixed_results() -> report.Results:
    return report.Results(
        started="2026-01-01T00:00:00+00:00",
        machine={"nproc": "2", "cpu": "Test CPU"},
        conditions={"load average before (1/5/15 min)": "0.10 / 0.20 / 0.30"},
        inprocess=[InProcessRow("hello-world", 10, 200.0, 300.0, {"store": 9.0, "call": 150.0}, 136_795)],
        load=[load("wasmtask", 1, 1000), load("workerd", 1, 2000), load("starlette", 1, 1500),
              load("wasmtask", 64, 3000), load("workerd", 64, 2500)],
        deploy=[DeployResult("hello-world", [DeployTiming(20.0, 14.0, 3.0, 2.0), DeployTiming(18.0, None, 2.5, 1.9)])],
        skipped={"starlette c=64": "wrk failed: boom\nlast log line"},
    )


def test_parse_reads_throughput_percentiles_and_errors() -> None:
    result = parse(WRK_OUTPUT, system="starlette", concurrency=8)
    assert result.requests == 5403
    assert result.ok_per_second == 5000.0
    assert result.non_2xx == 403
    assert result.socket_errors == {"read": 2, "timeout": 1}
    assert (result.p50_ms, result.p99_ms) == (0.695, 33.181)
    assert result.curve_ms[-1] == (100.0, 45.997)


def test_parse_without_the_lua_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="WRK_JSON"):
        parse(WRK_OUTPUT.split("WRK_JSON")[0], system="x", concurrency=1)


def test_lua_hook_lists_every_curve_percentile() -> None:
    assert "local percentiles = {1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100}" in LUA_DONE


def test_ratios_divide_wasmtask_by_each_baseline() -> None:
    ratios = report.ratios(fixed_results().load)
    assert ratios["workerd"] == {1: 0.5, 64: 1.2}
    assert ratios["starlette"] == {1: 1000 / 1500, 64: None}


def test_markdown_shows_ratios_against_targets_and_skips() -> None:
    text = report.markdown(fixed_results())
    assert "| wasmtask, 1 worker | workerd | >= 1.0x | 0.50x (missed) | 1.20x (met) |" in text
    assert ("| wasmtask, 1 worker | bare Starlette, 1 worker | >= 0.5x | 0.67x (met) | n/a (starlette skipped) |"
            in text)
    assert "| wasmtask, 1 worker | 1,000 · p99 2.00 | 3,000 · p99 2.00 | 0 |" in text  # p99 beside throughput
    assert "| hello-world | 2 | 20.0 | 19.0 | 14.0 | 2.75 | 1.95 |" in text
    assert "- starlette c=64: wrk failed: boom\n\n  ```\n  last log line\n  ```" in text
    assert "| hello-world | 200 | 300 |" in text


def test_results_round_trip_through_json(tmp_path: Path) -> None:
    results = fixed_results()
    paths = report.write(results, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["ratios"]["workerd"] == {"1": 0.5, "64": 1.2}
    assert report.Results.from_dict(data) == results
    assert paths["markdown"].read_text() == report.markdown(results)


def test_plots_are_pngs(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from benches import plots

    paths = plots.write(fixed_results().load, tmp_path)
    assert [p.name for p in paths] == ["latency_c64.png", "throughput.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


def test_only_takes_a_subset_and_rejects_unknown_names() -> None:
    assert parse_args(["--only", "peers,http"]).only == ("peers", "http")
    with pytest.raises(SystemExit):
        parse_args(["--only", "everything"])


def test_median_round_keeps_the_middle_run_and_every_rounds_throughput() -> None:
    rounds = [load("workerd", 8, 3000), load("workerd", 8, 1000), load("workerd", 8, 2000)]
    chosen = median_round(rounds)
    assert chosen.ok_per_second == 2000
    assert chosen.rounds_per_second == [3000, 1000, 2000]
    assert "| workerd | 2,000 (1,000–3,000) · p99 2.00 |" in report.throughput_table([chosen])


def test_ratio_says_why_the_subject_is_missing() -> None:
    results = fixed_results()
    results.load = [r for r in results.load if r.system != "wasmtask"]
    results.skipped = {"wasmtask (http, deploy)": "gateway not available: connection refused"}
    text = report.markdown(results)
    assert "| wasmtask, 1 worker | workerd | >= 1.0x | n/a (wasmtask skipped) | n/a (wasmtask skipped) |" in text
    assert "- wasmtask (http, deploy): gateway not available: connection refused" in text

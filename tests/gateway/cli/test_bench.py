"""``wasmtask bench``: the plumbing of its numbers (fuel, JSON, table, --compare), never wall-clock thresholds."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.cli import main
from tests.host_api.conftest import Handler, serve  # noqa: F401  (fixture)

ANSWER = '{"ok":true,"result":{"type":"json","value":1}}'

# A guest that loops ITERATIONS times: 8 fuel units per iteration (local.get, i32.const, i32.add, local.set,
# local.get, i32.const, i32.lt_u, br_if; wasmtime charges nothing for loop and end).
LOOP = """(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 16) "%(answer)s")
  (func (export "wasmtask_alloc") (param $length i32) (result i32)
    (local $start i32)
    (local.set $start (global.get $next))
    (global.set $next (i32.add (local.get $start) (local.get $length)))
    (local.get $start))
  (func (export "wasmtask_handle") (param $ptr i32) (param $length i32) (result i64)
    (local $i i32)
    (drop (memory.grow (i32.const %(grow)d)))
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const %(iterations)d))))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const %(length)d))))
"""


def loop_guest(directory: Path, name: str, iterations: int, grow: int = 0) -> Path:
    """LOOP as a file; ``grow``: the pages it adds to its one page of memory on each call."""
    path = directory / name
    path.write_text(loop_source(iterations, grow))
    return path


def loop_source(iterations: int, grow: int = 0) -> str:
    return LOOP % {"answer": ANSWER.replace('"', '\\"'), "iterations": iterations, "length": len(ANSWER),
                   "grow": grow}


def bench(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["bench", "--budget", "2s", "--min-runs", "10", "--max-runs", "30", "--warmup", "1", *argv])
    return status, capsys.readouterr().out


def document(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    status, out = bench(capsys, "--json", *argv)
    assert status == 0, out
    parsed: dict[str, Any] = orjson.loads(out)
    return parsed


def test_a_constant_cost_function_gives_the_same_fuel_every_call(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    short, long = loop_guest(tmp_path, "short.wat", 1000), loop_guest(tmp_path, "long.wat", 3000)
    doc = document(capsys, str(short), str(long))
    first, second = doc["functions"]
    for entry in (first, second):
        assert entry["fuel"]["constant"] is True
        assert entry["fuel"]["min"] == entry["fuel"]["median"] == entry["fuel"]["max"]
        assert entry["errors"] == {}
        assert entry["output_bytes"] == 1  # the JSON value `1`
    assert second["fuel"]["median"] - first["fuel"]["median"] == 2000 * 8
    assert second["ratio_to_first"]["fuel"] == round(second["fuel"]["median"] / first["fuel"]["median"], 3)


def test_the_runs_are_bounded_by_min_and_max_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = document(capsys, str(loop_guest(tmp_path, "f.wat", 10)))["functions"][0]
    assert 10 <= entry["runs"] <= 30
    assert entry["stop"] in {"converged", "max_runs", "budget"}
    assert entry["peak_memory_bytes"] == {"min": 65536, "median": 65536, "max": 65536}  # its one page


def test_peak_memory_is_the_memory_a_call_grew_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    still, growing = loop_guest(tmp_path, "still.wat", 10), loop_guest(tmp_path, "grows.wat", 10, grow=5)
    first, second = document(capsys, str(still), str(growing))["functions"]
    assert first["peak_memory_bytes"]["median"] == 1 * 65536
    assert second["peak_memory_bytes"] == {"min": 6 * 65536, "median": 6 * 65536, "max": 6 * 65536}
    assert "peak_memory_note" not in second
    table = bench(capsys, str(growing))[1]
    assert "| peak memory KiB |" in table and "| 384 |" in table  # 6 pages of 64 KiB


def test_compare_fails_when_peak_memory_grows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    function = loop_guest(tmp_path, "f.wat", 10, grow=9)  # 10 pages
    baseline = tmp_path / "baseline.json"
    baseline.write_text(orjson.dumps(document(capsys, str(function))).decode())
    loop_guest(tmp_path, "f.wat", 10, grow=10)  # 11 pages: 10% more, not more than 10%
    assert bench(capsys, str(function), "--compare", str(baseline), "--p99-threshold", "100000%")[0] == 0
    loop_guest(tmp_path, "f.wat", 10, grow=11)  # 12 pages: 20% more
    status, out = bench(capsys, str(function), "--compare", str(baseline), "--p99-threshold", "100000%")
    assert status == 1
    assert "| +20.0% | regressed: memory |" in out


def test_the_json_matches_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benches.measure import TABLE_COLUMNS, markdown

    doc = document(capsys, str(loop_guest(tmp_path, "a.wat", 100)), str(loop_guest(tmp_path, "b.wat", 200)))
    rows = [line.strip("|").split("|") for line in markdown(doc).splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 2
    for row, entry in zip(rows, doc["functions"], strict=True):
        cells = dict(zip(TABLE_COLUMNS, (cell.strip() for cell in row), strict=True))
        assert cells["function"] == entry["name"]
        assert int(cells["runs"]) == entry["runs"]
        assert float(cells["fuel median"]) == entry["fuel"]["median"]
        assert cells["fuel min..max"] == "constant"
        assert float(cells["p99 µs"]) == entry["wall_us"]["p99"]
        assert float(cells["fuel ×"]) == entry["ratio_to_first"]["fuel"]
        assert float(cells["peak memory KiB"]) * 1024 == entry["peak_memory_bytes"]["median"]


def test_the_default_output_is_the_markdown_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = bench(capsys, str(loop_guest(tmp_path, "f.wat", 10)))
    assert status == 0
    assert out.startswith("| function | runs |")
    assert re.search(r"^\| f\.wat \| \d+ \|", out, re.MULTILINE)


def test_compare_passes_on_the_same_function_and_fails_on_a_slower_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    function = loop_guest(tmp_path, "f.wat", 1000)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(orjson.dumps(document(capsys, str(function))).decode())
    # p99 is wall clock: made unreachable here so that only fuel decides
    assert bench(capsys, str(function), "--compare", str(baseline), "--p99-threshold", "100000%")[0] == 0
    loop_guest(tmp_path, "f.wat", 1100)  # 10% more iterations: more than 5% more fuel
    status, out = bench(capsys, str(function), "--compare", str(baseline), "--p99-threshold", "100000%")
    assert status == 1
    assert "regressed: fuel" in out
    assert bench(capsys, str(function), "--compare", str(baseline), "--p99-threshold", "100000%",
                 "--fuel-threshold", "20%")[0] == 0


def test_compare_fails_when_a_function_is_gone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(orjson.dumps(document(capsys, str(loop_guest(tmp_path, "old.wat", 10)))).decode())
    status, out = bench(capsys, str(loop_guest(tmp_path, "new.wat", 10)), "--compare", str(baseline))
    assert status == 1
    assert "regressed: missing" in out


def test_requests_come_from_a_jsonl_file_in_turn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    echo = tmp_path / "echo.js"
    echo.write_text('export default { fetch(request) { return new Response(new URL(request.url).search); } };')
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"query": {"n": "1"}}\n\n{"query": {"n": "12345"}, "method": "POST", "body": {"x": 1}}\n')
    entry = document(capsys, str(echo), "--requests", str(requests))["functions"][0]
    assert entry["errors"] == {}
    assert entry["output_bytes"] in {4, 8, 6}  # "?n=1" or "?n=12345", median of the two kinds


def test_errors_are_counted_by_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing = tmp_path / "fail.js"
    failing.write_text('export default { fetch() { throw new Error("no"); } };')
    entry = document(capsys, str(failing))["functions"][0]
    assert entry["errors"] == {"guest_error": entry["runs"]}
    assert entry["fuel"]["median"] is None


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"not": "a bench"}')
    assert bench(capsys, str(loop_guest(tmp_path, "f.wat", 10)), "--compare", str(baseline))[0] == 2


FETCHER = """export default {
  async fetch(request) {
    const answer = await fetch(new URL(request.url).searchParams.get("url"));
    return new Response(await answer.text());
  },
};"""


def test_waiting_for_a_fetch_costs_no_fuel(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           serve) -> None:  # noqa: F811
    def answer(handler: Handler) -> None:
        if handler.path.startswith("/slow"):
            time.sleep(0.05)
        handler.send(200, b"the same answer")

    server = serve({"/fast": answer, "/slow": answer})
    fetcher = tmp_path / "fetcher.js"
    fetcher.write_text(FETCHER)
    runs = {path: document(capsys, str(fetcher), "--allow", server.origin(), "-q", f"url={server.url(path)}",
                           "--max-runs", "10")["functions"][0] for path in ("/fast", "/slow")}
    assert runs["/fast"]["errors"] == runs["/slow"]["errors"] == {}
    assert runs["/fast"]["fuel"]["median"] == runs["/slow"]["fuel"]["median"]
    assert runs["/slow"]["wall_us"]["p50"] >= 50_000  # the wait is in the wall time: at least the server's sleep

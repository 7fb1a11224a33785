"""The WPT conformance gate: no directory of ../shared/wpt may score below benches/wpt-baseline.json.

Runs every test of the checkout in the sandbox (benches/wpt.py, two worker processes,
seconds). Raise the baseline with ``python -m benches.wpt --update-baseline`` when
scores rise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benches import wpt

REPO = Path(__file__).resolve().parent.parent.parent


def wpt_dir() -> Path | None:
    for candidate in (os.environ.get("WASMTASK_WPT_DIR"), REPO.parent / "shared" / "wpt", "/work/shared/wpt"):
        if candidate and (Path(candidate) / "resources" / "testharness.js").exists():
            return Path(candidate)
    return None


def test_meta_lines_and_variants_are_read() -> None:
    source = "// META: title=T\n// META: script=/common/a.js\n// META: variant=?1-10\n// META: variant=?11-last\ntest(() => {});\n// META: x=y\n"
    assert wpt.parse_meta(source) == [("title", "T"), ("script", "/common/a.js"), ("variant", "?1-10"), ("variant", "?11-last")]


def test_subtests_node_fails_are_not_counted() -> None:
    run = wpt.TestRun("url/a.any.js")
    result = wpt.RunResult(run, "OK", subtests={"ok": "PASS", "bad": "FAIL", "node fails too": "FAIL"})
    directories, files = wpt.score([result], {("url/a.any.js", "node fails too")}, {"url/": (10, 9)})
    assert (directories["url/"].passed, directories["url/"].denominator) == (1, 9)
    assert (files["url/a.any.js"].passed, files["url/a.any.js"].total) == (1, 2)
    assert wpt.regressions(directories, {"url/": 2}) == ["url/: 1 passed, baseline 2"]
    assert wpt.regressions(directories, {"url/": 1}) == []


@pytest.mark.skipif(wpt_dir() is None, reason="no WPT checkout (../shared/wpt)")
def test_no_directory_scores_below_the_baseline() -> None:
    checkout = wpt_dir()
    assert checkout is not None
    results = wpt.run_all(checkout, wpt.discover(checkout), jobs=min(2, os.cpu_count() or 1))
    summary = wpt.load_node_summary(checkout)
    directories, _ = wpt.score(results, wpt.load_node_failures(checkout), summary)
    assert wpt.regressions(directories, wpt.load_baseline()) == []

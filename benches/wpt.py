"""Web-platform-tests conformance: a WPT checkout's ``.any.js`` tests, run inside the sandbox.

    python -m benches.wpt --wpt-dir ../shared/wpt [--only url,encoding] [--json out.json]

Each test file (and each ``// META: variant=``) runs in its own fresh isolate through
the project's one door (``isolates.prepare`` without a snapshot, then ``isolates.run``),
the way WPT's worker wrapper runs it (the checkout's SOURCE.md): ``self.GLOBAL``, a
worker-like ``location``, ``resources/testharness.js``, the ``META: script=`` files in
order, the test, ``done()``. The scripts are evaluated by the handler with a global
(indirect) eval, so they run as request code, not as top-level code (where
``Math.random`` and ``crypto.getRandomValues`` throw on purpose). Data files a test
fetches by a relative URL (``resources/urltestdata.json``, idlharness's
``/interfaces/NAME.idl``) are found by reading the test's source and answered from
the checkout by a ``fetch`` wrapper; every other URL goes to the sandbox's own fetch.

Results come back as the handler's value; they are also logged in batches while the
run goes, so a run that dies (a limit, a crash of the guest) still reports the
subtests it finished. Scores count only subtests that Node 20 passes: the checkout's
``node20-failures.txt`` lists the ones it fails, and ``node20-summary.txt`` gives its
totals per directory, which are the denominators here (a subtest we never reach counts
as failed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASELINE = Path(__file__).with_name("wpt-baseline.json")

# testharness.js status codes
PASS = 0
STATUS_NAMES = {0: "PASS", 1: "FAIL", 2: "TIMEOUT", 3: "NOTRUN", 4: "PRECONDITION_FAILED"}
HARNESS_NAMES = {0: "OK", 1: "ERROR", 2: "TIMEOUT", 3: "PRECONDITION_FAILED"}

LOG_MARK = "\u241eWPT "  # prefixes the result batches the guest logs
RESOURCE_SUFFIXES = (".json", ".idl", ".txt", ".xml", ".html", ".css")
RESOURCE_LITERAL = re.compile(r"[\"'`]([\w./-]+(?:" + "|".join(re.escape(s) for s in RESOURCE_SUFFIXES) + r"))[\"'`]")
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class TestRun:
    """One test file with one variant ("" when it has none)."""

    path: str  # relative to the checkout, e.g. "url/url-constructor.any.js"
    variant: str = ""

    @property
    def name(self) -> str:
        return self.path + self.variant


@dataclass
class RunResult:
    run: TestRun
    harness: str  # OK, ERROR, TIMEOUT, PRECONDITION_FAILED, or the isolate error code
    message: str = ""
    subtests: dict[str, str] = field(default_factory=dict)  # escaped name -> status name
    messages: dict[str, str] = field(default_factory=dict)  # escaped name -> failure message
    seconds: float = 0.0
    fuel: int = 0


def parse_meta(source: str) -> list[tuple[str, str]]:
    """The ``// META: key=value`` lines at the top of a test."""
    meta = []
    for line in source.splitlines():
        match = re.match(r"//\s*META:\s*(\w+)=(.*)$", line.strip())
        if match:
            meta.append((match.group(1), match.group(2).strip()))
        elif line.strip() and not line.strip().startswith("//"):
            break
    return meta


def discover(wpt_dir: Path, only: Iterable[str] = ()) -> list[TestRun]:
    """Every ``.any.js`` test under ``wpt_dir`` (limited to the ``only`` prefixes), one run per variant."""
    prefixes = [p.strip().lstrip("/") for p in only if p.strip()]
    runs: list[TestRun] = []
    for path in sorted(wpt_dir.rglob("*.any.js")):
        relative = path.relative_to(wpt_dir).as_posix()
        if relative.startswith("resources/") or (prefixes and not any(relative.startswith(p) for p in prefixes)):
            continue
        variants = [value for key, value in parse_meta(path.read_text(encoding="utf-8")) if key == "variant"]
        runs.extend(TestRun(relative, variant) for variant in (variants or [""]))
    return runs


def script_path(wpt_dir: Path, test: str, src: str) -> Path:
    """Where a ``META: script=`` file lives: relative to the test, or to the checkout's root."""
    if src == "/resources/WebIDLParser.js":
        return wpt_dir / "resources/webidl2/lib/webidl2.js"
    if src.startswith("/"):
        return wpt_dir / src.lstrip("/")
    return (wpt_dir / test).parent / src


def resources_for(wpt_dir: Path, test: str, sources: Iterable[str]) -> dict[str, str]:
    """Data files the test may fetch, keyed by their path on the WPT server ("/url/resources/x.json")."""
    found: dict[str, str] = {}
    base = (wpt_dir / test).parent
    for source in sources:
        names = [match.group(1) for match in RESOURCE_LITERAL.finditer(source)]
        idl = re.search(r"idl_test\(\s*\[([^\]]*)\]\s*,\s*\[([^\]]*)\]", source)
        if idl:
            specs = re.findall(r"[\"']([\w-]+)[\"']", idl.group(1) + "," + idl.group(2))
            names += [f"/interfaces/{name}.idl" for name in specs]
        for name in names:
            root = wpt_dir.resolve()
            path = (root / name.lstrip("/") if name.startswith("/") else base.resolve() / name).resolve()
            if path.is_file() and path.is_relative_to(root):
                found["/" + path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return found


# The guest side. Runs as a webtask handler (one callback argument): sets up the
# worker-like globals, evaluates each script with a global eval, calls done() and
# answers with the results when testharness completes. A watchdog timer (virtual
# time: it fires once everything else is idle) times out tests that never finish.
GUEST = r"""
const SCRIPTS = %(scripts)s;
const RESOURCES = %(resources)s;
const TEST_URL = %(url)s;
const TITLE = %(title)s;
const MARK = %(mark)s;
module.exports = function (cb) {
  const g = globalThis;
  const log = console.log.bind(console);
  const sandboxFetch = g.fetch;
  let pending = [], finished = false, loadError = null;
  const escape = (s) => JSON.stringify(String(s)).slice(1, -1);
  const flush = () => { if (pending.length) { log(MARK + JSON.stringify(pending)); pending = []; } };
  const record = (t) => {
    const failed = t.status !== 0 && t.message !== undefined && t.message !== null;
    const m = failed ? String(t.message).slice(0, %(chars)d) : "";
    pending.push([escape(t.name), t.status, m]);
    if (pending.length >= 200) flush();
  };
  g.self = g;
  g.GLOBAL = { isWindow: () => false, isWorker: () => true, isShadowRealm: () => false };
  if (TITLE !== null) g.META_TITLE = TITLE;
  const url = /^(\w+:)\/\/([^/:]+)(?::(\d+))?([^?#]*)(\?[^#]*)?/.exec(TEST_URL);
  g.location = { href: TEST_URL, protocol: url[1], hostname: url[2], port: url[3] || "", pathname: url[4],
    search: url[5] || "", hash: "", host: url[2] + (url[3] ? ":" + url[3] : ""),
    origin: url[1] + "//" + url[2] + (url[3] ? ":" + url[3] : ""), toString() { return TEST_URL; } };
  // common/sab.js reaches SharedArrayBuffer through WebAssembly.Memory (a page may hide the
  // global); the sandbox has SharedArrayBuffer but no WebAssembly: hand it the constructor.
  if (typeof g.WebAssembly === "undefined" && typeof SharedArrayBuffer === "function") {
    g.WebAssembly = {
      Memory: function Memory(d) { this.buffer = d && d.shared ? new SharedArrayBuffer(0) : new ArrayBuffer(0); },
    };
  }
  // the WPT server: files of the checkout by path, 404 for any other same-origin URL
  // (as Node's reference run answered); every other URL goes to the sandbox's fetch
  const origin = g.location.origin;
  g.fetch = function fetch(input, init) {
    const isRequest = input !== null && typeof input === "object" && typeof input.url === "string";
    let url = typeof input === "string" ? input : isRequest ? input.url : String(input);
    try { url = new URL(url, TEST_URL).href; } catch (e) { return sandboxFetch.apply(this, arguments); }
    if (!url.startsWith(origin + "/")) return sandboxFetch.apply(this, arguments);
    const path = url.slice(origin.length).replace(/[?#].*$/, "");
    if (!Object.prototype.hasOwnProperty.call(RESOURCES, path)) {
      return Promise.resolve(new Response("Not Found", { status: 404, headers: { "content-type": "text/plain" } }));
    }
    const type = path.endsWith(".json") ? "application/json" : "text/plain";
    return Promise.resolve(new Response(RESOURCES[path], { status: 200, headers: { "content-type": type } }));
  };
  g.__wptAfterHarness = function () {
    delete g.__wptAfterHarness;
    // report as a dedicated worker would, for idlharness's exposure checks
    if (typeof g.DedicatedWorkerGlobalScope === "undefined") {
      g.DedicatedWorkerGlobalScope = class DedicatedWorkerGlobalScope {
        static [Symbol.hasInstance](o) { return o === g; }
      };
    }
    add_result_callback(record);
    add_completion_callback((tests, status) => {
      if (finished) return;
      finished = true;
      flush();
      cb(null, { harness: loadError ? 1 : status.status, message: loadError || status.message || "" });
    });
  };
  // One global eval for all the scripts: separate evals would each keep their own
  // let/const/class bindings, where a page's scripts share one global scope.
  const [harness, ...rest] = SCRIPTS;
  try { (0, eval)(harness[1] + "\n;__wptAfterHarness();\n" + rest.map(([, code]) => code).join("\n;\n")); }
  catch (e) { loadError = (e && e.stack ? String(e) + "\n" + e.stack : String(e)); }
  if (typeof done !== "function") {
    cb(null, { harness: 1, message: loadError || "testharness.js did not load" });
    return;
  }
  done();
  setTimeout(function watchdog() { if (!finished && typeof timeout === "function") timeout(); }, 60000);
};
"""


def build_source(wpt_dir: Path, run: TestRun) -> str:
    test_source = (wpt_dir / run.path).read_text(encoding="utf-8")
    meta = parse_meta(test_source)
    scripts = [("/resources/testharness.js", (wpt_dir / "resources/testharness.js").read_text(encoding="utf-8"))]
    title = None
    for key, value in meta:
        if key == "script":
            scripts.append((value, script_path(wpt_dir, run.path, value).read_text(encoding="utf-8")))
        elif key == "title":
            title = value
    scripts.append((run.path, test_source))
    resources = resources_for(wpt_dir, run.path, [code for _, code in scripts[1:]])
    worker_url = "http://web-platform.test:8000/" + run.path.removesuffix(".js") + ".worker.js" + run.variant
    return GUEST % {
        "scripts": json.dumps(scripts),
        "resources": json.dumps(resources),
        "url": json.dumps(worker_url),
        "title": json.dumps(title),
        "mark": json.dumps(LOG_MARK),
        "chars": MESSAGE_CHARS,
    }


def run_test(wpt_dir: str, run: TestRun) -> RunResult:
    """One test run in a fresh isolate (imports isolates here: worker processes start lean)."""
    from host_api.request import guest_request
    from isolates import CallSpec, IsolateError, Limits, prepare
    from isolates import run as run_call

    limits = Limits(fuel=200_000_000_000, memory_bytes=512 * 1024 * 1024, wall_clock_ms=300_000,
                    output_bytes=64 * 1024 * 1024, log_bytes=64 * 1024 * 1024, log_lines=1_000_000)
    started = time.monotonic()
    result = RunResult(run, harness="OK")
    try:
        program = prepare("javascript", build_source(Path(wpt_dir), run), limits, snapshot=False)
        outcome = run_call(program, guest_request(), CallSpec(limits=limits))
        logs, value = outcome.logs, outcome.value
        result.fuel = outcome.fuel_used
        if isinstance(value, dict):
            harness = value.get("harness")
            result.harness = HARNESS_NAMES.get(harness, str(harness)) if isinstance(harness, int) else str(harness)
            result.message = str(value.get("message") or "")[:2000]
        else:
            result.harness, result.message = "ERROR", f"unexpected result {value!r:.200}"
    except IsolateError as exc:
        logs = exc.logs
        result.fuel = exc.fuel_used
        result.harness, result.message = exc.code, exc.message[:2000]
    for record in logs:
        message = record.msg
        if not message.startswith(LOG_MARK):
            continue
        for name, status, text in json.loads(message[len(LOG_MARK):]):
            result.subtests[name] = STATUS_NAMES.get(status, str(status))
            if text:
                result.messages[name] = text
    result.seconds = round(time.monotonic() - started, 3)
    return result


def load_node_failures(wpt_dir: Path) -> set[tuple[str, str]]:
    path = wpt_dir / "node20-failures.txt"
    if not path.exists():
        return set()
    failures = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            test, name = line.split("\t", 1)
            failures.add((test, name))
    return failures


def load_node_summary(wpt_dir: Path) -> dict[str, tuple[int, int]]:
    """directory -> (subtests, passed) of the Node reference run."""
    path = wpt_dir / "node20-summary.txt"
    summary: dict[str, tuple[int, int]] = {}
    if not path.exists():
        return summary
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0].endswith("/") and parts[3].isdigit() and parts[4].isdigit():
            summary[parts[0]] = (int(parts[3]), int(parts[4]))
    return summary


def directory_of(test: str, directories: Iterable[str]) -> str:
    """The longest directory of the summary that holds ``test`` (else its own folder)."""
    matches = [d for d in directories if test.startswith(d)]
    return max(matches, key=len) if matches else test.rsplit("/", 1)[0] + "/"


@dataclass
class Score:
    passed: int = 0
    total: int = 0  # counted subtests we saw (Node-failing ones excluded)
    node_total: int | None = None  # Node's passed count: the denominator when known
    failed: list[str] = field(default_factory=list)

    @property
    def denominator(self) -> int:
        return self.node_total if self.node_total is not None else self.total


def score(results: list[RunResult], failures: set[tuple[str, str]], summary: dict[str, tuple[int, int]]
          ) -> tuple[dict[str, Score], dict[str, Score]]:
    """Per directory and per file: subtests passed among those Node 20 passes."""
    directories: dict[str, Score] = {}
    files: dict[str, Score] = {}
    for result in results:
        directory = directory_of(result.run.path, summary)
        node_total = summary[directory][1] if directory in summary else None
        dir_score = directories.setdefault(directory, Score(node_total=node_total))
        file_score = files.setdefault(result.run.path, Score())
        for name, status in result.subtests.items():
            if (result.run.path, name) in failures:
                continue
            for s in (dir_score, file_score):
                s.total += 1
                if status == "PASS":
                    s.passed += 1
            if status != "PASS":
                file_score.failed.append(f"{result.run.name}: {name}: {status} {result.messages.get(name, '')}")
    return directories, files


def run_all(wpt_dir: Path, runs: list[TestRun], jobs: int, progress: bool = False) -> list[RunResult]:
    # the heaviest first, so two workers finish together
    ordered = sorted(runs, key=lambda r: -(wpt_dir / r.path).stat().st_size)
    results: list[RunResult] = []
    if jobs <= 1:
        for run in ordered:
            results.append(run_test(str(wpt_dir), run))
            if progress:
                _progress(results[-1])
        return results
    import multiprocessing

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_test, str(wpt_dir), run) for run in ordered]
        for future in futures:
            results.append(future.result())
            if progress:
                _progress(results[-1])
    return results


def _progress(result: RunResult) -> None:
    passed = sum(1 for s in result.subtests.values() if s == "PASS")
    line = f"  {result.run.name}: {passed}/{len(result.subtests)} {result.harness} {result.seconds:.1f}s"
    print(line, file=sys.stderr)


def report(directories: dict[str, Score], files: dict[str, Score], summary: dict[str, tuple[int, int]],
           verbose_files: bool = True) -> str:
    lines = ["| directory | passed | counted (Node 20 passes) | % |", "|---|---:|---:|---:|"]
    total_passed = total = 0
    for name in sorted(directories):
        s = directories[name]
        total_passed += s.passed
        total += s.denominator
        lines.append(f"| {name} | {s.passed} | {s.denominator} | {100 * s.passed / max(1, s.denominator):.1f} |")
    lines.append(f"| TOTAL | {total_passed} | {total} | {100 * total_passed / max(1, total):.1f} |")
    if verbose_files:
        lines += ["", "| file | passed | counted |", "|---|---:|---:|"]
        for name in sorted(files):
            lines.append(f"| {name} | {files[name].passed} | {files[name].total} |")
    return "\n".join(lines)


def load_baseline(path: Path = BASELINE) -> dict[str, int]:
    """The recorded score: passed subtests per directory (the CI gate, tests/benches/test_wpt.py)."""
    return {k: int(v) for k, v in json.loads(path.read_text())["passed"].items()} if path.exists() else {}


def write_baseline(directories: dict[str, Score], path: Path = BASELINE) -> None:
    passed = {name: directories[name].passed for name in sorted(directories)}
    counted = {name: directories[name].denominator for name in sorted(directories)}
    path.write_text(json.dumps({"passed": passed, "counted": counted}, indent=1) + "\n")


def regressions(directories: dict[str, Score], baseline: dict[str, int]) -> list[str]:
    """Directories that score below the recorded baseline."""
    return [f"{name}: {directories[name].passed if name in directories else 0} passed, baseline {floor}"
            for name, floor in sorted(baseline.items())
            if (directories[name].passed if name in directories else 0) < floor]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benches.wpt", description=__doc__.splitlines()[0])
    parser.add_argument("--wpt-dir", type=Path, default=Path(os.environ.get("WASMTASK_WPT_DIR", "../shared/wpt")))
    parser.add_argument("--only", default="", help="comma-separated directory prefixes, e.g. url,encoding")
    parser.add_argument("--json", type=Path, help="write the scores and every subtest's status here")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--failures", action="store_true", help="list the failing counted subtests")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--update-baseline", action="store_true", help=f"record these scores in {BASELINE.name}")
    args = parser.parse_args(argv)
    wpt_dir = args.wpt_dir.resolve()
    if not (wpt_dir / "resources" / "testharness.js").exists():
        print(f"error: {wpt_dir} is not a WPT checkout (no resources/testharness.js)", file=sys.stderr)
        return 2
    runs = discover(wpt_dir, args.only.split(","))
    started = time.monotonic()
    results = run_all(wpt_dir, runs, args.jobs, progress=not args.quiet)
    summary = load_node_summary(wpt_dir)
    directories, files = score(results, load_node_failures(wpt_dir), summary)
    print(report(directories, files, summary))
    if args.failures:
        for name in sorted(files):
            for line in files[name].failed:
                print(line)
    for result in results:
        if result.harness != "OK":
            print(f"harness {result.harness}: {result.run.name}: {result.message[:300]}", file=sys.stderr)
    print(f"{len(results)} runs in {time.monotonic() - started:.0f}s", file=sys.stderr)
    if args.update_baseline:
        if args.only:
            print("error: --update-baseline records a full run; drop --only", file=sys.stderr)
            return 2
        write_baseline(directories)
    if args.json:
        args.json.write_text(json.dumps({
            "directories": {k: {"passed": v.passed, "counted": v.denominator} for k, v in directories.items()},
            "files": {k: {"passed": v.passed, "counted": v.total} for k, v in files.items()},
            "runs": [{**asdict(r.run), "harness": r.harness, "message": r.message, "seconds": r.seconds, "fuel": r.fuel,
                      "subtests": r.subtests, "messages": r.messages} for r in results],
        }, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``wasmtask bench FILE [FILE...]``: what each function costs per call, locally, in fresh isolates.

Each file is prepared once and called until the median wall time's 95% confidence
interval is within ``--precision`` (bounded by ``--budget`` per function and
``--min-runs``/``--max-runs``); the measuring core is benches/measure.py, shared
with ``make bench``. Output: a Markdown table (ratios to the first file), or
``--json`` on stdout; ``--plot out.png`` draws it. ``--compare BASELINE.json``
exits 1 when a function's fuel per call grew more than ``--fuel-threshold`` or
its p99 more than ``--p99-threshold`` (docs/benchmarking.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from gateway.cli import output
from gateway.cli.errors import EXIT_FAILED, CliError, UsageProblem
from gateway.cli.options import DURATION, HEADER, PAIR, json_option, limit_options, request_body

EXIT_REGRESSED = EXIT_FAILED


def _percent(text: str) -> float:
    """'5', '5%' or '0.5%' -> a fraction (0.05)."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a percentage (e.g. 5%)") from None
    if value < 0:
        raise click.BadParameter(f"{text!r} must not be negative")
    return value / 100


def read_requests(path: Path) -> list[dict[str, Any]]:
    """A JSONL file, one request a line: ``{"method", "path", "query": {..}, "headers": {..}, "body": JSON,
    "data": "raw text"}``, every key optional; the guest requests, called in turn."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"{path}: cannot read it ({exc})", code="no_such_file") from None
    requests = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise UsageProblem(f"{path}:{number}: not JSON ({exc})", code="invalid_usage") from None
        if not isinstance(fields, dict):
            raise UsageProblem(f"{path}:{number}: a request is a JSON object", code="invalid_usage")
        headers = list(dict(fields.get("headers") or {}).items())
        body: bytes | None = None
        if "body" in fields:
            body = orjson.dumps(fields["body"])
            headers.append(("content-type", "application/json"))
        elif "data" in fields:
            body = str(fields["data"]).encode()
        query = [(str(k), str(v)) for k, v in dict(fields.get("query") or {}).items()]
        requests.append(_request(fields.get("method"), str(fields.get("path", "/")), query, headers, body))
    if not requests:
        raise UsageProblem(f"{path}: no requests in it", code="invalid_usage")
    return requests


def _request(method: str | None, sub_path: str, query: list[tuple[str, str]], headers: list[tuple[str, str]],
             body: bytes | None) -> dict[str, Any]:
    from host_api.request import guest_request

    query_string = "&".join(f"{key}={value}" for key, value in query)
    return guest_request(
        method=method or ("POST" if body is not None else "GET"),
        url=f"http://localhost/{sub_path.lstrip('/')}" + (f"?{query_string}" if query_string else ""),
        path="/" + sub_path.lstrip("/"), query=query, headers=headers, body=body, meta={}, request_id="bench")


def _prepare(path: Path, language: str | None, limits: Any, snapshot: bool) -> tuple[Any, str]:
    from isolates import IsolateError, prepare
    from isolates.languages import language_for_file, normalize_language
    from toolchains import Toolchains

    try:
        source = path.read_bytes()
    except OSError as exc:
        raise UsageProblem(f"{path}: {exc.strerror or 'cannot read it'}", code="no_such_file") from None
    chosen = normalize_language(language or language_for_file(path.name))
    try:
        code: str | bytes = source if chosen == "wasm" else source.decode("utf-8")
        return prepare(chosen, code, limits, snapshot=snapshot, compiler=Toolchains(progress=output.progress),
                       filename=path.name), chosen
    except UnicodeDecodeError:
        raise UsageProblem(f"{path}: not UTF-8 text", code="invalid_code") from None
    except IsolateError as error:
        raise CliError(f"{path}: {error.code}: {error.message}", code=error.code) from None


def _names(paths: list[Path]) -> list[str]:
    """File names, or paths where two files share a name (v1/f.js and v2/f.js)."""
    names = [path.name for path in paths]
    return [str(path) if names.count(path.name) > 1 else path.name for path in paths]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--language", "-l", metavar="LANGUAGE", help="Default: from each file's suffix.")
@click.option("--method", "-X", metavar="METHOD", help="Default: GET, or POST with a body.")
@click.option("--path", "-p", "sub_path", default="/", metavar="PATH", help="The request's path.")
@click.option("--query", "-q", type=PAIR, multiple=True, help="A query parameter K=V (repeatable).")
@click.option("--header", "-H", type=HEADER, multiple=True, help="A header 'Name: value' (repeatable).")
@click.option("--data", "-d", metavar="DATA", help="The body as is: text, @FILE, or - for stdin.")
@click.option("--body", metavar="JSON", help="A JSON body (content-type application/json); @FILE or -.")
@click.option("--requests", "requests_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A JSONL file of requests, called in turn (instead of the flags above).")
@click.option("--budget", type=DURATION, default="10s", show_default=True, metavar="DURATION",
              help="Time limit per function.")
@click.option("--precision", default="2%", show_default=True, metavar="PCT",
              help="Stop when the median's 95% CI is within this.")
@click.option("--min-runs", type=click.IntRange(min=3), default=20, show_default=True)
@click.option("--max-runs", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=5, show_default=True, help="Calls discarded first.")
@click.option("--compare", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A previous --json output: exit 1 on a regression.")
@click.option("--fuel-threshold", default="5%", show_default=True, metavar="PCT",
              help="With --compare: the fuel-per-call growth that fails.")
@click.option("--p99-threshold", default="100%", show_default=True, metavar="PCT",
              help="With --compare: the p99 growth that fails (wall clock: noisy, keep it loose).")
@click.option("--snapshot/--no-snapshot", default=True, show_default=True,
              help="Prepare as a deploy does (init run once) or as `wasmtask run` does (init on every call).")
@click.option("--plot", "plot_file", metavar="PNG", help="Draw latency distribution and fuel per call (matplotlib).")
@limit_options
@json_option
def bench(files: tuple[Path, ...], language: str | None, method: str | None, sub_path: str,
          query: tuple[tuple[str, str], ...], header: tuple[tuple[str, str], ...], data: str | None,
          body: str | None, requests_file: Path | None, budget: int, precision: str, min_runs: int, max_runs: int,
          warmup: int, baseline_file: Path | None, fuel_threshold: str, p99_threshold: str, snapshot: bool,
          plot_file: str | None,
          fuel: int | None, memory: int | None, timeout: int | None) -> int:
    """Measure each FILE's cost per call (fuel, wall time, phases, bytes, errors) in fresh isolates."""
    from benches import measure
    from isolates import CallSpec, Limits

    if max_runs < min_runs:
        raise click.BadParameter("must be at least --min-runs", param_hint="'--max-runs'")
    rule = measure.StopRule(precision=_percent(precision), budget_s=budget / 1000, min_runs=min_runs,
                            max_runs=max_runs, warmup=warmup)
    baseline = _read_baseline(baseline_file) if baseline_file else None
    if requests_file is not None:
        if data is not None or body is not None or query or header:
            raise click.UsageError("--requests replaces --data/--body/--query/--header: give one or the other")
        requests = read_requests(requests_file)
    else:
        content, content_type = request_body(data, body)
        headers = list(header)
        if content_type and not any(key.lower() == "content-type" for key, _ in headers):
            headers.append(("content-type", content_type))
        requests = [_request(method, sub_path, list(query), headers, content)]
    limits = Limits().with_overrides(fuel=fuel, memory_bytes=memory, wall_clock_ms=timeout)
    spec = CallSpec(limits=limits)
    summaries = []
    for path, name in zip(files, _names(list(files)), strict=True):
        program, chosen = _prepare(path, language, limits, snapshot)
        if not output.state.json:
            print(f"measuring {name} ({chosen}) ...", file=sys.stderr, flush=True)
        summaries.append(measure.measure(name, program, requests, spec, rule, language=chosen))
    doc = measure.document(summaries, rule)
    status = 0
    if baseline is not None:
        changes = measure.compare(baseline, doc, fuel_threshold=_percent(fuel_threshold),
                                  p99_threshold=_percent(p99_threshold))
        doc["compare"] = {"baseline": str(baseline_file), "fuel_threshold": _percent(fuel_threshold),
                          "p99_threshold": _percent(p99_threshold),
                          "changes": [vars(change) for change in changes]}
        status = EXIT_REGRESSED if any(change.regressed for change in changes) else 0
    if plot_file:
        reason = measure.plot(summaries, plot_file)
        if reason:
            print(f"no plot: {reason}", file=sys.stderr)
    if output.state.json:
        print(output.json_text(doc), flush=True)
    else:
        print(measure.markdown(doc))
        if baseline is not None:
            print()
            print(measure.compare_markdown(changes))
    if status:
        print("regression against the baseline (see the table)", file=sys.stderr)
    return status


def _read_baseline(path: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageProblem(f"{path}: {exc.strerror or 'cannot read it'}", code="no_such_file") from None
    except orjson.JSONDecodeError as exc:
        raise UsageProblem(f"{path}: not JSON ({exc})", code="invalid_usage") from None
    if not isinstance(doc, dict) or doc.get("schema") != "wasmtask-bench/1":
        raise UsageProblem(f"{path}: not a `wasmtask bench --json` output", code="invalid_usage")
    return doc

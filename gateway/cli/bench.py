"""``wasmtask bench``: what functions cost per call, in fresh isolates on this host, and under HTTP load.

What is measured in-process: local FILEs, and with ``--name`` (``--tenant``) the
versions of a deployed function, their code read from the gateway's API
(``GET /api/functions/{tenant}/{name}/versions/{version}``) and prepared here as the
serving host prepares it (``gateway.service.prepare_program``, snapshot and the
version's limits and env). Fuel, phases and peak memory exist only in-process;
fuel is the same on every machine, so measuring here gives the serving host's fuel.

Each function is called until the median wall time's 95% confidence interval is
within ``--precision`` (bounded by ``--budget`` and ``--min-runs``/``--max-runs``);
the measuring core is benches/measure.py, shared with ``make bench``.

``--http [URL]``: load over HTTP end to end (default URL: the deployed function's
edge URL) at each ``--concurrency`` for ``--duration``, with the load generator of
``make bench`` (benches/http_load.py: wrk, else a Python fallback); its table
follows the in-process one.

Output: Markdown tables (ratios to the first function), or ``--json`` on stdout;
``--plot out.png`` draws them. ``--compare BASELINE.json`` exits 1 when a function's
fuel per call grew more than ``--fuel-threshold``, its p99 more than
``--p99-threshold`` or its peak memory more than ``--memory-threshold``
(docs/benchmarking.md).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import click
import orjson

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import EXIT_FAILED, CliError, UsageProblem
from gateway.cli.local_run import local_request
from gateway.cli.options import (
    DURATION,
    connection_options,
    json_option,
    limit_options,
    request_body,
    request_options,
    tenant_option,
)
from gateway.cli.target import resolve_function, resolve_tenant

EXIT_REGRESSED = EXIT_FAILED
DEPLOYED = "deployed"  # --http without a URL: the deployed function's edge URL


def _percent(text: str) -> float:
    """'5', '5%' or '0.5%' -> a fraction (0.05)."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a percentage (e.g. 5%)") from None
    if value < 0:
        raise click.BadParameter(f"{text!r} must not be negative")
    return value / 100


def read_requests(path: Path) -> list[RequestFields]:
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
        body: bytes | None = None
        content_type = None
        if "body" in fields:
            body, content_type = orjson.dumps(fields["body"]), "application/json"
        elif "data" in fields:
            body = str(fields["data"]).encode()
        requests.append(RequestFields(
            method=fields.get("method"), sub_path=str(fields.get("path", "/")),
            query=[(str(k), str(v)) for k, v in dict(fields.get("query") or {}).items()],
            headers=[(str(k), str(v)) for k, v in dict(fields.get("headers") or {}).items()],
            body=body, content_type=content_type))
    if not requests:
        raise UsageProblem(f"{path}: no requests in it", code="invalid_usage")
    return requests


@dataclass(frozen=True)
class RequestFields:
    """One request as the user gave it: the guest request of an in-process call, or an HTTP request."""

    method: str | None
    sub_path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes | None
    content_type: str | None = None

    def guest(self, env: dict[str, str] | None = None) -> dict[str, Any]:
        return local_request(method=self.method, sub_path=self.sub_path, query=self.query, headers=self.headers,
                             body=self.body, content_type=self.content_type, env=env, request_id="bench")

    def http_method(self) -> str:
        return self.method or ("POST" if self.body is not None else "GET")

    def http_headers(self) -> list[tuple[str, str]]:
        headers = list(self.headers)
        if self.content_type and not any(key.lower() == "content-type" for key, _ in headers):
            headers.append(("content-type", self.content_type))
        return headers


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
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--language", "-l", metavar="LANGUAGE", help="Default: from each file's suffix.")
@click.option("--name", "function_name", metavar="NAME",
              help="A deployed function (of --tenant): measure its versions' code here, in-process.")
@click.option("--version", "versions", metavar="V1,V2",
              help="With --name: the versions to measure side by side (default: the current one).")
@request_options()
@click.option("--allow", multiple=True, metavar="HOST",
              help="A host fetch() may reach (repeatable; a deployed version adds its own allowed hosts).")
@click.option("--requests", "requests_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A JSONL file of requests, called in turn (instead of the flags above).")
@click.option("--budget", type=DURATION, default="10s", show_default=True, metavar="DURATION",
              help="Time limit per function.")
@click.option("--precision", default="2%", show_default=True, metavar="PCT",
              help="Stop when the median's 95% CI is within this.")
@click.option("--min-runs", type=click.IntRange(min=3), default=20, show_default=True)
@click.option("--max-runs", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=5, show_default=True, help="Calls discarded first.")
@click.option("--http", "http_target", is_flag=False, flag_value=DEPLOYED, metavar="[URL]",
              help="Also load over HTTP: URL, or (no value) the --name function's edge URL.")
@click.option("--concurrency", default="1,8,64", show_default=True, metavar="N,N,...",
              help="With --http: the concurrencies to load at, one run each.")
@click.option("--duration", type=DURATION, default="10s", show_default=True, metavar="DURATION",
              help="With --http: the length of each run.")
@click.option("--load-generator", type=click.Choice(("auto", "wrk", "python")), default="auto", show_default=True,
              help="With --http: wrk when installed (auto), or the Python fallback.")
@click.option("--compare", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A previous --json output: exit 1 on a regression.")
@click.option("--fuel-threshold", default="5%", show_default=True, metavar="PCT",
              help="With --compare: the fuel-per-call growth that fails.")
@click.option("--p99-threshold", default="100%", show_default=True, metavar="PCT",
              help="With --compare: the p99 growth that fails (wall clock: noisy, keep it loose).")
@click.option("--memory-threshold", default="10%", show_default=True, metavar="PCT",
              help="With --compare: the peak linear memory growth that fails.")
@click.option("--snapshot/--no-snapshot", default=True, show_default=True,
              help="Prepare as a deploy does (init run once) or as `wasmtask run` does (init on every call).")
@click.option("--plot", "plot_file", metavar="PNG", help="Draw latency distribution and fuel per call (matplotlib).")
@limit_options
@tenant_option
@connection_options
@json_option
def bench(files: tuple[Path, ...], language: str | None, function_name: str | None, versions: str | None,
          method: str | None, sub_path: str, query: tuple[tuple[str, str], ...], header: tuple[tuple[str, str], ...],
          data: str | None, body: str | None, allow: tuple[str, ...], requests_file: Path | None, budget: int,
          precision: str, min_runs: int, max_runs: int, warmup: int, http_target: str | None, concurrency: str,
          duration: int, load_generator: str, baseline_file: Path | None, fuel_threshold: str, p99_threshold: str,
          memory_threshold: str, snapshot: bool, plot_file: str | None, fuel: int | None, memory: int | None,
          timeout: int | None, tenant: str | None, connection: Connection) -> int:
    """Measure each FILE's (or a deployed function's) cost per call in fresh isolates; --http adds load.

    Fuel, wall time, phases, peak memory, bytes and errors per function, ratios to the first.
    """
    from benches import measure
    from isolates import CallSpec, Limits

    if max_runs < min_runs:
        raise click.BadParameter("must be at least --min-runs", param_hint="'--max-runs'")
    if versions is not None and function_name is None:
        raise click.UsageError("--version needs --name (a deployed function)")
    if http_target == DEPLOYED and function_name is None:
        raise click.UsageError("--http without a URL loads the deployed function: give --name (or --http URL)")
    if not files and function_name is None:
        if http_target is None:
            raise click.UsageError("nothing to measure: give FILEs, --name NAME (deployed), or --http URL")
        if baseline_file is not None:
            raise click.UsageError("--compare compares in-process numbers: give FILEs or --name")
    levels = _concurrencies(concurrency)
    rule = measure.StopRule(precision=_percent(precision), budget_s=budget / 1000, min_runs=min_runs,
                            max_runs=max_runs, warmup=warmup)
    baseline = _read_baseline(baseline_file) if baseline_file else None
    if requests_file is not None:
        if data is not None or body is not None or query or header:
            raise click.UsageError("--requests replaces --data/--body/--query/--header: give one or the other")
        if http_target is not None:
            raise click.UsageError("--http sends one kind of request: give it with -X/-p/-q/-H/--body, not --requests")
        requests = read_requests(requests_file)
    else:
        content, content_type = request_body(data, body)
        requests = [RequestFields(method, sub_path, list(query), list(header), content, content_type)]
    overrides = {"fuel": fuel, "memory_bytes": memory, "wall_clock_ms": timeout}
    summaries = []
    for path, name in zip(files, _names(list(files)), strict=True):
        limits = Limits().with_overrides(**overrides)
        program, chosen = _prepare(path, language, limits, snapshot)
        summaries.append(_measure(name, chosen, program, [request.guest() for request in requests],
                                  CallSpec(limits=limits, allowed_hosts=allow), rule))
    deployed: Deployed | None = None
    if function_name is not None:
        deployed = Deployed(connection, resolve_tenant(tenant, connection), resolve_function(function_name, None))
        for wanted in _version_list(versions):
            version = deployed.fetch(wanted)
            limits = Limits.from_dict(version["limits"]).with_overrides(**overrides)
            program = deployed.prepare(version, limits)
            env = {str(k): str(v) for k, v in dict(version.get("env") or {}).items()}
            hosts = (*[str(host) for host in version.get("allowed_hosts") or ()], *allow)
            summaries.append(_measure(f"{deployed.name}@{version['version']}", version["language"], program,
                                      [request.guest(env) for request in requests],
                                      CallSpec(limits=limits, allowed_hosts=hosts), rule))
    doc = measure.document(summaries, rule)
    if http_target is not None:
        request = requests[0]
        headers = request.http_headers()
        if http_target == DEPLOYED and deployed is not None:
            target = deployed.edge_url(request)
            credential = connection.token or connection.admin_key
            if deployed.auth == "token" and credential:
                headers.append(("authorization", f"Bearer {credential}"))  # an edge URL with auth token
        else:
            target = http_target
        doc["load"] = _load(target, levels, duration / 1000, request.http_method(), headers, request.body,
                            load_generator)
    status = 0
    changes: list[Any] = []
    if baseline is not None:
        changes = measure.compare(baseline, doc, fuel_threshold=_percent(fuel_threshold),
                                  p99_threshold=_percent(p99_threshold), memory_threshold=_percent(memory_threshold))
        doc["compare"] = {"baseline": str(baseline_file), "fuel_threshold": _percent(fuel_threshold),
                          "p99_threshold": _percent(p99_threshold), "memory_threshold": _percent(memory_threshold),
                          "changes": [vars(change) for change in changes]}
        status = EXIT_REGRESSED if any(change.regressed for change in changes) else 0
    if plot_file:
        reason = measure.plot(summaries, plot_file)
        if reason:
            print(f"no plot: {reason}", file=sys.stderr)
    if output.state.json:
        print(output.json_text(doc), flush=True)
    else:
        tables = [measure.markdown(doc)] if summaries else []
        if "load" in doc:
            tables.append(measure.load_markdown(doc["load"]))
        if baseline is not None:
            tables.append(measure.compare_markdown(changes))
        print("\n\n".join(tables))
    if status:
        print("regression against the baseline (see the table)", file=sys.stderr)
    return status


def _measure(name: str, language: str, program: Any, requests: list[dict[str, Any]], spec: Any, rule: Any) -> Any:
    from benches import measure

    if not output.state.json:
        print(f"measuring {name} ({language}) ...", file=sys.stderr, flush=True)
    return measure.measure(name, program, requests, spec, rule, language=language)


def _concurrencies(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r}: comma-separated counts, e.g. 1,8,64",
                                 param_hint="'--concurrency'") from None
    if not levels or min(levels) < 1:
        raise click.BadParameter(f"{text!r}: counts of at least 1, e.g. 1,8,64", param_hint="'--concurrency'")
    return levels


def _version_list(text: str | None) -> list[str]:
    """'v1,v2' -> ['v1', 'v2']; none -> the current version."""
    if text is None:
        return ["current"]
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    if not wanted:
        raise click.BadParameter("name versions, e.g. v1,v2", param_hint="'--version'")
    return wanted


class Deployed:
    """A deployed function, read through the gateway's API: its versions' code, and its edge URL."""

    def __init__(self, connection: Connection, tenant: str, name: str) -> None:
        self.connection = connection
        self.tenant = tenant
        self.name = name
        self.auth = "public"

    def fetch(self, version: str) -> dict[str, Any]:
        """A version's metadata and code (``GET .../versions/{version}``)."""
        with self.connection.client() as client:
            answer: dict[str, Any] = client.json(
                "GET", api_path("api", "functions", self.tenant, self.name, "versions", version))
        self.auth = str(answer.get("auth") or self.auth)
        return answer

    def prepare(self, version: dict[str, Any], limits: Any) -> Any:
        """The program the serving host prepares from this code (snapshot, bundling): compiled here."""
        import base64

        from gateway.service import prepare_program
        from isolates import IsolateError
        from toolchains import Toolchains

        label = f"{self.name}@{version['version']}"
        try:
            return prepare_program(version["language"], base64.b64decode(version["code_base64"]), limits, True,
                                   Toolchains(progress=output.progress), str(version.get("filename") or ""))
        except IsolateError as error:
            raise CliError(f"{label}: {error.code}: {error.message}", code=error.code) from None

    def edge_url(self, request: RequestFields) -> str:
        query = urlencode(request.query)
        return (f"{self.connection.url}/run/{quote(self.tenant, safe='')}/{quote(self.name, safe='')}"
                + ("/" + request.sub_path.lstrip("/") if request.sub_path.strip("/") else "")
                + (f"?{query}" if query else ""))


def _load(url: str, levels: list[int], duration_s: float, method: str, headers: list[tuple[str, str]],
          body: bytes | None, generator: str) -> list[dict[str, Any]]:
    """One load run per concurrency: throughput and latency, as the JSON's ``load`` rows."""
    from benches.http_load import GeneratorMissing, load

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="'--http'")
    rows = []
    for level in levels:
        if not output.state.json:
            print(f"loading {url} at concurrency {level} for {duration_s:g} s ...", file=sys.stderr, flush=True)
        try:
            result, used = load(url, system=url, concurrency=level, duration_s=duration_s, method=method,
                                headers=headers, body=body, generator=generator)
        except GeneratorMissing as exc:
            raise UsageProblem(str(exc), code="invalid_usage") from None
        except RuntimeError as exc:  # wrk failed (a refused connection, a bad URL)
            raise CliError(f"load at concurrency {level}: {exc}", code="load_failed") from None
        rows.append({"target": url, "concurrency": level, "generator": used, "duration_s": result.duration_s,
                     "requests": result.requests, "ok_per_second": round(result.ok_per_second, 1),
                     "p50_ms": round(result.p50_ms, 3), "p99_ms": round(result.p99_ms, 3),
                     "non_2xx": result.non_2xx, "socket_errors": result.socket_errors})
    return rows


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

"""``wasmtask logs``: follow a tenant's live log (server-sent events), filtered, as lines or JSON.

Filters: ``--function``, ``--level`` (at least), ``--grep`` (text, any case), and
``--status``, which keeps only calls that ended that way (``ok``, ``error``, an error
code such as ``cpu_limit``, an HTTP status such as ``500`` or ``5xx``) together with
their log lines: a call's lines are held until its end event says whether it matches.
``--since 10m`` shows what the gateway still holds from the last ten minutes (its
replay buffer: the last 100 records of the tenant), ``--no-replay`` only what comes next.

Without ``--retry`` an unreachable gateway, or a stream that ends, is one message
and exit status 3; with it, ``logs`` reconnects with backoff and resumes after the
last record it printed (``Last-Event-ID``).
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, TextIO
from urllib.parse import quote

import click
import httpx
import orjson

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE
from gateway.cli.options import DURATION, connection_options, json_option, tenant_option
from gateway.cli.target import current_project, resolve_tenant

LEVELS = ("debug", "info", "warn", "error")
HELD_CALLS = 1000  # calls whose lines wait for their end event (--status); the oldest are dropped
Record = dict[str, Any]


def _http_status(code: str) -> int:
    from gateway.errors import status_for  # light: the error table

    return 200 if code == "ok" else status_for(code)


@dataclass(frozen=True)
class Filters:
    """Which records to print. Empty fields filter nothing."""

    functions: tuple[str, ...] = ()
    level: str = "debug"
    grep: str = ""
    status: str = ""
    since: float | None = None  # Unix time: older records are skipped

    def keeps(self, record: Record) -> bool:
        """Every filter but ``status`` (which needs the call's end: see ``Follower``)."""
        if self.functions and record.get("function") not in self.functions:
            return False
        level = str(record.get("level") or "info")
        if level in LEVELS and LEVELS.index(level) < LEVELS.index(self.level):
            return False
        if self.since is not None and isinstance(record.get("time"), (int, float)) and record["time"] < self.since:
            return False
        return not self.grep or self.grep.lower() in str(record.get("msg", "")).lower()

    def status_matches(self, end: Record) -> bool:
        """Whether a call's end event is one ``--status`` asks for."""
        code = str(end.get("code") or "ok")
        http = int(end.get("status") or _http_status(code))
        wanted = self.status.lower()
        if wanted in ("ok", "error"):
            return (code == "ok") == (wanted == "ok")
        if wanted.isdigit():
            return http == int(wanted)
        if len(wanted) == 3 and wanted.endswith("xx") and wanted[0].isdigit():
            return http // 100 == int(wanted[0])
        return code == wanted


class RecordSink(Protocol):
    def take(self, record: Record) -> None: ...


class Follower:
    """Prints what the filters keep; with ``--status``, a call's lines wait for its end event."""

    def __init__(self, filters: Filters, out: TextIO, *, as_json: bool, color: bool) -> None:
        self.filters = filters
        self.out = out
        self.as_json = as_json
        self.color = color
        self.held: OrderedDict[str, list[Record]] = OrderedDict()

    def take(self, record: Record) -> None:
        if not self.filters.status:
            if self.filters.keeps(record):
                self._print(record)
            return
        call = str(record.get("request_id") or "")
        if not call:
            return  # not part of a call (a deploy): no status to match
        if record.get("event") != "invocation_end":
            self.held.setdefault(call, []).append(record)
            while len(self.held) > HELD_CALLS:
                self.held.popitem(last=False)
            return
        lines = self.held.pop(call, [])
        if self.filters.status_matches(record):
            for line in (*lines, record):
                if self.filters.keeps(line):
                    self._print(line)

    def _print(self, record: Record) -> None:
        if self.as_json:
            self.out.write(orjson.dumps(record, default=str).decode() + "\n")
        else:
            from gateway.logs.follower import format_record  # here, not at the top: start-up time

            self.out.write(format_record(record, color=self.color) + "\n")
        self.out.flush()


class _Refused(Exception):
    """The gateway refused the stream (401, 403, 404): retrying will not help."""


class _Dropped(Exception):
    """No stream: unreachable, a 5xx or 429, or the stream ended."""


def follow(connection: Connection, tenant: str, follower: RecordSink, *, replay: bool, retry: bool,
           err: TextIO = sys.stderr, stop: threading.Event | None = None, read_timeout: float = 45.0,
           min_backoff: float = 0.5, max_backoff: float = 30.0, client: httpx.Client | None = None) -> int:
    """Print the tenant's records until interrupted (or ``stop`` is set); the exit status.

    ``client``: the caller's, so that another thread can close it to end a blocked read at once."""
    stream_url = f"{connection.url}/api/logs/{quote(tenant, safe='')}" + ("" if replay else "?replay=0")
    last_event_id: str | None = None
    backoff = min_backoff
    client = client or httpx.Client(timeout=httpx.Timeout(10.0, read=read_timeout), trust_env=False)
    with client:
        while stop is None or not stop.is_set():
            headers = {"authorization": f"Bearer {connection.token or connection.admin_key or ''}",
                       "accept": "text/event-stream"}
            if last_event_id:
                headers["last-event-id"] = last_event_id
            try:
                with client.stream("GET", stream_url, headers=headers) as response:
                    _check(response)
                    backoff = min_backoff
                    data: list[str] = []
                    for line in response.iter_lines():
                        if line.startswith("data:"):
                            data.append(line[5:].removeprefix(" "))
                        elif line.startswith("id:"):
                            last_event_id = line[3:].strip() or last_event_id
                        elif not line and data:
                            follower.take(_record("\n".join(data)))
                            data = []
                        if stop is not None and stop.is_set():
                            return EXIT_OK
                raise _Dropped("the gateway ended the stream")
            except _Refused as exc:
                print(f"error: {exc}", file=err)
                return EXIT_FAILED
            except (_Dropped, httpx.TransportError, RuntimeError) as exc:  # RuntimeError: the client was closed
                if stop is not None and stop.is_set():
                    break
                reason = str(exc) or type(exc).__name__
                if not retry:
                    print(f"error: the log stream of {tenant} at {connection.url}: {reason}", file=err)
                    print("hint: is the gateway running? `wasmtask logs --retry` keeps trying", file=err)
                    return EXIT_UNREACHABLE
            delay = backoff * random.uniform(0.8, 1.2)
            print(f"(log stream: {reason}; reconnecting in {delay:.1f} s)", file=err, flush=True)
            if stop is not None:
                if stop.wait(delay):
                    break
            else:
                time.sleep(delay)
            backoff = min(max_backoff, backoff * 2)
    return EXIT_OK


def _check(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    response.read()
    try:
        error = response.json()["error"]
        message = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    text = f"{message} (HTTP {response.status_code})"
    if response.status_code in (401, 403, 404):
        raise _Refused(text)
    raise _Dropped(text)


def _record(data: str) -> Record:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {"level": "info", "msg": data}
    return record if isinstance(record, dict) else {"level": "info", "msg": data}


def status_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    known = text in ("ok", "error") or (text.isdigit() and len(text) == 3) or \
        (len(text) == 3 and text.endswith("xx") and text[0] in "12345") or text.replace("_", "").isalpha()
    if not known:
        raise click.BadParameter(f"{value!r}: ok, error, an error code (cpu_limit) or an HTTP status (500, 5xx)")
    return text


@click.command()
@tenant_option
@click.option("--function", "-f", "functions", multiple=True, metavar="NAME", help="Only this function (repeatable).")
@click.option("--level", type=click.Choice(LEVELS), default="debug", help="At least this level.")
@click.option("--status", callback=status_value, metavar="STATUS",
              help="Only calls that ended so: ok, error, a code (cpu_limit), an HTTP status (500, 5xx).")
@click.option("--grep", "-g", metavar="TEXT", default="", help="Only records whose message contains TEXT (any case).")
@click.option("--since", type=DURATION, metavar="DURATION", help="Replay from this long ago, e.g. 10m (what the "
              "gateway still holds).")
@click.option("--no-replay", is_flag=True, help="Only new records, none from before.")
@click.option("--retry", is_flag=True, help="Keep trying when the gateway is unreachable or the stream drops.")
@connection_options
@json_option
def logs(connection: Connection, tenant: str | None, functions: tuple[str, ...], level: str, status: str | None,
         grep: str, since: int | None, no_replay: bool, retry: bool) -> int:
    """Follow the tenant's live log: calls (start, end, code, duration) and their lines.

    With --json, one JSON record per line (NDJSON).
    """
    if since is not None and no_replay:
        raise click.UsageError("--since replays history; --no-replay turns it off: pick one")
    if not (connection.token or connection.admin_key):
        raise click.UsageError("no token: pass --token or set WASMTASK_TOKEN (a token with the logs scope)")
    tenant_name = resolve_tenant(tenant, connection, current_project() if tenant is None else None)
    filters = Filters(functions=functions, level=level, grep=grep, status=status or "",
                      since=time.time() - since / 1000 if since is not None else None)
    follower = Follower(filters, sys.stdout, as_json=output.state.json, color=sys.stdout.isatty())
    if not output.state.json:
        output.info(f"[dim]following the log of tenant {tenant_name} at {connection.url} (Ctrl-C stops)[/]")
    try:
        return follow(connection, tenant_name, follower, replay=not no_replay, retry=retry)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED



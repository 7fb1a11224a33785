"""The terminal side of the live log: ``wasmtask logs`` follows a tenant's stream and prints it.

``follow_logs`` reconnects with backoff and resumes with ``Last-Event-ID``;
``format_record`` is the one-line format it prints (``wasmtask invoke --logs`` uses it too).
"""

from __future__ import annotations

import datetime
import random
import sys
import threading
import time
from typing import Any, TextIO
from urllib.parse import quote

import httpx
import orjson

from gateway.logs.bus import Record

_KNOWN_FIELDS = frozenset({"time", "level", "msg", "tenant", "function", "version", "request_id"})
_LEVEL_COLORS = {"debug": "\x1b[2m", "info": "\x1b[36m", "warn": "\x1b[33m", "error": "\x1b[31m"}
_RESET = "\x1b[0m"
# C0 controls (except tab and newline), DEL and C1 controls: a guest must not drive the reader's terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(code) not in "\t\n"}
_CONTROL[ord("\n")] = "\n    "  # continuation lines are indented, so a message cannot forge a record line


def _clean(text: object) -> str:
    return str(text).translate(_CONTROL)


def _format_time(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.datetime.fromtimestamp(value, datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return _clean(value) if value else "-"


def _format_value(value: object) -> str:
    if isinstance(value, str):
        return value if value and not any(c.isspace() or c in "\"=" for c in value) else orjson.dumps(value).decode()
    return orjson.dumps(value, default=str).decode()


def format_record(record: Record, *, color: bool = False) -> str:
    """One line for a terminal: ``time level [function@version request_id] msg key=value...``.

    Control characters from the record are escaped; extra fields (event, duration_ms,
    fuel, code, dropped, ...) follow the message as ``key=value``.
    """
    level = str(record.get("level") or "info")
    level_text = f"{level.upper():5}"
    if color and level in _LEVEL_COLORS:
        level_text = _LEVEL_COLORS[level] + level_text + _RESET
    where = str(record.get("function") or "")
    if where and record.get("version") not in (None, ""):
        where += f"@{record['version']}"
    context = " ".join(part for part in (where, str(record.get("request_id") or "")) if part)
    parts = [_format_time(record.get("time")), level_text]
    if context:
        parts.append(f"[{_clean(context)}]")
    parts.append(_clean(record.get("msg", "")))
    parts.extend(_clean(f"{key}={_format_value(value)}") for key, value in record.items() if key not in _KNOWN_FIELDS)
    return " ".join(parts)


class _ServerSentEvents:
    """The parts of the SSE parsing rules a log follower needs: data and id; comments and retry ignored."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Take one line; return the event's data when the line ends an event."""
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        return None


class _Unrecoverable(Exception):
    """The gateway refused the stream in a way that retrying will not fix (auth, unknown tenant)."""


def follow_logs(
    url: str,
    tenant: str,
    token: str,
    out: TextIO = sys.stdout,
    *,
    err: TextIO = sys.stderr,
    color: bool | None = None,
    stop: threading.Event | None = None,
    min_backoff: float = 0.5,
    max_backoff: float = 30.0,
    read_timeout: float = 45.0,
) -> int:
    """Print ``tenant``'s live records from the gateway at ``url`` (its base URL) until interrupted.

    Reconnects on drops and server errors with exponential backoff (``min_backoff``
    doubling up to ``max_backoff`` seconds, jittered), resuming after the last record
    seen (``Last-Event-ID``), so a reconnect neither repeats nor, within the replay
    buffer, skips records. ``read_timeout`` (seconds) must exceed the server's
    heartbeat interval (15 s). Returns the exit status: 1 when the gateway refuses
    (401, 403, 404), 130 on Ctrl-C, 0 when ``stop`` is set (checked at each line
    and while waiting to reconnect).
    """
    stream_url = f"{url.rstrip('/')}/api/logs/{quote(tenant, safe='')}"
    color = out.isatty() if color is None else color
    timeout = httpx.Timeout(10.0, read=read_timeout)
    parser = _ServerSentEvents()
    backoff = min_backoff
    try:
        with httpx.Client(timeout=timeout) as client:
            while stop is None or not stop.is_set():
                headers = {"authorization": f"Bearer {token}", "accept": "text/event-stream"}
                if parser.last_event_id:
                    headers["last-event-id"] = parser.last_event_id
                try:
                    with client.stream("GET", stream_url, headers=headers) as response:
                        _check_status(response)
                        backoff = min_backoff
                        for line in response.iter_lines():
                            data = parser.feed(line)
                            if data is not None:
                                _print_event(data, out, color)
                            if stop is not None and stop.is_set():
                                return 0
                    reason = "stream ended"
                except _Unrecoverable as exc:
                    print(f"error: {exc}", file=err)
                    return 1
                except (httpx.TransportError, _Retryable) as exc:
                    reason = str(exc) or type(exc).__name__
                delay = backoff * random.uniform(0.8, 1.2)
                print(f"(log stream: {reason}; reconnecting in {delay:.1f}s)", file=err, flush=True)
                if stop is not None and stop.wait(delay):
                    break
                if stop is None:
                    time.sleep(delay)
                backoff = min(max_backoff, backoff * 2)
    except KeyboardInterrupt:
        return 130
    return 0


class _Retryable(Exception):
    """The gateway answered with a status worth retrying (429, 5xx)."""


def _check_status(response: Any) -> None:
    if response.status_code == 200:
        return
    response.read()
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    text = f"HTTP {response.status_code}: {message}"
    if response.status_code in (401, 403, 404):
        raise _Unrecoverable(text)
    raise _Retryable(text)


def _print_event(data: str, out: TextIO, color: bool) -> None:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        record = {"level": "info", "msg": data}
    if not isinstance(record, dict):
        record = {"level": "info", "msg": data}
    print(format_record(record, color=color), file=out, flush=True)

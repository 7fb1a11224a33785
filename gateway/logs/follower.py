"""A live log record as one terminal line: ``format_record``, what ``wasmtask logs`` and
``wasmtask invoke --logs`` print (following the stream itself is gateway/cli/tail.py).
"""

from __future__ import annotations

import datetime

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

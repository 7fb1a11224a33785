"""`wasmtask run FILE`: one call of a local file in a fresh isolate, no server."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any, TextIO

import orjson

from host_api.log import LogRecord
from host_api.request import guest_request
from isolates import CallSpec, IsolateError, Limits, prepare, run
from isolates.languages import language_for_file
from toolchains import Toolchains


def language_for(path: Path) -> str:
    return language_for_file(path.name)


def format_record(record: LogRecord) -> str:
    return f"{record.level.upper():5} {record.msg}"


def run_file(
    path: Path,
    *,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes | None,
    method: str,
    limits: Limits,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print the result JSON on ``out`` and logs on ``err``; return the exit status."""
    code = path.read_bytes()
    language = language_for(path)
    request = guest_request(
        method=method,
        url="http://localhost/" + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else ""),
        path="/",
        query=query,
        headers=headers,
        body=body,
        meta={"file": path.name},
        request_id="local",
    )
    try:
        program = prepare(language, code if language == "wasm" else code.decode("utf-8"), limits, snapshot=False,
                          compiler=Toolchains())
        result = run(program, request, CallSpec(limits=limits))
    except IsolateError as error:
        print(orjson.dumps({"error": error.to_dict()}).decode(), file=out)
        print(f"error: {error.code}: {error.message}", file=err)
        return 1
    for record in result.logs:
        print(format_record(record), file=err)
    if result.logs_dropped:
        print(f"({result.logs_dropped} log lines dropped: over the per-call log limit)", file=err)
    print(orjson.dumps(render(result), option=orjson.OPT_INDENT_2).decode(), file=out)
    return 0


def render(result: Any) -> Any:
    if result.kind == "json":
        return result.value
    body: Any
    try:
        body = result.body.decode("utf-8")
    except UnicodeDecodeError:
        body = {"base64": base64.b64encode(result.body).decode()}
    return {"status": result.status, "headers": dict(result.headers), "body": body}

"""``wasmtask run [FILE]``: one call of a local file in a fresh isolate, no server.

The result on stdout (a JSON value; a ``Response`` as ``{"status", "headers", "body"}``
with a JSON body parsed), the function's log lines on stderr whether the call
succeeded or not, and on failure its error: ``{"error": {...}}`` on stdout, the
message with the place in the user's file (``worker.js:3:9``) on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

import click

from gateway.cli import output
from gateway.cli.errors import EXIT_FAILED, UsageProblem
from gateway.cli.options import json_option, limit_options, request_body, request_options
from gateway.cli.project import Project, read_env_file
from gateway.cli.target import current_project


def render(result: Any) -> Any:
    """A result as JSON: its value, or its response with the body parsed when it is JSON."""
    if result.kind == "json":
        return result.value
    from gateway.cli.invoke import response_document

    return response_document(result.status, dict(result.headers), result.body)


def local_request(*, method: str | None, sub_path: str, query: list[tuple[str, str]], headers: list[tuple[str, str]],
                  body: bytes | None, content_type: str | None = None, secrets: dict[str, str] | None = None,
                  env: dict[str, str] | None = None, meta: dict[str, str] | None = None,
                  request_id: str = "local") -> dict[str, Any]:
    """The guest request of a local call (``wasmtask run``, ``wasmtask bench``): ``http://localhost/PATH?QUERY``,
    GET or (with a body) POST unless ``method`` says; ``content_type`` added unless a header gives one."""
    from urllib.parse import urlencode

    from host_api.request import guest_request

    headers = list(headers)
    if content_type and not any(key.lower() == "content-type" for key, _ in headers):
        headers.append(("content-type", content_type))
    path = "/" + sub_path.lstrip("/")
    query_string = urlencode(query)
    return guest_request(
        method=method or ("POST" if body is not None else "GET"),
        url=f"http://localhost{path}" + (f"?{query_string}" if query_string else ""),
        path=path, query=query, headers=headers, body=body, secrets=secrets, env=env, meta=meta or {},
        request_id=request_id)


LEVEL_COLOURS = {"debug": "\x1b[2m", "info": "\x1b[36m", "warn": "\x1b[33m", "error": "\x1b[31m"}


def print_logs(records: list[Any], dropped: int, err: TextIO) -> None:
    """``LEVEL message`` per line (control characters escaped: a guest must not drive the terminal)."""
    color = err.isatty()
    for record in records:
        level = f"{record.level.upper():5}"
        if color and record.level in LEVEL_COLOURS:
            level = f"{LEVEL_COLOURS[record.level]}{level}\x1b[0m"
        message = "".join(c if c.isprintable() or c in "\t\n" else f"\\x{ord(c):02x}" for c in record.msg)
        print(f"{level} {message.replace(chr(10), chr(10) + '      ')}", file=err)
    if dropped:
        print(f"({dropped} log lines dropped: over the per-call log limit)", file=err)


def run_source(source: bytes, filename: str, language: str, *, request: dict[str, Any], limits: Any,
               out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Prepare and call once; print as the module docstring says; the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    from gateway.diagnostics import locate
    from isolates import CallSpec, IsolateError, prepare, run
    from toolchains import Toolchains

    try:
        code: str | bytes = source if language == "wasm" else source.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageProblem(f"{filename}: not UTF-8 text", code="invalid_code") from None
    try:
        program = prepare(language, code, limits, snapshot=False, compiler=Toolchains(progress=output.progress),
                          filename=filename)
        result = run(program, request, CallSpec(limits=limits, secrets=tuple(request.get("secrets", {}).values())))
    except IsolateError as error:
        print_logs(error.logs, error.logs_dropped, err)
        envelope = error.to_dict()
        location = locate(error, filename)
        if location is not None:
            envelope["location"] = location.to_dict()  # type: ignore[assignment]  # JSON
        if output.state.json or not out.isatty():  # a terminal gets the message below only
            print(output.json_text({"error": envelope}), file=out, flush=True)
        where = f"{location}: " if location is not None else ""
        name = f"{error.name}: " if error.name else ""
        print(f"error: {where}{error.code}: {name}{error.message}", file=err)
        if error.stack:
            print(error.stack.rstrip(), file=err)
        return EXIT_FAILED
    print_logs(result.logs, result.logs_dropped, err)
    print(output.json_text(render(result)), file=out, flush=True)
    return 0


@click.command()
@click.argument("file", required=False)
@click.option("--language", "-l", metavar="LANGUAGE", help="Default: from the file's suffix (stdin: javascript).")
@request_options()
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Secrets for this run, NAME=value lines (default: .env next to wasmtask.toml, if any).")
@limit_options
@json_option
def run(file: str | None, language: str | None, method: str | None, sub_path: str, query: tuple[tuple[str, str], ...],
        header: tuple[tuple[str, str], ...], data: str | None, body: str | None, env_file: Path | None,
        fuel: int | None, memory: int | None, timeout: int | None) -> int:
    """Run FILE (default: the project's entry; - for stdin) once in a fresh isolate, no server.

    The result on stdout, the function's logs on stderr (also when it fails).
    """
    from isolates import Limits
    from isolates.languages import NAMES_AND_ALIASES, language_for_file, normalize_language

    if language is not None and language.lower() not in NAMES_AND_ALIASES:
        raise click.BadParameter(f"{language!r} is not a language; one of {', '.join(NAMES_AND_ALIASES)}",
                                 param_hint="'--language'")
    project: Project | None = current_project() if file is None else None
    if file == "-":
        if data == "-" or body == "-":
            raise click.UsageError("stdin can be the code or the body, not both")
        source, filename = sys.stdin.buffer.read(), "stdin.js" if language is None else "stdin"
    else:
        path = Path(file) if file is not None else project.entry if project is not None else None
        if path is None:
            raise UsageProblem("no FILE and no wasmtask.toml here: `wasmtask run worker.js`, or `wasmtask init`",
                               code="no_project")
        try:
            source, filename = path.read_bytes(), path.name
        except OSError as exc:
            raise UsageProblem(f"{path}: {exc.strerror or 'cannot read it'}", code="no_such_file") from None
    chosen = normalize_language(language or (project.language if project else language_for_file(filename)))
    content, content_type = request_body(data, body)
    env_path = env_file or (project.root / ".env" if project and (project.root / ".env").is_file() else None)
    limits = Limits().with_overrides(**(project.limits if project else {})).with_overrides(
        fuel=fuel, memory_bytes=memory, wall_clock_ms=timeout)
    request = local_request(method=method, sub_path=sub_path, query=list(query), headers=list(header), body=content,
                            content_type=content_type, secrets=read_env_file(env_path) if env_path else None,
                            env=project.env if project else None, meta={"file": filename})
    return run_source(source, filename, chosen, request=request, limits=limits)

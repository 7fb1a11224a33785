"""``wasmtask invoke [NAME]``: one call of a deployed function's endpoint; the response body on stdout."""

from __future__ import annotations

import base64
import sys
from typing import Any

import click

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import EXIT_FAILED
from gateway.cli.options import connection_options, json_option, request_body, request_options, tenant_option
from gateway.cli.target import current_project, resolve_function, resolve_tenant

LOGS_HEADER = "x-wasmtask-logs"  # gateway/calls/logs_header.py (not imported: it loads the whole call path)


def response_document(status: int, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    """A response as JSON: the body parsed when it is JSON, text when UTF-8, else base64."""
    body: Any
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return {"status": status, "headers": headers, "body": {"base64": base64.b64encode(content).decode()}}
    body = text
    if media == "application/json" or media.endswith("+json"):
        import orjson

        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return {"status": status, "headers": headers, "body": body}


def print_call_logs(encoded: str) -> None:
    """The ``x-wasmtask-logs`` header's records, one line each, on stderr."""
    from gateway.calls import logs_header  # here, not at the top: start-up time (the call path)
    from gateway.logs import format_record

    shown = logs_header.decode(encoded)
    for record in shown["records"]:
        print(format_record(record, color=sys.stderr.isatty()), file=sys.stderr)
    if shown["dropped"]:
        print(f"({shown['dropped']} log lines dropped: over the per-call log limit)", file=sys.stderr)
    if shown.get("omitted"):
        print(f"({shown['omitted']} more lines on the live log: wasmtask logs)", file=sys.stderr)


@click.command()
@click.argument("function", metavar="[NAME]", required=False)
@click.option("--name", "-n", help="The function (or give it as NAME; default: the project's).")
@tenant_option
@request_options(path_default=None)
@click.option("--include", "-i", is_flag=True, help="Print the status and headers on stderr.")
@click.option("--logs", "-l", is_flag=True, help="Print the call's log lines on stderr (a token with scope logs).")
@connection_options
@json_option
def invoke(connection: Connection, function: str | None, name: str | None, tenant: str | None,
           sub_path: str | None, method: str | None, query: tuple[tuple[str, str], ...],
           header: tuple[tuple[str, str], ...], data: str | None, body: str | None, include: bool,
           logs: bool) -> int:
    """Call function NAME at its endpoint, like curl: the response body on stdout.

    Exits 1 when the function answers 4xx or 5xx (its error is printed as it came).
    """
    if function and name and function != name:
        raise click.UsageError(f"two names: {function!r} and --name {name!r}")
    wanted = function or name
    project = current_project() if wanted is None or tenant is None else None
    function_name = resolve_function(wanted, project)
    tenant_name = resolve_tenant(tenant, connection, project)
    content, content_type = request_body(data, body)
    headers = dict(header)
    if content_type and not any(key.lower() == "content-type" for key in headers):
        headers["content-type"] = content_type
    if logs:
        headers[LOGS_HEADER] = "1"
    url = api_path("run", tenant_name, function_name) + ("/" + sub_path.lstrip("/") if sub_path else "")
    with connection.client() as client:
        response = client.send(method or ("POST" if content is not None else "GET"), url, params=list(query),
                               headers=headers, content=content)
    if include:
        print(f"HTTP {response.status_code} {response.reason_phrase}", file=sys.stderr)
        for key, value in response.headers.items():
            print(f"{key}: {value}", file=sys.stderr)
    if logs and LOGS_HEADER in response.headers:
        print_call_logs(response.headers[LOGS_HEADER])
    if output.state.json:
        output.emit(response_document(response.status_code, dict(response.headers), response.content))
    else:
        sys.stdout.write(response.text)
        if response.text and not response.text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
    return 0 if response.status_code < 400 else EXIT_FAILED

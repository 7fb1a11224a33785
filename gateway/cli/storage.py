"""``wasmtask storage get|put`` (a function's JSON document, webtask's ``ctx.storage``) and
``wasmtask kv get|put|list|delete`` (its KV entries, ``env.KV``), over gateway/routes/storage.py.

``storage put`` takes the document from ``-d`` (the JSON itself, ``@FILE`` or ``-`` for stdin);
with ``--version N`` it fails (409 ``conflict``) when the document moved on from version N,
else it writes whatever is there. ``kv put KEY`` takes the value from ``-d`` likewise (a
string; ``--binary`` stores bytes); ``kv get KEY`` writes the value's bytes to stdout.
"""

from __future__ import annotations

import sys

import click
import orjson

from gateway.cli import output
from gateway.cli.client import Connection, raise_for_error
from gateway.cli.client import path as api_path
from gateway.cli.options import connection_options, json_option, read_data, tenant_option
from gateway.cli.target import current_project, resolve_function, resolve_tenant


def _target(connection: Connection, function: str | None, tenant: str | None) -> tuple[str, str]:
    project = current_project() if function is None or tenant is None else None
    return resolve_tenant(tenant, connection, project), resolve_function(function, project)


function_option = click.option("--function", "-f", metavar="NAME",
                               help="The function (default: wasmtask.toml's name).")
data_option = click.option("--data", "-d", "data", metavar="DATA", default="-", show_default=True,
                           help="The text itself, @FILE, or - for stdin.")


@click.group()
def storage() -> None:
    """Read or write a function's JSON document (ctx.storage)."""


@storage.command("get")
@click.argument("name", required=False)
@tenant_option
@connection_options
@json_option
def get_document(connection: Connection, name: str | None, tenant: str | None) -> int:
    """Print NAME's document and its version."""
    tenant_name, function_name = _target(connection, name, tenant)
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "storage", tenant_name, function_name))

    def human() -> None:
        output.info(f"{function_name}: version {answer['version']}")
        print(output.json_text(answer["data"]), flush=True)

    output.emit(answer, human)
    return 0


@storage.command("put")
@click.argument("name", required=False)
@data_option
@click.option("--version", "based_on", type=click.IntRange(min=0), metavar="N",
              help="Fail if the document is no longer version N (0: if any document exists).")
@tenant_option
@connection_options
@json_option
def put_document(connection: Connection, name: str | None, data: str, based_on: int | None,
                 tenant: str | None) -> int:
    """Write NAME's document (JSON, at most 500 KB)."""
    raw = read_data(data)
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON ({exc})", param_hint="'--data'") from None
    tenant_name, function_name = _target(connection, name, tenant)
    body: dict[str, object] = {"data": document}
    if based_on is not None:
        body["version"] = based_on
    with connection.client() as client:
        answer = client.json("PUT", api_path("api", "storage", tenant_name, function_name), json=body)
    output.emit(answer, lambda: output.say(f"Wrote {function_name}'s document: version [green]{answer['version']}[/]"))
    return 0


@click.group()
def kv() -> None:
    """Read, write, list or delete a function's KV entries (env.KV)."""


@kv.command("get")
@click.argument("key")
@function_option
@tenant_option
@connection_options
@json_option
def kv_get(connection: Connection, key: str, function: str | None, tenant: str | None) -> int:
    """Write KEY's value to stdout (its bytes as stored)."""
    tenant_name, function_name = _target(connection, function, tenant)
    with connection.client() as client:
        if output.state.json:
            output.emit(client.json("GET", api_path("api", "kv", tenant_name, function_name, key) + "?format=json"))
            return 0
        response = raise_for_error(client.send("GET", api_path("api", "kv", tenant_name, function_name, key)))
    sys.stdout.buffer.write(response.content)
    sys.stdout.flush()
    return 0


@kv.command("put")
@click.argument("key")
@data_option
@click.option("--ttl", type=click.IntRange(min=60), metavar="SECONDS", help="Expire after this many seconds (60+).")
@click.option("--binary", is_flag=True, help="Store bytes, not a string.")
@function_option
@tenant_option
@connection_options
@json_option
def kv_put(connection: Connection, key: str, data: str, ttl: int | None, binary: bool, function: str | None,
           tenant: str | None) -> int:
    """Set KEY to the value given with -d."""
    value = read_data(data)
    tenant_name, function_name = _target(connection, function, tenant)
    url = api_path("api", "kv", tenant_name, function_name, key) + (f"?expiration_ttl={ttl}" if ttl else "")
    content_type = "application/octet-stream" if binary else "text/plain; charset=utf-8"
    with connection.client() as client:
        raise_for_error(client.send("PUT", url, content=value, headers={"content-type": content_type}))
    output.emit({"key": key, "bytes": len(value)}, lambda: output.say(f"Set [bold]{key}[/] ({len(value)} bytes)"))
    return 0


@kv.command("list")
@click.option("--prefix", default="", help="Only keys that start with this.")
@click.option("--limit", type=click.IntRange(1, 1000), help="At most this many keys (a page).")
@click.option("--cursor", help="Resume after the page that answered this cursor.")
@function_option
@tenant_option
@connection_options
@json_option
def kv_list(connection: Connection, prefix: str, limit: int | None, cursor: str | None, function: str | None,
            tenant: str | None) -> int:
    """List keys in byte order."""
    tenant_name, function_name = _target(connection, function, tenant)
    params: dict[str, str | int] = {"prefix": prefix}
    if limit:
        params["limit"] = limit
    if cursor:
        params["cursor"] = cursor
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "kv", tenant_name, function_name), params=params)

    def human() -> None:
        output.table(["KEY", "EXPIRATION"], [(k["name"], str(k.get("expiration", ""))) for k in answer["keys"]],
                     empty=f"({function_name} has no keys{' under ' + prefix if prefix else ''})")
        if not answer["list_complete"]:
            output.info(f"more: --cursor {answer['cursor']}")

    output.emit(answer, human)
    return 0


@kv.command("delete")
@click.argument("key")
@function_option
@tenant_option
@connection_options
@json_option
def kv_delete(connection: Connection, key: str, function: str | None, tenant: str | None) -> int:
    """Delete KEY."""
    tenant_name, function_name = _target(connection, function, tenant)
    with connection.client() as client:
        raise_for_error(client.send("DELETE", api_path("api", "kv", tenant_name, function_name, key)))
    output.emit({"key": key, "deleted": True}, lambda: output.say(f"Deleted [bold]{key}[/]"))
    return 0

"""``wasmtask secret put|list|delete``: a deployed function's secrets, values never on the command line.

``put`` reads the value from stdin (``wasmtask secret put API_KEY < key.txt``) or,
on a terminal, from a prompt that does not echo it. Each change is the function's
next version (its current code with the new secrets), like ``wrangler secret put``.
"""

from __future__ import annotations

import re
import sys

import click

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import UsageProblem
from gateway.cli.options import connection_options, json_option, tenant_option
from gateway.cli.target import current_project, resolve_function, resolve_tenant

SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _secret_name(value: str) -> str:
    if not SECRET_NAME.fullmatch(value):
        raise click.BadParameter(f"{value!r}: letters, digits and '_', not starting with a digit (e.g. API_KEY)",
                                 param_hint="'SECRET'")
    return value


def _target(connection: Connection, function: str | None, tenant: str | None) -> tuple[str, str]:
    project = current_project() if function is None or tenant is None else None
    return resolve_tenant(tenant, connection, project), resolve_function(function, project)


function_option = click.option("--function", "-f", metavar="NAME",
                               help="The function (default: wasmtask.toml's name).")


@click.group()
def secret() -> None:
    """Set, list or delete a function's secrets (values are never shown)."""


@secret.command("put")
@click.argument("secret_name", metavar="SECRET")
@function_option
@tenant_option
@connection_options
@json_option
def put(connection: Connection, secret_name: str, function: str | None, tenant: str | None) -> int:
    """Set SECRET from stdin, or from a prompt that does not echo it."""
    _secret_name(secret_name)
    tenant_name, function_name = _target(connection, function, tenant)
    if sys.stdin.isatty():
        value = click.prompt(f"Value of {secret_name} for {function_name}", hide_input=True, err=True)
    else:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value  # `echo s3cret | ...` adds one
        value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise UsageProblem(f"the value of {secret_name} is empty (pipe it in, or type it at the prompt)",
                           code="empty_secret")
    with connection.client() as client:
        answer = client.json("PUT", api_path("api", "functions", tenant_name, function_name, "secrets", secret_name),
                             json={"value": value})
    output.emit(answer, lambda: output.say(
        f"Set secret [bold]{secret_name}[/] on {function_name}: now [green]{answer['version']}[/]"))
    return 0


@secret.command("list")
@function_option
@tenant_option
@connection_options
@json_option
def list_secrets(connection: Connection, function: str | None, tenant: str | None) -> int:
    """The names of the function's secrets."""
    tenant_name, function_name = _target(connection, function, tenant)
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "functions", tenant_name, function_name, "secrets"))
    output.emit(answer, lambda: output.table(["SECRET"], [(name,) for name in answer["secrets"]],
                                             empty=f"({function_name} has no secrets)"))
    return 0


@secret.command("delete")
@click.argument("secret_name", metavar="SECRET")
@function_option
@tenant_option
@connection_options
@json_option
def delete(connection: Connection, secret_name: str, function: str | None, tenant: str | None) -> int:
    """Remove SECRET from the function."""
    _secret_name(secret_name)
    tenant_name, function_name = _target(connection, function, tenant)
    with connection.client() as client:
        answer = client.json("DELETE",
                             api_path("api", "functions", tenant_name, function_name, "secrets", secret_name))
    output.emit(answer, lambda: output.say(
        f"Deleted secret [bold]{secret_name}[/] from {function_name}: now [green]{answer['version']}[/]"))
    return 0

"""``wasmtask functions list|get|delete``: a tenant's functions."""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import UsageProblem
from gateway.cli.options import connection_options, json_option, tenant_option
from gateway.cli.target import current_project, resolve_function, resolve_tenant


@click.group()
def functions() -> None:
    """List, show or delete functions."""


@functions.command("list")
@tenant_option
@connection_options
@json_option
def list_functions(connection: Connection, tenant: str | None) -> int:
    """The tenant's functions and their current versions."""
    tenant_name = resolve_tenant(tenant, connection, current_project() if tenant is None else None)
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "functions", tenant_name))
    output.emit(answer, lambda: output.table(
        ["NAME", "VERSION", "LANGUAGE", "AUTH", "UPDATED"],
        [(f["name"], f["version"], f["language"], f["auth"], output.ago(f["updated_at"])) for f in answer["functions"]],
        empty=f"(tenant {tenant_name} has no functions: `wasmtask deploy` makes one)"))
    return 0


def _target(connection: Connection, function: str | None, name: str | None,
            tenant: str | None) -> tuple[str, str]:
    if function and name and function != name:
        raise UsageProblem(f"two names: {function!r} and --name {name!r}")
    wanted = function or name
    project = current_project() if wanted is None or tenant is None else None
    return resolve_tenant(tenant, connection, project), resolve_function(wanted, project)


def show(answer: dict[str, Any]) -> None:
    limits = answer.get("limits", {})
    rows = [
        ("name", answer["name"]), ("tenant", answer["tenant"]), ("version", answer["version"]),
        ("language", answer["language"]), ("file", answer.get("filename") or "-"), ("auth", answer["auth"]),
        ("limits", ", ".join(f"{key}={value:,}" for key, value in limits.items())),
        ("allowed hosts", ", ".join(answer.get("allowed_hosts", [])) or "-"),
        ("env", ", ".join(f"{key}={value}" for key, value in answer.get("env", {}).items()) or "-"),
        ("secrets", ", ".join(answer.get("secrets", [])) or "-"),
        ("updated", output.ago(answer.get("updated_at"))),
    ]
    if answer.get("note"):
        rows.append(("note", answer["note"]))
    output.fields(rows)


@functions.command("get")
@click.argument("function", metavar="[NAME]", required=False)
@click.option("--name", "-n", help="The function (or give it as NAME; default: the project's).")
@tenant_option
@connection_options
@json_option
def get_function(connection: Connection, function: str | None, name: str | None, tenant: str | None) -> int:
    """A function's current version: language, limits, env, secret names (never values or code)."""
    tenant_name, function_name = _target(connection, function, name, tenant)
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "functions", tenant_name, function_name))
    output.emit(answer, lambda: show(answer))
    return 0


@functions.command("delete")
@click.argument("function", metavar="[NAME]", required=False)
@click.option("--name", "-n", help="The function (or give it as NAME).")
@tenant_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask (needed when stdin is not a terminal).")
@connection_options
@json_option
def delete_function(connection: Connection, function: str | None, name: str | None, tenant: str | None,
                    yes: bool) -> int:
    """Delete a function and all its versions."""
    tenant_name, function_name = _target(connection, function, name, tenant)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageProblem(f"deleting {function_name} needs --yes when not asked on a terminal",
                               code="not_confirmed")
        click.confirm(f"Delete {function_name} (tenant {tenant_name}) and all its versions?", abort=True,
                      err=True)
    with connection.client() as client:
        answer = client.json("DELETE", api_path("api", "functions", tenant_name, function_name))
    output.emit(answer, lambda: output.say(f"Deleted {function_name} (tenant {tenant_name})"))
    return 0

"""``wasmtask tenants ...`` and ``wasmtask token issue|revoke``: what the admin key does, on the control plane.

Tenants and tokens are the control plane's (gateway/control_plane.py): these commands
send to ``--control-url`` (env WASMTASK_CONTROL_URL; ``wasmtask serve`` prints it),
except ``tenants get``, which any serving listener answers to a tenant's own token.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import UsageProblem
from gateway.cli.options import ParamType, PositiveInt, PositiveNumber, connection_options, json_option
from gateway.cli.target import checked_name

SCOPES = ("run", "deploy", "logs")
_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_TTL_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class TimeToLive(ParamType):
    """Seconds, or a number with s, m, h or d."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        match = _TTL.match(str(value))
        if not match or int(match.group(1)) < 1:
            self.fail(f"{value!r} is not a duration (e.g. 3600, 12h or 7d)", param, ctx)
        return int(match.group(1)) * _TTL_SECONDS[match.group(2).lower()]


F = TypeVar("F", bound=Callable[..., Any])


def control_options(function: F) -> F:
    """``--control-url`` (under ``connection_options``): the command's ``connection`` names it."""

    @functools.wraps(function)
    def wrapper(*args: Any, control_url: str | None, connection: Connection, **kwargs: Any) -> Any:
        if control_url:
            connection = dataclasses.replace(connection, control_url=control_url.rstrip("/"))
        return function(*args, connection=connection, **kwargs)

    return click.option("--control-url", metavar="URL",
                        help="The control plane (env WASMTASK_CONTROL_URL; default http://127.0.0.1:8081)."
                        )(wrapper)  # type: ignore[return-value]


def _admin(connection: Connection) -> Connection:
    if not connection.admin_key:
        raise UsageProblem("this needs the admin key: --admin-key KEY or WASMTASK_ADMIN_KEY (`make serve` prints it)",
                           code="missing_admin_key")
    return connection


def describe_tenant(tenant: dict[str, Any]) -> str:
    rate = tenant.get("rate_limit", {})
    return (f"{tenant['name']}: {rate.get('per_second', 0):g}/s (burst {rate.get('burst')}), "
            f"{tenant.get('concurrency')} calls at once")


@click.group()
def tenants() -> None:
    """Create, list, show or delete tenants (admin key)."""


@tenants.command("create")
@click.argument("name")
@click.option("--rate", type=PositiveNumber("50"), help="Requests per second.")
@click.option("--burst", type=PositiveInt("100"), help="Token bucket size.")
@click.option("--concurrency", type=PositiveInt("4"), help="Calls in flight at once.")
@connection_options
@control_options
@json_option
def create(connection: Connection, name: str, rate: float | None, burst: int | None,
           concurrency: int | None) -> int:
    """Create tenant NAME."""
    body: dict[str, Any] = {"name": checked_name(name, "tenant", "acme")}
    limits = {key: value for key, value in (("per_second", rate), ("burst", burst)) if value is not None}
    if limits:
        body["rate_limit"] = limits
    if concurrency is not None:
        body["concurrency"] = concurrency
    with _admin(connection).control_client(admin=True) as client:
        answer = client.json("POST", "/api/tenants", json=body)
    output.emit(answer, lambda: output.say(f"Created tenant {describe_tenant(answer)}"))
    return 0


@tenants.command("list")
@connection_options
@control_options
@json_option
def list_tenants(connection: Connection) -> int:
    """Every tenant and its limits."""
    with _admin(connection).control_client(admin=True) as client:
        answer = client.json("GET", "/api/tenants")
    output.emit(answer, lambda: output.table(
        ["NAME", "RATE", "BURST", "CONCURRENCY", "CREATED"],
        [(t["name"], f"{t['rate_limit']['per_second']:g}/s", t["rate_limit"]["burst"], t["concurrency"],
          output.ago(t["created_at"])) for t in answer["tenants"]]))
    return 0


@tenants.command("get")
@click.argument("name")
@connection_options
@json_option
def get_tenant(connection: Connection, name: str) -> int:
    """Tenant NAME's limits (the admin key, or any token of the tenant)."""
    with connection.client(admin=bool(connection.admin_key)) as client:
        answer = client.json("GET", api_path("api", "tenants", checked_name(name, "tenant", "acme")))
    output.emit(answer, lambda: output.fields([
        ("name", answer["name"]),
        ("rate limit", f"{answer['rate_limit']['per_second']:g}/s, burst {answer['rate_limit']['burst']}"),
        ("concurrency", answer["concurrency"]),
        ("max limits", ", ".join(f"{key}={value:,}" for key, value in answer["max_limits"].items())),
        ("created", output.ago(answer["created_at"])),
    ]))
    return 0


@tenants.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (needed when stdin is not a terminal).")
@connection_options
@control_options
@json_option
def delete_tenant(connection: Connection, name: str, yes: bool) -> int:
    """Delete tenant NAME with all its functions."""
    checked_name(name, "tenant", "acme")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageProblem(f"deleting tenant {name} needs --yes when not asked on a terminal",
                               code="not_confirmed")
        click.confirm(f"Delete tenant {name} and all its functions?", abort=True, err=True)
    with _admin(connection).control_client(admin=True) as client:
        answer = client.json("DELETE", api_path("api", "tenants", name))
    output.emit(answer, lambda: output.say(f"Deleted tenant {name}"))
    return 0


@click.group()
def token() -> None:
    """Issue tenant tokens (admin key), or revoke them."""


@token.command("issue")
@click.option("--tenant", "-t", required=True, help="The tenant the token is for.")
@click.option("--scopes", default=",".join(SCOPES), show_default=True, help="Comma-separated: run,deploy,logs.")
@click.option("--expires-in", type=TimeToLive(), help="Lifetime: seconds, or e.g. 12h, 7d (default one day).")
@click.option("--function", "function", metavar="NAME",
              help="Narrow the token to function NAME: it reads, deploys, runs and tails only that function "
                   "(an embedded editor's token).")
@connection_options
@control_options
@json_option
def issue(connection: Connection, tenant: str, scopes: str, expires_in: int | None, function: str | None) -> int:
    """Print a new token for a tenant, or for one of its functions (use it as WASMTASK_TOKEN)."""
    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown or not wanted:
        raise click.BadParameter(f"{scopes!r}: a comma-separated list of {', '.join(SCOPES)} (e.g. run,logs)",
                                 param_hint="'--scopes'")
    body: dict[str, Any] = {"tenant": checked_name(tenant, "tenant", "demo"), "scopes": wanted}
    if expires_in is not None:
        body["expires_in"] = expires_in
    if function is not None:
        body["function"] = checked_name(function, "function", "hello")
    with _admin(connection).control_client(admin=True) as client:
        answer = client.json("POST", "/api/tokens", json=body)
    output.emit(answer, lambda: print(answer["token"], flush=True))
    return 0


@token.command("revoke")
@click.argument("token_or_id")
@connection_options
@control_options
@json_option
def revoke(connection: Connection, token_or_id: str) -> int:
    """Revoke a token: TOKEN_OR_ID is the token itself, or its id (the jti that `token issue --json`
    shows). The admin key revokes any token; a tenant token its own tenant's. Every serving
    process refuses it within a change poll (0.2 s)."""
    value = token_or_id.strip()
    body = {"token": value} if value.count(".") == 2 else {"jti": value}
    if not connection.admin_key and not connection.token:
        raise UsageProblem("this needs the admin key or a token of the tenant: --admin-key or --token",
                           code="missing_credentials")
    with connection.control_client(admin=bool(connection.admin_key)) as client:
        answer = client.json("POST", "/api/tokens/revoke", json=body)
    output.emit(answer, lambda: output.say(f"Revoked token {answer['jti']} of tenant {answer['tenant']}"))
    return 0

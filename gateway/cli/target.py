"""Which function of which tenant a command means: its flags first, then the project (wasmtask.toml),
then ``WASMTASK_TENANT``, then the tenant the token was issued for."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.cli.client import Connection, tenant_of_token
from gateway.cli.errors import UsageProblem
from gateway.cli.project import Project, find_manifest, load
from gateway.names import NAME_PATTERN


def current_project(start: Path | None = None) -> Project | None:
    """The project of the current directory (or a parent), checked; None outside a project."""
    manifest = find_manifest(start)
    return load(manifest) if manifest is not None else None


def checked_name(value: str, what: str, example: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise UsageProblem(f"invalid {what} {value!r}: use 1-63 characters from a-z, 0-9 and '-' (e.g. {example})",
                           code="invalid_request")
    return value


def resolve_tenant(tenant: str | None, connection: Connection, project: Project | None = None) -> str:
    chosen = (tenant or (project.tenant if project else None) or os.environ.get("WASMTASK_TENANT")
              or tenant_of_token(connection.token))
    if not chosen:
        raise UsageProblem("which tenant? pass --tenant T, set WASMTASK_TENANT, add tenant = \"T\" to wasmtask.toml,"
                           " or use a tenant token (WASMTASK_TOKEN)", code="missing_tenant")
    return checked_name(chosen, "tenant", "demo")


def resolve_function(name: str | None, project: Project | None) -> str:
    chosen = name or (project.name if project else None)
    if not chosen:
        raise UsageProblem("which function? give its NAME, or run this in a project directory (wasmtask.toml)",
                           code="missing_name")
    return checked_name(chosen, "function name", "hello")

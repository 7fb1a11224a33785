"""``wasmtask deploy``, ``versions`` and ``rollback``: a function's versions on a gateway."""

from __future__ import annotations

import base64
import contextlib
import re
import sys
from pathlib import Path
from typing import Any, Literal

import click

from gateway.cli import output
from gateway.cli.client import Connection
from gateway.cli.client import path as api_path
from gateway.cli.errors import UsageProblem
from gateway.cli.options import PAIR, connection_options, json_option, limit_options, limits_dict, tenant_option
from gateway.cli.project import Project, read_env_file
from gateway.cli.target import checked_name, current_project, resolve_function, resolve_tenant

FILENAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")  # what the API takes as a file name
COMPILED = frozenset({"c", "zig", "rust", "assemblyscript", "python"})  # built on the server: seconds


def endpoint(connection: Connection, tenant: str, name: str) -> str:
    return f"{connection.url}{api_path('run', tenant, name)}"


def read_source(source: Path) -> bytes:
    """The code: the file's bytes, or stdin's for ``-``."""
    if str(source) == "-":
        return sys.stdin.buffer.read()
    try:
        return source.read_bytes()
    except OSError as exc:
        raise UsageProblem(f"{source}: cannot read it: {exc.strerror}", code="no_such_file") from None


def deploy_body(source: Path, code: bytes, language: str, *, limits: dict[str, int], env: dict[str, str],
                allowed_hosts: list[str], auth: str | None, secrets: dict[str, str] | None,
                schedule: str | Literal[False] | None = False) -> dict[str, Any]:
    """The JSON of ``PUT /api/functions/{tenant}/{name}`` for ``code`` read from ``source``."""
    body: dict[str, Any] = {"language": language}
    if language == "wasm" and code.startswith(b"\0asm"):
        body["code_base64"] = base64.b64encode(code).decode()
    else:
        try:
            body["code"] = code.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageProblem(f"{source}: not UTF-8 text", code="invalid_code") from None
    if str(source) != "-" and FILENAME.fullmatch(source.name):
        body["filename"] = source.name
    for key, value in (("limits", limits), ("env", env), ("allowed_hosts", allowed_hosts)):
        if value:
            body[key] = value
    if auth:
        body["auth"] = auth
    if secrets is not None:
        body["secrets"] = secrets
    if schedule is not False:  # False: not given, the function keeps its schedule; None or "": removed
        body["schedule"] = schedule
    return body


def name_from_file(source: Path) -> str:
    """'examples/Hello_World.js' -> 'hello-world'."""
    return re.sub(r"[^a-z0-9-]+", "-", source.stem.lower()).strip("-")[:63] or "function"


def deploy_project_or_file(connection: Connection, *, file: Path | None, project: Project | None, name: str | None,
                           tenant: str | None, language: str | None, env: tuple[tuple[str, str], ...] = (),
                           allow: tuple[str, ...] = (), auth: str | None = None,
                           flag_limits: dict[str, int] | None = None,
                           secrets: dict[str, str] | None = None, schedule: str | None = None) -> dict[str, Any]:
    """Deploy (the project, or ``file`` with flags on top); the gateway's answer plus the endpoint ``url``."""
    from isolates.languages import language_for_file, normalize_language  # here: start-up time (isolates)

    source = file if file is not None else project.entry if project is not None else None
    if source is None:
        raise UsageProblem("no wasmtask.toml here: give a FILE (`wasmtask deploy worker.js`), or start a project "
                           "with `wasmtask init`", code="no_project")
    from_stdin = str(source) == "-"
    if from_stdin and not name:
        raise UsageProblem("code from stdin needs --name (and --language unless it is JavaScript)", code="missing_name")
    if not from_stdin and not source.is_file():
        raise UsageProblem(f"{source}: no such file", code="no_such_file")
    function = checked_name(name or (project.name if project else name_from_file(source)), "function name", "hello")
    tenant_name = resolve_tenant(tenant, connection, project)
    chosen = language or (project.language if project and file is None else None) or (
        "javascript" if from_stdin else language_for_file(source.name))
    chosen = normalize_language(chosen)
    body = deploy_body(
        source, read_source(source), chosen,
        limits={**(project.limits if project else {}), **(flag_limits or {})},
        env={**(project.env if project else {}), **dict(env)},
        allowed_hosts=[*(project.allowed_hosts if project else ()), *allow],
        auth=auth or (project.auth if project else None),
        secrets=secrets,
        # --schedule; else a project's (wasmtask.toml is the whole configuration: none there removes it)
        schedule=schedule if schedule is not None else project.schedule if project and file is None else False,
    )
    shown = f"{'stdin' if from_stdin else source.name} ({chosen})"
    waiting = (output.progress(f"building {shown} on the gateway") if chosen in COMPILED
               else contextlib.nullcontext())
    with connection.client() as client, waiting:
        answer: dict[str, Any] = client.json("PUT", api_path("api", "functions", tenant_name, function), json=body)
    answer["url"] = endpoint(connection, tenant_name, function)
    return answer


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--name", "-n", help="The function's name (default: wasmtask.toml's, or the file's).")
@tenant_option
@click.option("--language", "-l", metavar="LANGUAGE",
              help="javascript, wasm, c, zig, rust, assemblyscript, python (default: from the suffix).")
@click.option("--env", "-e", type=PAIR, multiple=True, help="A plain value K=V (repeatable).")
@click.option("--allow", multiple=True, metavar="HOST", help="A host fetch() may reach (repeatable).")
@click.option("--auth", type=click.Choice(["public", "token"]), help="Who may call the endpoint.")
@click.option("--schedule", metavar="CRON", help="Also run it at each tick of CRON (five fields, UTC), e.g. "
              "'*/5 * * * *'; '' removes the schedule.")
@click.option("--secrets-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Set every secret from a .env file (NAME=value lines); without it the secrets are kept.")
@click.option("--secret", "-s", type=PAIR, multiple=True,
              help="A secret K=V (visible in shell history: prefer `wasmtask secret put` or --secrets-file).")
@limit_options
@connection_options
@json_option
def deploy(connection: Connection, file: Path | None, name: str | None, tenant: str | None, language: str | None,
           env: tuple[tuple[str, str], ...], allow: tuple[str, ...], auth: str | None, secrets_file: Path | None,
           secret: tuple[tuple[str, str], ...], fuel: int | None, memory: int | None, timeout: int | None,
           schedule: str | None) -> int:
    """Deploy the project here (wasmtask.toml), or FILE (- for stdin), as the function's next version.

    Prints the endpoint's URL. The code is compiled and its top-level code run on the
    gateway before the new version takes over; if that fails, the current one keeps serving.
    """
    if language is not None:
        from isolates.languages import NAMES_AND_ALIASES  # here: start-up time

        if language.lower() not in NAMES_AND_ALIASES:
            raise click.BadParameter(f"{language!r} is not a language; one of {', '.join(NAMES_AND_ALIASES)}",
                                     param_hint="'--language'")
    secrets: dict[str, str] | None = None
    if secrets_file is not None or secret:
        secrets = {**(read_env_file(secrets_file) if secrets_file else {}), **dict(secret)}
    if secret:
        output.warn("--secret puts the value in your shell history and the process list; "
                    "prefer `wasmtask secret put NAME` (stdin or a prompt) or --secrets-file")
    project = current_project() if file is None or name is None else None
    answer = deploy_project_or_file(connection, file=file, project=project, name=name, tenant=tenant,
                                    language=language, env=env, allow=allow, auth=auth,
                                    flag_limits=limits_dict(fuel, memory, timeout), secrets=secrets,
                                    schedule=schedule)

    def human() -> None:
        details = answer.get("deploy", {})
        took = f", prepared in {details['prepare_ms']:.0f} ms" if "prepare_ms" in details else ""
        output.say(f"Deployed [bold]{answer['name']}[/] [green]{answer['version']}[/] to tenant {answer['tenant']}"
                   f" ({answer['language']}{took})")
        output.say(f"  {answer['url']}")
        if answer.get("schedule"):
            output.say(f"  runs at {answer['schedule']['schedule']} (UTC): `wasmtask runs {answer['name']}`")

    output.emit(answer, human)
    return 0


@click.command()
@click.argument("name", required=False)
@tenant_option
@connection_options
@json_option
def versions(connection: Connection, name: str | None, tenant: str | None) -> int:
    """List the versions of function NAME (default: the project's); * marks the current one."""
    project = current_project() if name is None or tenant is None else None
    function = resolve_function(name, project)
    tenant_name = resolve_tenant(tenant, connection, project)
    with connection.client() as client:
        answer = client.json("GET", api_path("api", "functions", tenant_name, function, "versions"))
    output.emit(answer, lambda: output.table(
        ["VERSION", "CREATED", "LANGUAGE", "NOTE"],
        [(f"{v['version']} *" if v["current"] else v["version"], output.ago(v["created_at"]), v["language"],
          v.get("note", "")) for v in answer["versions"]]))
    return 0


@click.command()
@click.argument("name", required=False)
@click.argument("version", required=False)
@tenant_option
@connection_options
@json_option
def rollback(connection: Connection, name: str | None, version: str | None, tenant: str | None) -> int:
    """Make VERSION (default: the one before the current) of function NAME current again.

    The old version's code and configuration become the function's next version (so
    `wasmtask rollback` again undoes it); the secrets stay as they are now. Atomic like a deploy.
    """
    if version is not None and not re.fullmatch(r"v?[1-9][0-9]*", version.strip().lower()):
        raise click.BadParameter(f"{version!r} is not a version (e.g. v2)", param_hint="'VERSION'")
    project = current_project() if name is None or tenant is None else None
    function = resolve_function(name, project)
    tenant_name = resolve_tenant(tenant, connection, project)
    body = {"version": version} if version else {}
    with connection.client() as client:
        answer = client.json("POST", api_path("api", "functions", tenant_name, function, "rollback"), json=body)
    answer["url"] = endpoint(connection, tenant_name, function)
    output.emit(answer, lambda: output.say(
        f"Rolled back [bold]{function}[/] to {answer['rolled_back_to']}: now [green]{answer['version']}[/]"
        f" (was {answer['rolled_back_from']})\n  {answer['url']}"))
    return 0

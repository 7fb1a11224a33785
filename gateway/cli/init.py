"""``wasmtask init [DIRECTORY] [--template T]``: a new project (wasmtask.toml, a handler, .gitignore)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from gateway.cli import output
from gateway.cli.client import tenant_of_token
from gateway.cli.errors import UsageProblem
from gateway.cli.options import json_option
from gateway.cli.project import MANIFEST
from gateway.cli.target import checked_name
from gateway.cli.templates import GITIGNORE, TEMPLATES, manifest


def default_name(directory: Path) -> str:
    """The directory's name as a function name ('My App' -> 'my-app'), or 'hello'."""
    name = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")[:63]
    return name if name and name[0].isalnum() else "hello"


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--template", "-T", "template_name", type=click.Choice(list(TEMPLATES)), default="js",
              show_default=True, help="The handler to start from.")
@click.option("--name", "-n", help="The function's name (default: the directory's).")
@click.option("--tenant", "-t", help="The tenant to deploy to (default: WASMTASK_TENANT, the token's, or demo).")
@click.option("--force", is_flag=True, help="Overwrite an existing wasmtask.toml and handler.")
@json_option
def init(directory: Path, template_name: str, name: str | None, tenant: str | None, force: bool) -> int:
    """Write a new project into DIRECTORY (default: here).

    \b
    Templates:
      js              a JSON API: module.exports = function (ctx, cb)
      worker          Workers: export default { fetch(request, env) }
      webtask         full HTTP control: function (ctx, req, res)
      c, rust, zig, assemblyscript, python
    """
    template = TEMPLATES[template_name]
    function_name = checked_name(name or default_name(directory), "function name", "hello")
    tenant = checked_name(tenant or os.environ.get("WASMTASK_TENANT") or tenant_of_token(
        os.environ.get("WASMTASK_TOKEN")) or "demo", "tenant", "demo")
    files = {MANIFEST: manifest(function_name, tenant, template), template.entry: template.source,
             ".gitignore": GITIGNORE}
    existing = [file for file in (MANIFEST, template.entry) if (directory / file).exists()]
    if existing and not force:
        raise UsageProblem(f"{directory / existing[0]} exists already: pick another directory, or --force to "
                           "overwrite", code="exists")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file, text in files.items():
        path = directory / file
        if file == ".gitignore" and path.exists():
            if ".env" not in path.read_text(encoding="utf-8").split():
                path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + GITIGNORE, encoding="utf-8")
            continue
        path.write_text(text, encoding="utf-8")
        written.append(file)

    def human() -> None:
        shown = directory if str(directory) != "." else Path.cwd().name
        output.say(f"Created [bold]{function_name}[/] ({template_name}: {template.description}) in {shown}/")
        for file in written:
            output.say(f"  {file}")
        output.say("Next:")
        if str(directory) != ".":
            output.say(f"  cd {directory}")
        output.say("  wasmtask dev       [dim]# serve it locally, redeploy on every save[/]")
        output.say("  wasmtask deploy    [dim]# deploy it to $WASMTASK_URL (make serve prints the variables)[/]")

    output.emit({"name": function_name, "tenant": tenant, "template": template_name, "directory": str(directory),
                 "entry": template.entry, "files": written}, human)
    return 0

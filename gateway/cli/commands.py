"""The ``wasmtask`` command line: the click front, the list of commands, and ``main`` (errors -> exit codes).

Each command lives in its own module and is imported only when it runs (the
table below carries the one-line help ``wasmtask --help`` shows), so the help
and a mistyped command cost the import of click and nothing else: measured in
gateway/cli/__init__.py's docstring. Exit codes: gateway/cli/errors.py.
"""

from __future__ import annotations

import difflib
import os
import sys
from typing import Any

import click

from gateway.cli import output
from gateway.cli.client import ApiError, GatewayUnreachable
from gateway.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_UNREACHABLE, EXIT_USAGE, CliError

# name: (module, attribute, section, one line of help)
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "init": ("gateway.cli.init", "init", "Develop", "Write a new project: wasmtask.toml and a handler."),
    "dev": ("gateway.cli.dev", "dev", "Develop", "Serve the project locally; redeploy on every save."),
    "run": ("gateway.cli.local_run", "run", "Develop", "Run a file once in a fresh isolate (no server)."),
    "bench": ("gateway.cli.bench", "bench", "Develop", "Measure what functions cost per call; compare to a baseline."),
    "deploy": ("gateway.cli.deploy", "deploy", "Deploy", "Deploy the project (or a file) as a function."),
    "invoke": ("gateway.cli.invoke", "invoke", "Deploy", "Call a deployed function's endpoint."),
    "logs": ("gateway.cli.tail", "logs", "Deploy", "Follow a tenant's live logs, filtered."),
    "versions": ("gateway.cli.deploy", "versions", "Deploy", "List a function's versions."),
    "rollback": ("gateway.cli.deploy", "rollback", "Deploy", "Make an earlier version current again."),
    "secret": ("gateway.cli.secrets", "secret", "Deploy", "Set, list or delete a function's secrets."),
    "functions": ("gateway.cli.functions", "functions", "Deploy", "List, show or delete functions."),
    "storage": ("gateway.cli.storage", "storage", "Deploy", "Read or write a function's JSON document (ctx.storage)."),
    "kv": ("gateway.cli.storage", "kv", "Deploy", "Read, write, list or delete a function's KV entries."),
    "jobs": ("gateway.cli.jobs", "jobs", "Deploy", "Queue runs of a function (async jobs) and read their results."),
    "runs": ("gateway.cli.jobs", "runs", "Deploy", "A function's recent runs by cron and async jobs."),
    "serve": ("gateway.cli.server", "serve_command", "Operate", "Run the gateway (HTTP API and endpoints)."),
    "tenants": ("gateway.cli.admin", "tenants", "Operate", "Create, list, show or delete tenants (admin key)."),
    "token": ("gateway.cli.admin", "token", "Operate", "Issue a tenant token (admin key)."),
    "completion": ("gateway.cli.completion", "completion", "Operate", "Print the shell completion script."),
}
SECTIONS = ("Develop", "Deploy", "Operate")

EPILOG = """\b
Start: `wasmtask init hello && cd hello && wasmtask dev`.
Every command takes --help; those that talk to a gateway read
WASMTASK_URL, WASMTASK_TOKEN and WASMTASK_ADMIN_KEY (`make serve` prints them).

\b
Exit codes: 0 ok; 1 the gateway or the function said no; 2 bad usage
(a flag, a file, wasmtask.toml); 3 the gateway cannot be reached;
130 interrupted."""

# What to try next, by the API's error code.
HINTS = {
    "unauthorized": "check --token / WASMTASK_TOKEN (`make serve` prints one; "
                    "`wasmtask token issue --tenant T` makes another with the admin key)",
    "forbidden": "the token is for another tenant or lacks the scope: issue one with "
                 "`wasmtask token issue --tenant T --scopes run,deploy,logs`",
    "language_unavailable": "the server lacks this language's toolchain (the message says what to install)",
    "runtime_unavailable": "the server has no JavaScript runtime: run `make runtime` there",
    "rate_limited": "the tenant is over its rate limit: wait a moment and retry",
}


class Commands(click.Group):
    """Commands imported when used; help from the table; a close match suggested for a typo."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute, _, _ = COMMANDS[cmd_name]
        import importlib

        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            close = difflib.get_close_matches(name, list(COMMANDS), n=2, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint} (`wasmtask --help` lists them)", ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `wasmtask ... | head`: stop printing, quietly
            _quiet_stdout()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for section in SECTIONS:
            rows = [(name, text) for name, (_, _, where, text) in COMMANDS.items() if where == section]
            with formatter.section(section):
                formatter.write_dl(rows)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EPILOG)
@click.version_option(package_name="wasmtask", prog_name="wasmtask", message="%(prog)s %(version)s")
@click.option("--json", "as_json", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: output.set_json(value),
              help="Print one JSON document on stdout (for scripts); every command takes it too.")
def cli() -> None:
    """Run untrusted code per HTTP request in fresh WebAssembly isolates."""


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (never a traceback for anything a user can cause)."""
    output.reset()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result: Any = cli.main(args=args, prog_name="wasmtask", standalone_mode=False)
        return int(result or 0)
    except click.exceptions.Exit as done:  # --help, --version inside a sub-command's parsing
        return int(done.exit_code)
    except click.UsageError as exc:
        _usage_error(exc)
        return EXIT_USAGE
    except CliError as exc:
        _report(exc.code, exc.message, exc.hint, exc.envelope())
        return exc.exit_code
    except click.ClickException as exc:
        _report("failed", exc.format_message(), "", {"error": {"code": "failed", "message": exc.format_message()}})
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except ApiError as exc:  # the gateway's error envelope, or no answer at all
        hint = HINTS.get(exc.code, "")
        if isinstance(exc, GatewayUnreachable):
            hint = ("is the gateway running? Start one with `make serve` (or `wasmtask serve`), "
                    "or set --url / WASMTASK_URL")
        name = exc.details.get("name")
        text = str(exc) if not name else str(exc).replace(f"{exc.code}: ", f"{exc.code}: {name}: ", 1)
        _report(exc.code, text, hint, exc.envelope(), location=exc.details.get("location"))
        return EXIT_UNREACHABLE if isinstance(exc, GatewayUnreachable) else 1


def _usage_error(exc: click.UsageError) -> None:
    if output.state.json:
        print(output.json_text({"error": {"code": "invalid_usage", "message": exc.format_message()}}))
    if exc.ctx is not None:
        print(exc.ctx.get_usage(), file=sys.stderr)
        print(f"Try '{exc.ctx.command_path} --help' for help.", file=sys.stderr)
    print(f"error: {exc.format_message()}", file=sys.stderr)


def _report(code: str, message: str, hint: str, envelope: dict[str, Any], location: Any = None) -> None:
    """One error: the envelope on stdout with --json; a line (or a few) on stderr."""
    try:
        if output.state.json:
            print(output.json_text(envelope), flush=True)
        where = ""
        if isinstance(location, dict) and location.get("file"):
            column = f":{location['column']}" if location.get("column") else ""
            where = f"{location['file']}:{location['line']}{column}: "
        print(f"error: {where}{message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
    except BrokenPipeError:
        _quiet_stdout()


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass

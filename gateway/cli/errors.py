"""The CLI's errors and exit codes: every failure a user can cause is one clear message with a stable code.

    0    success
    1    the gateway or the function said no: an error envelope (``code`` is the API's),
         a function that failed, code that does not build
    2    bad usage: a flag, an argument, a missing file, a bad wasmtask.toml or .env
    3    the gateway cannot be reached
    130  interrupted (Ctrl-C)
    141  stdout was closed early (``| head``): nothing more is printed

``main`` (commands.py) maps ``ApiError``, ``GatewayUnreachable`` and click's own
usage errors to these; a command raises ``CliError`` (or a subclass) for the rest.
"""

from __future__ import annotations

from typing import Any

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class CliError(click.ClickException):
    """A failure the command explains: ``code`` (stable, for ``--json``), a message, maybe a hint."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, code: str = "failed", hint: str = "", details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.hint = hint
        self.details = details or {}

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class UsageProblem(CliError):
    """Bad input from the command line or the project: a missing file, a bad manifest."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, code: str = "invalid_usage", hint: str = "") -> None:
        super().__init__(message, code=code, hint=hint)


class FunctionFailed(CliError):
    """The function ran (``run``, ``invoke``) and failed; its error was printed already."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the function failed: {code}", code=code)

"""``wasmtask completion bash|zsh|fish``: the shell's completion script (click's), to source once."""

from __future__ import annotations

import os

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS), required=False)
def completion(shell: str | None) -> int:
    """Print the completion script for SHELL (default: $SHELL's).

    \b
    bash:  eval "$(wasmtask completion bash)"   # in ~/.bashrc
    zsh:   eval "$(wasmtask completion zsh)"    # in ~/.zshrc
    fish:  wasmtask completion fish > ~/.config/fish/completions/wasmtask.fish
    """
    from click.shell_completion import get_completion_class

    from gateway.cli.commands import cli

    chosen = shell or os.path.basename(os.environ.get("SHELL", "bash"))
    if chosen not in SHELLS:
        raise click.BadParameter(f"{chosen!r}: one of {', '.join(SHELLS)} (e.g. wasmtask completion bash)",
                                 param_hint="'SHELL'")
    completer = get_completion_class(chosen)
    assert completer is not None
    click.echo(completer(cli, {}, "wasmtask", "_WASMTASK_COMPLETE").source())
    return 0

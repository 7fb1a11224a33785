"""What the CLI prints: tables and sentences for people, one JSON document for scripts (``--json``).

Results go to stdout; progress, logs and errors to stderr (in ``--json`` mode an
error is also the JSON document on stdout: ``{"error": {"code", "message", ...}}``).
rich draws the tables, the colours and the spinners; it is imported on first use
(~60 ms), so ``wasmtask --help`` and the JSON paths never pay for it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from rich.console import Console


class _State:
    json = False  # --json: every command prints one JSON document on stdout
    stdout: Console | None = None
    stderr: Console | None = None


state = _State()


def reset() -> None:
    """Back to defaults (each ``main()`` starts here: the tests run many in one process)."""
    state.json = False
    state.stdout = state.stderr = None


def set_json(enabled: bool) -> None:
    if enabled:
        state.json = True


def console(*, stderr: bool = False) -> Console:
    """rich's console on stdout or stderr (created on first use; colour only on a terminal, never with NO_COLOR)."""
    from rich.console import Console  # here, not at the top: start-up time

    if stderr:
        if state.stderr is None or state.stderr.file is not sys.stderr:
            state.stderr = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        return state.stderr
    if state.stdout is None or state.stdout.file is not sys.stdout:
        state.stdout = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    return state.stdout


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode()


def emit(value: Any, human: Callable[[], None] | None = None) -> None:
    """The command's result: ``value`` as JSON with ``--json`` (or without a ``human`` form), else ``human()``."""
    if state.json or human is None:
        print(json_text(value), flush=True)
    else:
        human()


def say(text: str) -> None:
    """A line for people on stdout (rich markup allowed); nothing in ``--json`` mode."""
    if not state.json:
        console().print(text)


def info(text: str) -> None:
    """A line on stderr: progress, where things are, what happens next (rich markup allowed)."""
    console(stderr=True).print(text)


def warn(text: str) -> None:
    console(stderr=True).print(f"[yellow]warning:[/] {text}")


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "(none)") -> None:
    """A table on stdout (plain columns when stdout is not a terminal)."""
    if not rows:
        say(f"[dim]{empty}[/]")
        return
    from rich import box
    from rich.table import Table  # here, not at the top: start-up time

    out = console()
    grid = Table(box=box.SIMPLE_HEAD if out.is_terminal else None, show_edge=False, pad_edge=False,
                 header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    out.print(grid)


def fields(rows: Sequence[tuple[str, Any]]) -> None:
    """``key: value`` lines, the keys aligned (one record for people)."""
    width = max((len(key) for key, _ in rows), default=0)
    for key, value in rows:
        say(f"[bold]{key + ':':<{width + 1}}[/] {_escape(str(value))}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def ago(timestamp: float | None) -> str:
    """'12s ago', '5m ago', '3h ago', '2d ago'."""
    if not timestamp:
        return "-"
    seconds = max(0.0, time.time() - timestamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


@contextlib.contextmanager
def progress(what: str) -> Iterator[None]:
    """A long step (a build): a spinner with the elapsed time on a terminal, else a start line;
    then one line with how long it took. On stderr, so stdout stays the result."""
    started = time.monotonic()
    err = console(stderr=True)
    try:
        if err.is_terminal:
            with err.status(f"{what} ...", spinner="dots") as status:
                def tick() -> None:
                    status.update(f"{what} ... {time.monotonic() - started:.0f} s")

                with _ticker(tick):
                    yield
        else:
            err.print(f"{what} ...")
            yield
    except BaseException:
        err.print(f"[dim]{what}: failed after {time.monotonic() - started:.1f} s[/]")
        raise
    err.print(f"[dim]{what}: done in {time.monotonic() - started:.1f} s[/]")


@contextlib.contextmanager
def _ticker(tick: Callable[[], None], every: float = 1.0) -> Iterator[None]:
    import threading

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            tick()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()

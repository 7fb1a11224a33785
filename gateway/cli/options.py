"""The CLI's flag types and the option groups several commands share.

Every bad value is answered with the flag's name and an example (click prints
"Invalid value for '--timeout': ..."). Durations and sizes need a unit:
``--timeout 2`` would otherwise be 2 ms, ``--memory 64`` 64 bytes.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from gateway.cli import output
from gateway.cli.client import Connection

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    ParamType = click.ParamType[Any, Any]  # generic since click 8.5
else:
    ParamType = click.ParamType

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$", re.IGNORECASE)
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_BYTES = {"b": 1, "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mi": 1024**2,
               "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3}
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)\s*$", re.IGNORECASE)
_COUNT_FACTOR = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}
MIN_BARE_BYTES = 64 * 1024  # a bare number below one Wasm page is surely a missing unit


def parse_duration_ms(text: str) -> int:
    """'2s' -> 2000, '150ms' -> 150, '1m' -> 60000; ``ValueError`` without a unit."""
    match = _DURATION.match(text)
    if not match:
        if re.fullmatch(r"\s*\d+(\.\d+)?\s*", text):
            raise ValueError(f"{text.strip()!r} has no unit: write {text.strip()}s or {text.strip()}ms")
        raise ValueError(f"{text!r} is not a duration (e.g. 2s, 500ms, 1m)")
    return max(1, round(float(match.group(1)) * _DURATION_MS[match.group(2).lower()]))


def parse_size(text: str) -> int:
    """'64MiB' -> 67108864, '512KiB' -> 524288, '67108864' -> 67108864; ``ValueError`` for '64'."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 64MiB, 512KiB)")
    unit = (match.group(2) or "").lower()
    number = float(match.group(1))
    if not unit and number < MIN_BARE_BYTES:
        raise ValueError(f"{text.strip()!r} has no unit: write {text.strip()}MiB (or a number of bytes >= 65536)")
    return int(number * _SIZE_BYTES.get(unit, 1))


def parse_count(text: str) -> int:
    """'200000000', '200_000_000', '200M' -> 200000000 (decimal suffixes k, M, G)."""
    match = _COUNT.match(text.replace("_", ""))
    if not match:
        raise ValueError(f"{text!r} is not a number (e.g. 200000000 or 200M)")
    value = int(float(match.group(1)) * _COUNT_FACTOR[match.group(2).lower()])
    if value < 1:
        raise ValueError(f"{text!r} must be at least 1")
    return value


class _Parsed(ParamType):
    """A flag value read by one of the parsers above."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = _Parsed("duration", parse_duration_ms)
SIZE = _Parsed("size", parse_size)
COUNT = _Parsed("count", parse_count)


class Pair(ParamType):
    """``K=V``."""

    name = "K=V"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, sep, rest = str(value).partition("=")
        if not sep or not key:
            self.fail(f"expected K=V (e.g. name=ada), got {value!r}", param, ctx)
        return key, rest


class Header(ParamType):
    """``'Name: value'``."""

    name = "'NAME: VALUE'"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, sep, rest = str(value).partition(":")
        if not sep or not key.strip():
            self.fail(f"expected 'Name: value' (e.g. 'x-trace: 1'), got {value!r}", param, ctx)
        return key.strip(), rest.strip()


class PositiveInt(ParamType):
    name = "N"

    def __init__(self, example: str) -> None:
        self.example = example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        try:
            number = int(str(value).replace("_", ""))
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"{value!r} is not a positive whole number (e.g. {self.example})", param, ctx)
        return number


class PositiveNumber(ParamType):
    name = "X"

    def __init__(self, example: str) -> None:
        self.example = example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            number = 0.0
        if not number > 0:
            self.fail(f"{value!r} is not a number above 0 (e.g. {self.example})", param, ctx)
        return number


PAIR = Pair()
HEADER = Header()


def read_data(value: str) -> bytes:
    """``-d`` like curl: the text itself, ``@FILE`` (its bytes) or ``-`` (stdin)."""
    if value == "-":
        return sys.stdin.buffer.read()
    if value.startswith("@"):
        source = Path(value[1:])
        try:
            return source.read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {source}: {exc.strerror}", param_hint="'--data'") from None
    return value.encode()


def request_body(data: str | None, body: str | None) -> tuple[bytes | None, str | None]:
    """The request body of ``run`` and ``invoke`` and its content type: ``-d`` raw bytes (no type),
    ``--body`` JSON (checked; ``application/json``), one of the two."""
    if data is not None and body is not None:
        raise click.UsageError("give the body once: -d/--data (raw bytes) or --body (JSON)")
    if body is not None:
        raw = read_data(body)
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON ({exc}); e.g. --body '{{\"x\": 1}}', or send raw bytes with -d",
                                     param_hint="'--body'") from None
        return raw, "application/json"
    if data is not None:
        return read_data(data), None
    return None, None


def json_option(function: F) -> F:
    """``--json``: one JSON document on stdout (for scripts)."""
    return click.option("--json", "as_json", is_flag=True, expose_value=False, is_eager=True,
                        callback=lambda ctx, param, value: output.set_json(value),
                        help="Print one JSON document on stdout (for scripts).")(function)


def connection_options(function: F) -> F:
    """``--url``, ``--token``, ``--admin-key``: the command gets ``connection: Connection``."""

    @functools.wraps(function)
    def wrapper(*args: Any, url: str | None, token: str | None, admin_key: str | None, **kwargs: Any) -> Any:
        return function(*args, connection=Connection.resolve(url, token, admin_key), **kwargs)

    wrapper = click.option("--admin-key", metavar="KEY", help="Admin key (env WASMTASK_ADMIN_KEY).")(wrapper)
    wrapper = click.option("--token", metavar="TOKEN", help="Tenant token (env WASMTASK_TOKEN).")(wrapper)
    wrapper = click.option("--url", metavar="URL",
                           help="Gateway URL (env WASMTASK_URL; default http://127.0.0.1:8080).")(wrapper)
    return wrapper  # type: ignore[return-value]


def request_options(path_default: str | None = "/") -> Callable[[F], F]:
    """The request a command makes: ``--method``, ``--path`` (``sub_path``), ``--query``, ``--header``,
    ``--data``, ``--body`` (``request_body`` turns the last two into bytes and a content type)."""
    options = (
        click.option("--method", "-X", metavar="METHOD", help="Default: GET, or POST with a body."),
        click.option("--path", "-p", "sub_path", default=path_default, metavar="PATH",
                     help="The path below the function, e.g. /items/7."),
        click.option("--query", "-q", type=PAIR, multiple=True, help="A query parameter K=V (repeatable)."),
        click.option("--header", "-H", type=HEADER, multiple=True, help="A header 'Name: value' (repeatable)."),
        click.option("--data", "-d", metavar="DATA", help="The body as is: text, @FILE, or - for stdin."),
        click.option("--body", metavar="JSON",
                     help="A JSON body (checked; content-type application/json); @FILE or -."),
    )

    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def tenant_option(function: F) -> F:
    return click.option("--tenant", "-t", metavar="TENANT",
                        help="Tenant (env WASMTASK_TENANT; default: wasmtask.toml's, or the token's).")(function)


def limit_options(function: F) -> F:
    function = click.option("--timeout", type=DURATION, metavar="DURATION",
                            help="Wall-clock limit per call, e.g. 2s or 500ms.")(function)
    function = click.option("--memory", type=SIZE, metavar="SIZE", help="Memory cap, e.g. 64MiB.")(function)
    return click.option("--fuel", type=COUNT, metavar="N", help="CPU budget in fuel units, e.g. 200M.")(function)


def limits_dict(fuel: int | None, memory: int | None, timeout: int | None) -> dict[str, int]:
    """The API's limit names for the flags that were given."""
    return {key: value for key, value in (("fuel", fuel), ("memory_bytes", memory), ("wall_clock_ms", timeout))
            if value is not None}

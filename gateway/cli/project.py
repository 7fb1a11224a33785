"""A project: a directory with ``wasmtask.toml`` and one source file, what ``deploy`` and ``dev`` read.

::

    name = "hello"                 # the function's name
    tenant = "demo"                # optional: --tenant, WASMTASK_TENANT, or the token's tenant
    entry = "index.js"             # the one source file (a function has no imports)
    language = "javascript"        # optional: from the entry's suffix
    auth = "public"                # or "token": callers need a token with the run scope
    allowed_hosts = ["https://api.example.com"]
    schedule = "*/5 * * * *"       # optional: cron (UTC); the function also runs at each tick

    [limits]                       # per call; omitted ones: the server's defaults
    timeout = "2s"                 # or wall_clock_ms = 2000
    memory = "64MiB"               # or memory_bytes = 67108864
    fuel = "200M"                  # or a number

    [env]                          # plain values (Workers: env)
    GREETING = "Hello"

Secrets never go in it: ``wasmtask secret put NAME`` (stdin or a prompt) for a
deployed function, a ``.env`` file (``--env-file``) for ``run`` and ``dev``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.cli.errors import UsageProblem
from gateway.cli.options import parse_count, parse_duration_ms, parse_size
from gateway.names import NAME_PATTERN

MANIFEST = "wasmtask.toml"
TOP_KEYS = ("name", "tenant", "entry", "language", "auth", "allowed_hosts", "limits", "env", "schedule")
# [limits]: the CLI's flag names (with units) and the API's own (plain numbers)
LIMIT_KEYS = {"fuel": ("fuel", parse_count), "memory": ("memory_bytes", parse_size),
              "timeout": ("wall_clock_ms", parse_duration_ms)}
API_LIMIT_KEYS = ("fuel", "memory_bytes", "wall_clock_ms", "output_bytes", "log_bytes", "log_lines")
EXAMPLES = {"name": "hello", "entry": "index.js"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Project:
    """``wasmtask.toml`` read and checked; ``entry`` is an absolute path that exists."""

    manifest: Path
    name: str
    entry: Path
    language: str
    tenant: str | None = None
    auth: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    schedule: str | None = None  # cron (gateway/cron); a project deploy without one removes the function's

    @property
    def root(self) -> Path:
        return self.manifest.parent

    def watched(self) -> set[Path]:
        """The files whose change means a redeploy (``wasmtask dev``)."""
        return {self.manifest.resolve(), self.entry.resolve()}


def find_manifest(start: Path | None = None) -> Path | None:
    """``wasmtask.toml`` in ``start`` (default: the current directory) or the nearest parent that has one."""
    directory = (start or Path.cwd()).resolve()
    for candidate in (directory, *directory.parents):
        if (candidate / MANIFEST).is_file():
            return candidate / MANIFEST
    return None


def _problem(manifest: Path, message: str) -> UsageProblem:
    return UsageProblem(f"{manifest}: {message}", code="invalid_manifest")


def _unknown(manifest: Path, key: str, known: tuple[str, ...] | list[str], where: str = "") -> UsageProblem:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
    return _problem(manifest, f"unknown key {key!r}{where}{hint}")


def load(manifest: Path) -> Project:
    """Read and check ``manifest``; ``UsageProblem`` (exit 2) naming the file and what is wrong."""
    from isolates.languages import NAMES_AND_ALIASES, language_for_file, normalize_language  # start-up time

    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _problem(manifest, f"cannot read it: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _problem(manifest, f"not valid TOML: {exc}") from None
    if "secrets" in data:
        raise _problem(manifest, "secrets never go in wasmtask.toml: set them with `wasmtask secret put NAME` "
                                 "(reads stdin or a prompt), and for `run`/`dev` in a .env file (--env-file)")
    for key in data:
        if key not in TOP_KEYS:
            raise _unknown(manifest, key, TOP_KEYS)
    name = _required(manifest, data, "name")
    if not NAME_PATTERN.fullmatch(name):
        raise _problem(manifest, f"name {name!r}: use 1-63 characters from a-z, 0-9 and '-' (e.g. \"hello\")")
    tenant = _string(manifest, data, "tenant")
    if tenant is not None and not NAME_PATTERN.fullmatch(tenant):
        raise _problem(manifest, f"tenant {tenant!r}: use 1-63 characters from a-z, 0-9 and '-' (e.g. \"demo\")")
    entry_name = _required(manifest, data, "entry")
    entry = (manifest.parent / entry_name).resolve()
    if not entry.is_file():
        raise _problem(manifest, f"entry {entry_name!r}: no such file in {manifest.parent}")
    language = _string(manifest, data, "language")
    if language is None:
        language = language_for_file(entry.name)
    elif language.lower() not in NAMES_AND_ALIASES:
        raise _problem(manifest, f"language {language!r}: one of {', '.join(NAMES_AND_ALIASES)}")
    auth = _string(manifest, data, "auth")
    if auth not in (None, "public", "token"):
        raise _problem(manifest, f"auth {auth!r}: \"public\" or \"token\"")
    hosts = data.get("allowed_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
        raise _problem(manifest, 'allowed_hosts: a list of strings, e.g. ["https://api.example.com"]')
    return Project(manifest=manifest, name=name, entry=entry, language=normalize_language(language), tenant=tenant,
                   auth=auth, allowed_hosts=tuple(hosts), limits=_limits(manifest, data.get("limits", {})),
                   env=_env(manifest, data.get("env", {})), schedule=_string(manifest, data, "schedule"))


def _required(manifest: Path, data: dict[str, Any], key: str) -> str:
    value = _string(manifest, data, key, required=True)
    assert value is not None
    return value


def _string(manifest: Path, data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _problem(manifest, f"{key!r} is missing (e.g. {key} = \"{EXAMPLES.get(key, '')}\")")
        return None
    if not isinstance(value, str):
        raise _problem(manifest, f"{key!r} must be a string")
    return value


def _limits(manifest: Path, table: Any) -> dict[str, int]:
    if not isinstance(table, dict):
        raise _problem(manifest, "[limits] must be a table")
    limits: dict[str, int] = {}
    for key, value in table.items():
        if key in LIMIT_KEYS:
            api_name, parse = LIMIT_KEYS[key]
            try:
                limits[api_name] = value if isinstance(value, int) and key == "fuel" else parse(str(value))
            except ValueError as exc:
                raise _problem(manifest, f"[limits] {key}: {exc}") from None
        elif key in API_LIMIT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _problem(manifest, f"[limits] {key}: a positive whole number")
            limits[key] = value
        else:
            raise _unknown(manifest, key, [*LIMIT_KEYS, *API_LIMIT_KEYS], " in [limits]")
    return limits


def _env(manifest: Path, table: Any) -> dict[str, str]:
    if not isinstance(table, dict):
        raise _problem(manifest, "[env] must be a table of strings")
    for key, value in table.items():
        if not ENV_NAME.fullmatch(key):
            raise _problem(manifest, f"[env] {key!r}: letters, digits and '_', not starting with a digit")
        if not isinstance(value, str):
            raise _problem(manifest, f"[env] {key}: the value must be a string (quote it)")
    return dict(table)


def read_env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file: ``NAME=value`` lines, ``#`` comments, optional ``export`` and quotes."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageProblem(f"{path}: cannot read it: {exc.strerror}", code="invalid_env_file") from None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not ENV_NAME.fullmatch(key):
            raise UsageProblem(f"{path}:{number}: expected NAME=value", code="invalid_env_file")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values

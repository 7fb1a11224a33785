"""deploy/compose*.yaml read the way Docker Compose reads them, for the keys wasmtask uses.

No compose implementation is needed (this machine has none from Debian):

- ``load(path, env)``: YAML (anchors and ``<<`` merge keys resolved by PyYAML),
  then variables substituted as Compose does: ``${VAR}``, ``${VAR:-default}``,
  ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``$VAR``, ``$$``.
- ``run_arguments(...)``: a service as ``docker run`` flags, so the Docker tier
  runs containers with exactly the settings compose.yaml gives them. A key it
  does not know is an error, never silently dropped: a new key in compose.yaml
  must be translated here (or listed as one the test wires itself).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Keys the test sets up itself (network, order, ports) or that only `docker compose build/up` uses.
WIRED_BY_THE_TEST = frozenset({"build", "pull_policy", "ports", "networks", "depends_on"})


class MissingVariable(ValueError):
    """A ``${VAR:?message}`` whose variable is unset (Compose stops with the message)."""


def substitute(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        expression = match.group("braced")
        name = NAME.match(expression)
        if name is None:
            raise ValueError(f"bad variable reference ${{{expression}}}")
        variable, rest = name.group(), expression[name.end():]
        value = env.get(variable)
        for operator in (":-", "-", ":?", "?"):
            if rest.startswith(operator):
                argument = rest[len(operator):]
                unset = value is None or (operator.startswith(":") and value == "")
                if operator.endswith("-"):
                    return substitute(argument, env) if unset else str(value)
                if unset:
                    raise MissingVariable(f"{variable}: {argument}")
                return str(value)
        if rest:
            raise ValueError(f"bad variable reference ${{{expression}}}")
        return value or ""

    return VARIABLE.sub(replace, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return substitute(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def load(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The compose file with its variables substituted from ``env``; ``x-`` extension keys dropped."""
    import yaml

    document = yaml.safe_load(path.read_text())
    return interpolate({key: value for key, value in document.items() if not key.startswith("x-")}, env)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (``#`` comments, blank lines), as ``docker compose --env-file`` reads the simple case."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def volume_name(project: str, volumes: Mapping[str, Any] | None, name: str) -> str:
    """Compose's name for a named volume: its ``name:``, else PROJECT_NAME."""
    declared = (volumes or {}).get(name) or {}
    return str(declared.get("name") or f"{project}_{name}")


def _duration_seconds(text: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(text)):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def health_arguments(healthcheck: Mapping[str, Any], interval: str | None = None) -> list[str]:
    """``--health-*`` flags; an exec-form test (``CMD``) becomes the same command for ``/bin/sh -c``."""
    test = healthcheck["test"]
    if isinstance(test, str):
        command = test
    elif test[0] == "CMD":
        command = shlex.join(test[1:])
    elif test[0] == "CMD-SHELL":
        command = test[1]
    else:
        raise ValueError(f"healthcheck test {test!r}")
    arguments = ["--health-cmd", command]
    for key, flag in (("interval", "--health-interval"), ("timeout", "--health-timeout"),
                      ("start_period", "--health-start-period"), ("retries", "--health-retries")):
        if key in healthcheck:
            arguments += [flag, str(healthcheck[key])]
    if interval is not None:
        arguments[arguments.index("--health-interval") + 1] = interval
    return arguments


def run_arguments(service: Mapping[str, Any], *, project: str, volumes: Mapping[str, Any] | None,
                  health_interval: str | None = None) -> tuple[list[str], list[str]]:
    """(``docker run`` flags before the image, the command after it) for one service."""
    flags: list[str] = []
    command: list[str] = []
    entrypoint: list[str] = []
    for key, value in service.items():
        if key in WIRED_BY_THE_TEST or key == "image":
            continue
        if key == "command":
            command = shlex.split(value) if isinstance(value, str) else [str(v) for v in value]
        elif key == "entrypoint":  # docker run takes its program; the rest goes before the command
            entrypoint = shlex.split(value) if isinstance(value, str) else [str(v) for v in value]
            flags += ["--entrypoint", entrypoint[0]]
        elif key == "environment":
            items = value.items() if isinstance(value, dict) else (entry.split("=", 1) for entry in value)
            for name, setting in items:
                flags += ["-e", f"{name}={setting}"]
        elif key == "read_only":
            flags += ["--read-only"] if value else []
        elif key == "tmpfs":
            for entry in [value] if isinstance(value, str) else value:
                flags += ["--tmpfs", entry]
        elif key in ("cap_drop", "cap_add", "security_opt"):
            for entry in value:
                flags += [f"--{key.replace('_', '-')}", entry]
        elif key in ("mem_limit", "memswap_limit", "cpus", "pids_limit", "restart", "user", "shm_size", "stop_signal"):
            flag = {"mem_limit": "--memory", "memswap_limit": "--memory-swap"}.get(key, f"--{key.replace('_', '-')}")
            flags += [flag, str(value)]
        elif key == "volumes":
            for entry in value:
                source, _, rest = entry.partition(":")
                if source.startswith(("/", ".")):
                    raise ValueError(f"bind mount {entry!r}: compose.yaml uses named volumes only")
                flags += ["-v", f"{volume_name(project, volumes, source)}:{rest}"]
        elif key == "healthcheck":
            flags += health_arguments(value, health_interval)
        elif key == "stop_grace_period":
            flags += ["--stop-timeout", str(int(_duration_seconds(value)))]
        else:
            raise ValueError(f"compose key {key!r} has no docker run translation in tests/deploy/compose_file.py")
    return flags, [*entrypoint[1:], *command]


def documented_egress_arguments(path: Path) -> list[str]:
    """The ``render_egress.py`` arguments of the command in the compose file's header comment."""
    lines = [line.removeprefix("#").strip() for line in path.read_text().splitlines() if line.startswith("#")]
    start = next(n for n, line in enumerate(lines) if line.startswith("python3 deploy/render_egress.py"))
    command = ""
    for line in lines[start:]:
        command += " " + line.removesuffix("\\")
        if not line.endswith("\\"):
            break
    words = shlex.split(command.partition("|")[0])
    return words[2:]  # after `python3 deploy/render_egress.py`

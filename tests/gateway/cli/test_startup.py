"""``wasmtask --help`` (and a typo) load click and nothing heavy: no engine, no HTTP client, no server, no rich."""

from __future__ import annotations

import subprocess
import sys

import orjson

HEAVY = ("wasmtime", "isolates", "httpx", "rich", "uvicorn", "starlette", "redis", "psycopg", "watchfiles")

PROBE = """
import sys, json
from gateway.cli import main
status = main(sys.argv[1:])
print(json.dumps([name for name in sys.modules if name.split(".")[0] in {heavy}]))
"""


def loaded_by(*argv: str) -> list[str]:
    finished = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *argv], capture_output=True,
                              text=True, timeout=60)
    return list(orjson.loads(finished.stdout.splitlines()[-1]))


def test_help_loads_nothing_heavy() -> None:
    assert loaded_by("--help") == []
    assert loaded_by("deplyo") == []


def test_a_command_help_loads_only_what_that_command_needs() -> None:
    assert not {name.split(".")[0] for name in loaded_by("init", "--help")} & {"wasmtime", "uvicorn", "starlette"}

"""Running the real CLI: in this process (``main``, fast) or as a subprocess (``python -m gateway.cli``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.cli import main

CLI_VARIABLES = ("WASMTASK_URL", "WASMTASK_CONTROL_URL", "WASMTASK_TOKEN", "WASMTASK_ADMIN_KEY", "WASMTASK_TENANT")


@dataclass
class Ran:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return orjson.loads(self.out)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                 tenant: str, cwd: Path) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.env = env
        self.tenant = tenant
        self.cwd = cwd

    def __call__(self, *argv: str, stdin: str | bytes | None = None) -> Ran:
        """``wasmtask ARGV`` in this process."""
        self.capsys.readouterr()
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        status = main(list(argv))
        captured = self.capsys.readouterr()
        return Ran(status, captured.out, captured.err)

    def process(self, *argv: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 120,
                env: dict[str, str] | None = None) -> Ran:
        """``python -m gateway.cli ARGV`` as a subprocess (exit codes, pipes, start-up as users see them)."""
        finished = subprocess.run([sys.executable, "-m", "gateway.cli", *argv], input=stdin, capture_output=True,
                                  text=True, timeout=timeout, cwd=cwd or self.cwd, env=process_env(self.env, env))
        return Ran(finished.returncode, finished.stdout, finished.stderr)


def process_env(*layers: dict[str, str] | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLI_VARIABLES}
    for layer in layers:
        env.update(layer or {})
    return {**env, "PYTHONUNBUFFERED": "1"}

"""The CLI tests: the real CLI (in this process through ``main``, or as ``python -m gateway.cli``) against one
real gateway on loopback (SQLite: the registry's engines are tested on their own, in tests/gateway/registry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import Settings
from tests.gateway.cli.support import CLI_VARIABLES, Cli
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import ADMIN_KEY, Api, ThreadServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    data_dir: Path = tmp_path_factory.mktemp("cli-gateway")
    running = ThreadServer(Settings(data_dir=data_dir, **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    yield running
    running.stop()


@pytest.fixture
def cli(api: Api, tenant: str, token: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """``wasmtask`` for a fresh tenant: WASMTASK_URL, _TOKEN (of ``tenant``) and _ADMIN_KEY set; cwd a temp dir."""
    for name in CLI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = {"WASMTASK_URL": api.url, "WASMTASK_CONTROL_URL": api.control_url, "WASMTASK_TOKEN": token["authorization"].removeprefix("Bearer "),
           "WASMTASK_ADMIN_KEY": ADMIN_KEY, "NO_COLOR": "1", "COLUMNS": "200"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return Cli(capsys, monkeypatch, env, tenant, tmp_path)

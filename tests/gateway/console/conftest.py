"""A gateway whose API allows the console's origin, and the console on its own port (both real uvicorn)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from gateway.config import Settings
from gateway.console.assets import AssetsMissing, build
from gateway.console.server import console_app
from tests.gateway.conftest import TEST_SETTINGS
from tests.gateway.support import Api, ThreadServer


class ConsoleListener:
    """The console's app under uvicorn on a port bound before the gateway exists (its origin goes in the
    gateway's settings)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self, api_url: str) -> ConsoleListener:
        self.server = uvicorn.Server(uvicorn.Config(console_app(api_url), log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the console did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=30)
        self.sock.close()


@dataclass
class ConsoleSite:
    gateway: ThreadServer
    console: ConsoleListener
    api: Api


@pytest.fixture(scope="session")
def console_assets() -> None:
    """The built assets (``make console``; built here when missing, from npm's cache or the registry)."""
    try:
        build()
    except (AssetsMissing, OSError) as exc:
        pytest.fail(f"the console's assets cannot be built: {exc}")


@pytest.fixture(scope="session")
def site(console_assets: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    data_dir: Path = tmp_path_factory.mktemp("console-gateway")
    console = ConsoleListener()
    gateway = ThreadServer(Settings(data_dir=data_dir, console_origins=(console.url,),
                                    **TEST_SETTINGS)).start()  # type: ignore[arg-type]
    console.start(gateway.url)
    yield ConsoleSite(gateway, console, Api(gateway.url))
    console.stop()
    gateway.stop()

"""The queue tests run on both engines, like the registry's (tests/gateway/registry/conftest.py); the API
tests get a slow upstream on loopback, so a job can take real seconds (guest fuel runs out in a fraction
of one, and guest timers run on virtual time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.gateway.registry.conftest import backend, postgres_database

__all__ = ["backend", "postgres_database", "slow_upstream"]


class Sleeper(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        seconds = float(parse_qs(urlsplit(self.path).query).get("s", ["1"])[0])
        time.sleep(seconds)
        body = f"slept {seconds:g}".encode()
        try:
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller was killed meanwhile (that is the test)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def slow_upstream() -> Iterator[str]:
    """``http://127.0.0.1:PORT``: ``GET /?s=2`` answers after two seconds."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sleeper)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()

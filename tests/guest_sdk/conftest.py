"""Guest SDK tests: build each language's guest with its SDK, then invoke it like a deployed function.

Builds (by ``toolchains.Toolchains``, the compiler the gateway uses) are cached
on disk by source hash (under $WASMTASK_CACHE_DIR/guests), so only the first
run pays for compilers. A language whose toolchain is missing is skipped
locally (with the reason) but fails in CI (env CI set): CI must run
`make toolchains`.
"""

from __future__ import annotations

import functools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from host_api.request import guest_request
from isolates import CallSpec, InvokeResult, IsolateError, Limits, Program, prepare
from isolates import run as run_call
from tests.toolchains.support import require_toolchain
from toolchains import Toolchains

# Enough fuel that a bomb meets the memory limit before the CPU limit, and a small memory limit.
LIMITS = Limits(fuel=2_000_000_000, memory_bytes=48 * 1024 * 1024, wall_clock_ms=10_000)

_programs: dict[tuple[str, str], Program] = {}


def program(language: str, source: str) -> Program:
    """The deployed program for ``source`` (prepared once per test session)."""
    require_toolchain(language)
    key = (language, source)
    if key not in _programs:
        _programs[key] = prepare(language, source, LIMITS, compiler=Toolchains())
    return _programs[key]


class _Upstream(BaseHTTPRequestHandler):
    """What a guest fetches: says what it saw."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f"upstream saw {self.command} {self.path}".encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@functools.cache
def upstream() -> ThreadingHTTPServer:
    """A real HTTP server on loopback for the guests' fetches (one per test process)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def upstream_url(path: str) -> str:
    return f"http://127.0.0.1:{upstream().server_address[1]}{path}"


def run(language: str, source: str, *, limits: Limits = LIMITS, **request: Any) -> InvokeResult:
    """One call, allowed to fetch from the upstream server only (http://denied.test/ is refused)."""
    spec = CallSpec(limits=limits, allowed_hosts=(upstream_url(""),))
    return run_call(program(language, source), guest_request(**request), spec)


def expect_error(language: str, source: str, code: str, *, limits: Limits = LIMITS, **request: Any) -> IsolateError:
    with pytest.raises(IsolateError) as caught:
        run(language, source, limits=limits, **request)
    assert caught.value.code == code, f"{caught.value!r}; logs: {[r.msg for r in caught.value.logs]}"
    return caught.value

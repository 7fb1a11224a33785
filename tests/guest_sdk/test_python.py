"""Python guests as components: what the SDK and isolates.component add on top of the shared tests."""

from __future__ import annotations

import socket
import time

import pytest

from isolates import IsolateError, Limits, prepare
from tests.guest_sdk.conftest import LIMITS, expect_error, run
from tests.toolchains.support import require_toolchain
from toolchains import Toolchains

pytestmark = pytest.mark.slow  # a componentize-py build is ~15 s (cached by source hash afterwards)

GUEST = r"""
import os
import random
import sys
import time

import wasmtask

loaded = 0
loaded += 1  # top-level code: runs once, at deploy
calls = 0


def helper():
    raise KeyError("missing")


def recurse(depth):
    return recurse(depth + 1)


def handle(request):
    global calls
    calls += 1
    which = request.query.get("case", "")
    if which == "state":
        return {"loaded": loaded, "calls": calls}
    if which == "print":
        print("to stdout")
        print("to stderr", file=sys.stderr)
        return None
    if which == "random":
        return {"random": random.random(), "urandom": os.urandom(8).hex()}
    if which == "clock":
        return time.time()
    if which == "traceback":
        return helper()
    if which == "recursion":
        return recurse(0)
    if which == "sleep":
        time.sleep(30)
    if which == "exit":
        sys.exit(3)
    if which == "big":
        return "x" * 2_000_000
    if which == "files":
        return open("/etc/passwd").read()
    if which == "socket":
        import socket
        socket.create_connection(("127.0.0.1", int(request.query["port"])), timeout=1)
        return "connected"
    if which == "bytes":
        return wasmtask.Response(bytes(range(256)), headers={"content-type": "application/octet-stream"})
    if which == "json":
        return {"got": request.json(), "header": request.headers.get("x-test")}
    if which == "spin":
        while True:
            pass
"""


def call(which: str, *, limits: Limits = LIMITS, **request: object) -> object:
    return run("python", GUEST, limits=limits, query=[("case", which), *request.pop("query", [])], **request)  # type: ignore[misc]


def fails(code: str, which: str, *, limits: Limits = LIMITS, **request: object) -> IsolateError:
    return expect_error("python", GUEST, code, limits=limits, query=[("case", which), *request.pop("query", [])], **request)  # type: ignore[misc]


def test_top_level_runs_once_at_deploy_and_each_call_starts_from_it() -> None:
    assert call("state").value == {"loaded": 1, "calls": 1}
    assert call("state").value == {"loaded": 1, "calls": 1}


def test_print_goes_to_the_log() -> None:
    result = call("print")
    assert [(r.level, r.msg) for r in result.logs] == [("info", "to stdout"), ("error", "to stderr")]


def test_randomness_differs_between_calls() -> None:
    first, second = call("random").value, call("random").value
    assert first["random"] != second["random"]  # the SDK reseeds `random` from the request's seed
    assert first["urandom"] != second["urandom"]


def test_clock_is_real() -> None:
    assert abs(call("clock").value - time.time()) < 60


def test_request_json_and_headers() -> None:
    result = call("json", method="POST", body=b'{"n": [1, 2]}', headers=[("X-Test", "yes")])
    assert result.value == {"got": {"n": [1, 2]}, "header": "yes"}


def test_bytes_body_round_trips() -> None:
    result = call("bytes")
    assert result.kind == "response"
    assert result.body == bytes(range(256))


def test_exception_is_guest_error_with_the_traceback() -> None:
    error = fails("guest_error", "traceback")
    assert error.name == "KeyError"
    assert "guest_function.py" in (error.stack or "") and "helper" in (error.stack or "")


def test_recursion_is_stack_overflow() -> None:
    fails("stack_overflow", "recursion")


def test_sys_exit_is_guest_error() -> None:
    assert fails("guest_error", "exit").name == "SystemExit"


def test_output_over_the_limit_is_output_limit() -> None:
    fails("output_limit", "big", limits=LIMITS.with_overrides(output_bytes=1_000_000))


def test_wall_clock_deadline_is_timeout() -> None:
    started = time.monotonic()
    fails("timeout", "spin", limits=LIMITS.with_overrides(fuel=10**12, wall_clock_ms=300))
    assert time.monotonic() - started < 5


def test_sleep_is_refused_not_waited_for() -> None:
    """WASI's blocking calls would run on the host, past the epoch deadline: they trap instead."""
    started = time.monotonic()
    error = fails("guest_error", "sleep", limits=LIMITS.with_overrides(wall_clock_ms=1_000))
    assert time.monotonic() - started < 5
    assert "sleeping" in error.message


def test_no_files() -> None:
    assert fails("guest_error", "files").name == "FileNotFoundError"


def test_no_sockets_even_to_loopback() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        fails("guest_error", "socket", query=[("port", str(port))])
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


def test_prepare_again_is_served_from_the_caches() -> None:
    require_toolchain("python")
    prepare("python", GUEST, LIMITS, compiler=Toolchains())
    started = time.monotonic()
    program = prepare("python", GUEST, LIMITS, compiler=Toolchains())
    assert time.monotonic() - started < 2
    assert program.details["load_ms"] < 1000


def test_source_without_handle_is_invalid_code() -> None:
    require_toolchain("python")
    with pytest.raises(IsolateError) as caught:
        prepare("python", "x = 1\n", LIMITS, compiler=Toolchains())
    assert caught.value.code == "invalid_code"
    assert "defines no handle(request)" in caught.value.message


def test_import_outside_the_standard_library_is_invalid_code() -> None:
    require_toolchain("python")
    with pytest.raises(IsolateError) as caught:
        prepare("python", "import starlette\n\ndef handle(request):\n    return 1\n", LIMITS, compiler=Toolchains())
    assert caught.value.code == "invalid_code"
    assert "No module named 'starlette'" in caught.value.message


def test_top_level_loop_fails_the_deploy_with_cpu_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    require_toolchain("python")
    monkeypatch.setenv("WASMTASK_BUILD_TIMEOUT_S", "30")  # a normal build takes ~10-15 s
    with pytest.raises(IsolateError) as caught:
        prepare("python", "while True:\n    pass\n\ndef handle(request):\n    return 1\n", LIMITS, compiler=Toolchains())
    assert caught.value.code == "cpu_limit"
    assert "30 s" in caught.value.message

"""A guest's HTTP response is checked the same way for every guest language (isolates/response.py)."""

from __future__ import annotations

import orjson
import pytest

from host_api.request import guest_request
from isolates import CallSpec, InvalidResponse, Limits, OutputLimitExceeded, prepare, run
from isolates.response import MAX_HEADERS, parse_response


def raw_guest(result: dict) -> str:
    """A WAT guest that answers ``result`` (a response result) to every request."""
    reply = orjson.dumps({"ok": True, "result": result})
    escaped = "".join(f"\\{byte:02x}" for byte in reply)
    return f"""
(module
  (memory (export "memory") 2)
  (data (i32.const 1024) "{escaped}")
  (global $next (mut i32) (i32.const 65536))
  (func (export "wasmtask_alloc") (param $len i32) (result i32)
    (local $p i32) (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len))) (local.get $p))
  (func (export "wasmtask_handle") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const {len(reply)}))))
"""


def answer(result: dict) -> object:
    limits = Limits()
    return run(prepare("wasm", raw_guest(result), limits), guest_request(), CallSpec(limits=limits))


@pytest.mark.parametrize("status", [100, 101, 103, 199, 600, 0, -1, "200", True, 200.5])
def test_a_status_outside_200_to_599_is_invalid_response(status: object) -> None:
    with pytest.raises(InvalidResponse, match="status"):
        answer({"type": "response", "status": status, "headers": [], "body": ""})


@pytest.mark.parametrize("status", [204, 205, 304])
def test_a_null_body_status_with_a_body_is_invalid_response(status: int) -> None:
    with pytest.raises(InvalidResponse, match=f"status {status} and a body"):
        answer({"type": "response", "status": status, "headers": [], "body": "surprise"})


def test_a_null_body_status_without_a_body_passes() -> None:
    result = answer({"type": "response", "status": 204, "headers": [["x-a", "1"]], "body": ""})
    assert (result.status, result.headers, result.body) == (204, [("x-a", "1")], b"")


@pytest.mark.parametrize("header", [
    ["bad name", "v"], ["", "v"], ["x:y", "v"], ["x-a", "one\r\nx-injected: two"], ["x-a", "nul\0"],
    ["x-a", "snow \u2603"], ["x-a"], ["x-a", 1],
])
def test_a_malformed_header_is_invalid_response(header: list) -> None:
    with pytest.raises(InvalidResponse):
        answer({"type": "response", "status": 200, "headers": [header], "body": ""})


def test_headers_the_server_owns_are_dropped_quietly() -> None:
    owned = [["Content-Length", "999"], ["transfer-encoding", "chunked"], ["connection", "close"],
             ["x-request-id", "forged"], ["x-wasmtask-logs", "forged"], ["ratelimit-remaining", "1000"],
             ["upgrade", "websocket"]]
    result = answer({"type": "response", "status": 200, "headers": [*owned, ["X-Kept", "yes"]], "body": "ok"})
    assert result.headers == [("x-kept", "yes")]


def test_too_many_or_too_large_headers_are_output_limit() -> None:
    many = [[f"x-h{i}", "v"] for i in range(MAX_HEADERS + 1)]
    with pytest.raises(OutputLimitExceeded):
        parse_response({"type": "response", "status": 200, "headers": many})
    with pytest.raises(OutputLimitExceeded):
        parse_response({"type": "response", "status": 200, "headers": [["x-big", "a" * 40_000]]})

"""The JS runtime reads a request frame as the JSON it stands for (host_api.request.encode_frame)."""

from __future__ import annotations

import datetime

import orjson
import pytest

from host_api.request import FRAME_MAGIC, encode_frame, guest_request
from isolates import CallSpec, GuestError, Limits, ModuleProgram, prepare, run

ECHO = """module.exports = function (ctx, cb) {
  cb(null, {method: ctx.method, url: ctx.url, path: ctx.path, id: ctx.id, query: ctx.query,
            queryKeys: Object.keys(ctx.query), headers: ctx.headers, body: ctx.body, raw: ctx.body_raw,
            secrets: ctx.secrets, meta: ctx.meta, metaKeys: Object.keys(ctx.meta)});
};"""

REQUEST = guest_request(
    method="post", url="http://localhost/p?a=1&a=2", path="/p",
    query=[("a", "1"), ("a", "2"), ("ü", "ö"), ("0", "zero"), ("__proto__", "own")],
    headers=[("Content-Type", "application/json"), ("X-Many", "a"), ("x-many", "b")],
    body=b'{"n": [1, 2.5, null]}', secrets={"API_KEY": "s3cret"},
    meta={"tenant": "t", "nested": {"list": [1, -3, 2.5, 2**40, 2**62, None, True, False, "s", []], "empty": {}},
          "nan": float("nan"), "é": "\u2603", "10": 10},
    request_id="r-1",
)


@pytest.fixture(scope="module")
def echo() -> ModuleProgram:
    program = prepare("javascript", ECHO, Limits())
    assert isinstance(program, ModuleProgram) and program.request_frames
    return program


def test_a_frame_gives_the_guest_what_the_json_gives(echo: ModuleProgram) -> None:
    framed = run(echo, REQUEST, CallSpec()).value
    as_json = run(echo, orjson.dumps(REQUEST), CallSpec()).value
    assert framed == as_json
    assert framed["queryKeys"] == ["0", "a", "ü", "__proto__"]  # integer-like keys first, as JSON.parse does
    assert framed["meta"]["nan"] is None
    assert framed["meta"]["nested"]["list"][4] == 4611686018427388000  # 2**62 as a JS number prints it


def test_a_body_that_is_not_utf8_arrives_the_same_way(echo: ModuleProgram) -> None:
    request = guest_request(method="POST", body=bytes(range(256)))
    framed = run(echo, request, CallSpec()).value
    assert framed == run(echo, orjson.dumps(request), CallSpec()).value


def test_what_a_frame_cannot_carry_goes_as_json(echo: ModuleProgram) -> None:
    when = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    result = run(echo, guest_request(meta={"when": when}), CallSpec()).value
    assert result["meta"] == {"when": "2026-11-29T12:00:00+00:00"}


def test_a_broken_frame_is_a_guest_error_not_a_crash(echo: ModuleProgram) -> None:
    frame = encode_frame(guest_request())
    for broken in (frame[:-3], frame + b"\x00", FRAME_MAGIC + bytes(16) + b"\xff\xff\xff\xff"):
        with pytest.raises(GuestError, match="malformed request frame"):
            run(echo, broken, CallSpec())


def test_each_call_gets_its_own_seed_from_the_frame() -> None:
    program = prepare("javascript", "module.exports = function (cb) { cb(null, Math.random()); };", Limits())
    assert len({run(program, guest_request(), CallSpec()).value for _ in range(5)}) == 5

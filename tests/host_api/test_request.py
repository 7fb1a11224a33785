"""The request frame: what encode_frame writes, and what it leaves to JSON."""

from __future__ import annotations

import struct

import pytest

from host_api.request import FRAME_MAGIC, FrameUnsupported, encode_frame, guest_request


def test_the_seed_and_the_clock_ride_in_the_header_not_in_the_object() -> None:
    frame = encode_frame({"seed": 12345, "a": "b"}, monotonic_ns=987)
    assert frame[:4] == FRAME_MAGIC
    assert struct.unpack_from("<QQI", frame, 4) == (12345, 987, 1)  # seed, clock, one member
    assert b"seed" not in frame


def test_a_seed_the_header_cannot_carry_stays_a_member() -> None:
    frame = encode_frame({"seed": "not a number"})
    assert struct.unpack_from("<QQI", frame, 4) == (0, 0, 1)
    assert b"seed" in frame


def test_members_keep_their_order_and_strings_their_utf8() -> None:
    frame = encode_frame({"z": "ü", "a": None})
    assert frame[24:] == b"\x01\x00\x00\x00z\x03\x02\x00\x00\x00\xc3\xbc" + b"\x01\x00\x00\x00a\x00"


def test_not_a_number_is_null_as_in_json() -> None:
    assert encode_frame({"x": float("nan")}) == encode_frame({"x": None})


@pytest.mark.parametrize("request_", [{1: "x"}, {"x": 2**64}, {"x": object()}, {"x": b"bytes"}],
                         ids=["int key", "huge int", "object", "bytes"])
def test_what_json_would_write_differently_is_refused(request_: dict[object, object]) -> None:
    with pytest.raises(FrameUnsupported):
        encode_frame(request_)  # type: ignore[arg-type]


def test_nesting_past_the_limit_is_refused() -> None:
    deep: dict[str, object] = {}
    for _ in range(40):
        deep = {"d": deep}
    with pytest.raises(FrameUnsupported, match="nesting"):
        encode_frame(deep)


def test_a_hello_request_is_small() -> None:
    assert len(encode_frame(guest_request())) < 160

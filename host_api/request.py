"""The request every guest's ``wasmtask_handle`` receives (guest_sdk/ABI.md): JSON, or a frame.

Every guest reads the request JSON. The JS runtime also reads the same object
as a *request frame* (``encode_frame``): a binary form its shim turns into the
object the JSON would have given, without the JSON text. What it saves a call
(parsing the JSON and its 16-digit seed was a third of a hello call's fuel):
benches/README.md, "Why the hot path is shaped this way".
"""

from __future__ import annotations

import base64
import math
import secrets as _secrets
import struct
from collections.abc import Mapping, Sequence
from typing import Any


def query_dict(pairs: Sequence[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Query pairs as webtask's ctx.query: one value a key, a list for repeated keys."""
    out: dict[str, str | list[str]] = {}
    for key, value in pairs:
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = value
    return out


def header_dict(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-case names; repeated headers joined with ', '."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def guest_request(
    *,
    method: str = "GET",
    url: str = "http://localhost/",
    path: str = "/",
    query: Sequence[tuple[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    secrets: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    meta: Mapping[str, Any] | None = None,
    request_id: str = "",
) -> dict[str, Any]:
    """Build the request JSON object. A body that is not UTF-8 travels as ``body_base64``."""
    request: dict[str, Any] = {
        "method": method.upper(),
        "url": url,
        "path": path,
        "query": query_dict(query),
        "headers": header_dict(headers),
        "body": None,
        "request_id": request_id,
        # reseeds the guest's Math.random per request (53 bits: exact in a JS number)
        "seed": _secrets.randbits(53) | 1,
    }
    # absent when empty: the guest treats a missing map as {} (less JSON to parse per call)
    for key, value in (("secrets", secrets), ("env", env), ("meta", meta)):
        if value:
            request[key] = dict(value)
    if body:
        try:
            request["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            request["body_base64"] = base64.b64encode(body).decode("ascii")
    return request


# ---- the request frame (the JS runtime's shim decodes it: guest_sdk/js/shim.c, decode_frame) ----
#
#   frame  := MAGIC seed:u64 clock:u64 object  (little-endian throughout)
#   object := count:u32 (key value)*           key := length:u32 UTF-8 bytes
#   value  := kind:u8 payload
#
# Kinds and payloads: null, false, true (none); string (length:u32, UTF-8);
# int (i64); float (f64); object; array (count:u32 value*). The seed travels in
# the header, not in the object (0: none); so does the host's monotonic clock
# (CLOCK_MONOTONIC, ns) as the call starts, the origin of the guest's
# performance.now(), which saves the guest a host call to read it (0: the guest
# reads it). A JSON text never starts with NUL, so a guest tells a frame from
# JSON by its first bytes.
FRAME_MAGIC = b"\0wtq"
FRAME_NULL, FRAME_FALSE, FRAME_TRUE, FRAME_STRING, FRAME_INT, FRAME_FLOAT, FRAME_OBJECT, FRAME_ARRAY = range(8)
FRAME_MAX_DEPTH = 32  # the shim decodes recursively on the guest's shadow stack
_INT64 = (-(2**63), 2**63 - 1)
_u32 = struct.Struct("<I").pack
_i64 = struct.Struct("<q").pack
_f64 = struct.Struct("<d").pack
_NULL = bytes([FRAME_NULL])
_TRUE, _FALSE = bytes([FRAME_TRUE]), bytes([FRAME_FALSE])
_INT_KIND, _FLOAT_KIND = bytes([FRAME_INT]), bytes([FRAME_FLOAT])
_OBJECT_KIND, _ARRAY_KIND = bytes([FRAME_OBJECT]), bytes([FRAME_ARRAY])
_EMPTY_OBJECT = _OBJECT_KIND + _u32(0)


class FrameUnsupported(ValueError):
    """A value the frame cannot carry as JSON would (the caller sends JSON instead)."""


def encode_frame(request: Mapping[str, Any], monotonic_ns: int = 0) -> bytes:
    """``request`` as a frame: decoded by the JS runtime into what ``JSON.parse(orjson.dumps(request))``
    would give (same keys in the same order, same values), apart from ``seed``, which rides in the header
    with ``monotonic_ns`` (``time.monotonic_ns()`` as the call starts; 0: the guest reads its clock).

    Raises ``FrameUnsupported`` for what orjson would encode some other way (types other than
    dict, list, tuple, str, int, float, bool and None; non-str keys; ints beyond 64 bits; nesting
    deeper than ``FRAME_MAX_DEPTH``)."""
    seed = request.get("seed")
    skip: object = "seed"  # the key left out of the object (it rides in the header)
    if not (type(seed) is int and 0 < seed < 2**63):
        seed, skip = 0, None
    out = _HEADER.pack(FRAME_MAGIC, seed, monotonic_ns, len(request) - (skip is not None))
    parts = [out]
    _encode_items(parts, request, skip, 0)
    return b"".join(parts)


_HEADER = struct.Struct("<4sQQI")  # magic, seed, clock, the top object's count


# Encoded keys ("<u32 length><UTF-8>"), kept for the names every request repeats (its own keys,
# common header names); bounded, so guest-chosen names cannot grow it without end.
_KEYS: dict[str, bytes] = {}
_MAX_KEYS = 512
_string_head = struct.Struct("<BI").pack  # a string value's kind and length, in one pack


def _encode_items(parts: list[bytes], value: Mapping[Any, Any], skip: object, depth: int) -> None:
    """An object's (key value)* into ``parts``, less the key ``skip``."""
    append = parts.append
    keys = _KEYS
    for key, item in value.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise FrameUnsupported(f"a non-string key: {key!r}")
            encoded = key.encode()
            append(_u32(len(encoded)) + encoded)
        elif key == skip:
            continue
        else:
            head = keys.get(key)
            if head is None:
                encoded = key.encode()
                head = _u32(len(encoded)) + encoded
                if len(keys) < _MAX_KEYS:
                    keys[key] = head
            append(head)
        kind = type(item)
        if kind is str:  # the usual values, written here rather than in a call
            encoded = item.encode()
            append(_string_head(FRAME_STRING, len(encoded)))
            append(encoded)
        elif item is None:
            append(_NULL)
        elif kind is dict and not item and depth + 1 < FRAME_MAX_DEPTH:
            append(_EMPTY_OBJECT)
        else:
            _encode_value(parts, item, depth + 1)


def _encode_value(parts: list[bytes], value: Any, depth: int) -> None:
    if isinstance(value, str):
        encoded = value.encode()
        parts.append(_string_head(FRAME_STRING, len(encoded)))
        parts.append(encoded)
    elif value is None:
        parts.append(_NULL)
    elif value is True or value is False:
        parts.append(_TRUE if value else _FALSE)
    elif isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise FrameUnsupported("an integer beyond 64 bits")
        parts.append(_INT_KIND)
        parts.append(_i64(value))
    elif isinstance(value, float):
        if math.isfinite(value):
            parts.append(_FLOAT_KIND)
            parts.append(_f64(value))
        else:
            parts.append(_NULL)  # as orjson writes NaN and infinities
    elif depth >= FRAME_MAX_DEPTH:
        raise FrameUnsupported(f"nesting deeper than {FRAME_MAX_DEPTH}")
    elif isinstance(value, dict):
        parts.append(_OBJECT_KIND)
        parts.append(_u32(len(value)))
        _encode_items(parts, value, None, depth)
    elif isinstance(value, (list, tuple)):
        parts.append(_ARRAY_KIND)
        parts.append(_u32(len(value)))
        for item in value:
            _encode_value(parts, item, depth + 1)
    else:
        raise FrameUnsupported(f"a value of type {type(value).__name__}")

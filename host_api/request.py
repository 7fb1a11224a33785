"""The request JSON every guest's ``wasmtask_handle`` receives (guest_sdk/ABI.md)."""

from __future__ import annotations

import base64
import secrets as _secrets
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

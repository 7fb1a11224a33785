"""A guest's reply (guest_sdk/ABI.md), read and checked the same way for every guest language.

``result_from_reply`` turns the reply JSON (``{"ok": true, "result": ...}`` or
``{"ok": false, "error": ...}``) into an ``InvokeResult`` or the typed error the
guest reported (only codes in ``host_api.abi.GUEST_REPORTABLE_CODES``; any
other claim is ``guest_error``).

A raw Wasm, C or Python guest writes its response JSON itself, so nothing
before this point has checked it. What the gateway will send must be valid
HTTP/1.1 for any request:

- the status is 200-599 (1xx and 101 belong to the server: a guest's 100 or
  101 would leave the connection without a final response or switch
  protocols under a plain GET);
- 204, 205 and 304 carry no body (uvicorn resets the connection otherwise);
- header names are tokens, values are Latin-1 without CR, LF or NUL;
- at most ``MAX_HEADERS`` headers and ``MAX_HEADER_BYTES`` of them (clients
  such as Python's http.client refuse more than 100 header lines).

A response that breaks one of these ends the call with ``invalid_response``
(``output_limit`` for the size caps). Headers that the server owns (framing,
hop-by-hop, and the ones the platform adds itself) are dropped quietly, as
Workers do with ``content-length``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import orjson

from host_api import abi
from isolates.errors import GuestError, InvalidResponse, OutputLimitExceeded, error_for_code
from isolates.limits import Limits
from isolates.result import InvokeResult

MIN_STATUS, MAX_STATUS = 200, 599
NULL_BODY_STATUSES = frozenset({204, 205, 304})
MAX_HEADERS = 64
MAX_HEADER_BYTES = 32 * 1024  # names and values
# Framing and hop-by-hop headers, and those the platform sets on every response.
SERVER_OWNED_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te", "trailer",
     "proxy-connection", "x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}
)
SERVER_OWNED_PREFIX = "x-wasmtask-"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\0]")


@dataclass(frozen=True)
class GuestResponse:
    status: int
    headers: list[tuple[str, str]]  # lower-case names, valid Latin-1 values
    body: bytes


def check_output_size(size: int, limits: Limits) -> None:
    """``OutputLimitExceeded`` when a guest's reply is over the output limit (checked before reading it)."""
    if size > limits.output_bytes:
        raise OutputLimitExceeded(f"the response is {size} bytes, over the output limit of {limits.output_bytes}")


def parse_reply(data: bytes | str) -> dict[str, Any]:
    """The reply JSON object a guest returned."""
    try:
        reply = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise GuestError(f"the guest returned an unreadable response: {exc}") from exc
    if not isinstance(reply, dict):
        raise GuestError("the guest returned a response that is not a JSON object")
    return reply


def result_from_reply(reply: dict[str, Any], limits: Limits) -> InvokeResult:
    """The InvokeResult for a guest's reply JSON, or the typed error it reports."""
    if not reply.get("ok"):
        reported = reply.get("error")
        error: dict[str, Any] = reported if isinstance(reported, dict) else {}
        code = str(error.get("code", "guest_error"))
        if code not in abi.GUEST_REPORTABLE_CODES:
            code = "guest_error"
        raise error_for_code(
            code,
            str(error.get("message", "the guest failed")),
            name=str(error["name"]) if error.get("name") else None,
            stack=str(error["stack"]) if error.get("stack") else None,
        )
    result = reply.get("result")
    if not isinstance(result, dict):
        raise GuestError("the guest's response has no result")
    if result.get("type") == "response":
        response = parse_response(result)
        if len(response.body) > limits.output_bytes:
            raise OutputLimitExceeded("the response body is over the output limit")
        return InvokeResult(kind="response", status=response.status, headers=response.headers, body=response.body)
    return InvokeResult(kind="json", value=result.get("value"))


def parse_response(result: dict[str, Any]) -> GuestResponse:
    """The checked response of a guest's ``{"type": "response", ...}`` result."""
    status = result.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not MIN_STATUS <= status <= MAX_STATUS:
        raise InvalidResponse(f"the function's response has status {status!r}; it must be an integer from "
                              f"{MIN_STATUS} to {MAX_STATUS}")
    headers = parse_headers(result.get("headers") or [])
    body = parse_body(result)
    if body and status in NULL_BODY_STATUSES:
        raise InvalidResponse(f"the function's response has status {status} and a body; a {status} has none")
    return GuestResponse(status, headers, body)


def parse_headers(pairs: Any) -> list[tuple[str, str]]:
    if not isinstance(pairs, list):
        raise InvalidResponse("the function's response headers must be a list of [name, value] pairs")
    headers: list[tuple[str, str]] = []
    size = 0
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise InvalidResponse(f"the function's response has a malformed header {pair!r}")
        name, value = pair[0].lower(), pair[1].strip(" \t")
        if not _TOKEN.fullmatch(name):
            raise InvalidResponse(f"the function's response has an invalid header name {pair[0]!r}")
        if _FORBIDDEN_IN_VALUE.search(value):
            raise InvalidResponse(f"the function's response header {name!r} contains CR, LF or NUL")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidResponse(f"the function's response header {name!r} has characters above U+00FF "
                                  "(encode them, e.g. with encodeURIComponent)") from None
        size += len(name) + len(value)
        if name in SERVER_OWNED_HEADERS or name.startswith(SERVER_OWNED_PREFIX):
            continue
        headers.append((name, value))
    if len(headers) > MAX_HEADERS or size > MAX_HEADER_BYTES:
        raise OutputLimitExceeded(f"the function's response has {len(headers)} headers of {size} bytes; "
                                  f"at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes")
    return headers


def parse_body(result: dict[str, Any]) -> bytes:
    if result.get("body_base64") is not None:
        try:
            return base64.b64decode(result["body_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise GuestError("the guest's response body is not valid base64") from exc
    body_text = result.get("body")
    return body_text.encode() if isinstance(body_text, str) else b""

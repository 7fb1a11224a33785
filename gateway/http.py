"""HTTP helpers shared by the routes: orjson responses, capped body reading, JSON parsing, header filters."""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import InvalidRequest, PayloadTooLarge

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def new_request_id() -> str:
    return secrets.token_hex(12)


def accept_request_id(incoming: str | None) -> str:
    """A well-formed incoming id is kept (for tracing across services); anything else is replaced."""
    if incoming and _REQUEST_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or ``PayloadTooLarge`` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest("content-length is not a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"the body is {declared} bytes, over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, what: str = "the body") -> Any:
    if not body:
        raise InvalidRequest(f"{what} is empty; expected JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"{what} is not valid JSON: {exc}") from None


def parse_json_object(body: bytes, what: str = "the body") -> dict[str, Any]:
    value = parse_json(body, what)
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be a JSON object")
    return value


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()

"""A call's own log lines in its HTTP response, for local development.

Send ``x-wasmtask-logs: 1`` with an invocation (an edge call or an ad-hoc run),
with a token of the function's tenant that has the ``logs`` scope (or the admin
key); the response, success or error, then carries ``x-wasmtask-logs``: the
call's records as base64url-encoded JSON ``{"records": [...], "dropped": N}``.
Without the header nothing changes. ``wasmtask invoke --logs`` decodes it.

The header is at most ``MAX_HEADER_BYTES`` long (common clients refuse longer
header lines: Python's http.client at 64 KiB): the first records that fit are
sent, and ``"omitted": N`` counts the ones left out (the live stream,
``wasmtask logs``, has them all). Secret values are masked in the records
before they get here (host_api.log.SecretMask), as on the live stream.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request

from gateway.identity.auth import authorize, check_tenant
from gateway.registry import Tenant
from gateway.service import Gateway
from host_api.log import LogRecord
from isolates import IsolateError

LOGS_HEADER = "x-wasmtask-logs"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def requested(request: Request, gateway: Gateway, tenant: Tenant) -> bool:
    """Whether the caller asked for the logs; asking needs the ``logs`` scope (401/403 otherwise)."""
    if request.headers.get(LOGS_HEADER, "").strip().lower() not in TRUE_VALUES:
        return False
    check_tenant(authorize(gateway.principal(request.headers), tenant.name, "logs",
                           function=request.path_params.get("name")), tenant)  # None: an ad-hoc run
    request.state.call_logs_requested = True
    return True


MAX_HEADER_BYTES = 8 * 1024
_MAX_JSON_BYTES = MAX_HEADER_BYTES // 4 * 3  # base64 grows 3 bytes into 4
_ENVELOPE_BYTES = 64  # {"records":[],"dropped":N,"omitted":N}
TRUNCATED = " [truncated]"


def encode(records: Iterable[LogRecord], dropped: int) -> str:
    """The header value: as many records as fit in ``MAX_HEADER_BYTES``, in order."""
    kept: list[bytes] = []
    omitted = 0
    room = _MAX_JSON_BYTES - _ENVELOPE_BYTES
    for record in records:
        if omitted:
            omitted += 1
            continue
        encoded = orjson.dumps(record.to_dict(), default=str)
        if len(encoded) + 1 > room:
            encoded = _shortened(record, room - 1) if not kept else b""
            if not encoded:
                omitted += 1
                continue
        kept.append(encoded)
        room -= len(encoded) + 1
    payload = b'{"records":[' + b",".join(kept) + b'],"dropped":' + str(dropped).encode()
    if omitted:
        payload += b',"omitted":' + str(omitted).encode()
    return base64.urlsafe_b64encode(payload + b"}").decode("ascii")


def _shortened(record: LogRecord, room: int) -> bytes:
    """The record with its message cut so that its JSON fits ``room`` bytes (b"" if nothing fits)."""
    fixed = len(orjson.dumps({**record.to_dict(), "msg": TRUNCATED}, default=str))
    if fixed > room:
        return b""
    message = record.msg
    budget = room - fixed
    while True:  # JSON escaping can grow a character up to 6 bytes: shrink until it fits
        cut = message.encode("utf-8")[: max(budget, 0)].decode("utf-8", "ignore")
        encoded = orjson.dumps({**record.to_dict(), "msg": cut + TRUNCATED}, default=str)
        if len(encoded) <= room or not cut:
            return encoded if len(encoded) <= room else b""
        budget -= len(encoded) - room


def decode(value: str) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    return decoded


def header_for_error(request: Request, error: IsolateError) -> dict[str, str]:
    """The logs header for a failed call, when the caller asked for it."""
    if not getattr(request.state, "call_logs_requested", False):
        return {}
    return {LOGS_HEADER: encode(error.logs, error.logs_dropped)}

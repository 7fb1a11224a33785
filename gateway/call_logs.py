"""A call's own log lines in its HTTP response, for local development.

Send ``x-wasmtask-logs: 1`` with an invocation (an edge call or an ad-hoc run),
with a token of the function's tenant that has the ``logs`` scope (or the admin
key); the response, success or error, then carries ``x-wasmtask-logs``: the
call's records as base64url-encoded JSON ``{"records": [...], "dropped": N}``.
Without the header nothing changes. ``wasmtask invoke --logs`` decodes it.
"""

from __future__ import annotations

import base64
from typing import Any, Iterable

import orjson
from starlette.requests import Request

from gateway.auth import authorize
from gateway.service import Gateway
from host_api.log import LogRecord

LOGS_HEADER = "x-wasmtask-logs"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def requested(request: Request, gateway: Gateway, tenant: str) -> bool:
    """Whether the caller asked for the logs; asking needs the ``logs`` scope (401/403 otherwise)."""
    if request.headers.get(LOGS_HEADER, "").strip().lower() not in TRUE_VALUES:
        return False
    authorize(gateway.principal(request.headers), tenant, "logs")
    request.state.call_logs_requested = True
    return True


def encode(records: Iterable[LogRecord], dropped: int) -> str:
    payload = {"records": [record.to_dict() for record in records], "dropped": dropped}
    return base64.urlsafe_b64encode(orjson.dumps(payload, default=str)).decode("ascii")


def decode(value: str) -> dict[str, Any]:
    return orjson.loads(base64.urlsafe_b64decode(value.encode("ascii")))


def header_for_error(request: Request, error: Exception) -> dict[str, str]:
    """The logs header for a failed call, when the caller asked for it."""
    if not getattr(request.state, "call_logs_requested", False) or not hasattr(error, "log_records"):
        return {}
    return {LOGS_HEADER: encode(error.log_records, getattr(error, "logs_dropped", 0))}

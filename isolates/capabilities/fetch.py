"""``fetch``: a guest's outbound HTTP through ``host_api.fetch``, behind the call's egress policy.

The session is opened at the call's first fetch (most calls never fetch), with
the spec's allow-list, fetch caps, CDN-Loop value and the call's own deadline.
Core modules: ``wasmtask.fetch(ptr, len) -> answer length`` stages the answer,
``wasmtask.staged_read(ptr, len)`` copies it out. Components: ``fetch(request)
-> answer`` of the world, strings both ways.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import orjson

from host_api import abi
from host_api.egress import EgressPolicy
from host_api.fetch import FetchSession
from host_api.log import CallLog
from isolates import raw
from isolates.call_context import GuestMemoryError, current
from isolates.capabilities.base import Capability, ComponentFunction, ModuleFunction
from isolates.spec import CallSpec

MAX_FETCH_REQUEST_BYTES = 8 << 20


@functools.lru_cache(maxsize=1024)
def egress_policy(allowed_hosts: tuple[str, ...]) -> EgressPolicy:
    """Parsed once per distinct allow-list (validated already at deploy)."""
    return EgressPolicy.from_strings(allowed_hosts)


class GuestFetch:
    """A call's fetches: a ``FetchSession`` opened on first use, closed with the call."""

    def __init__(self, spec: CallSpec, log: CallLog) -> None:
        self._spec = spec
        self._log = log
        self._deadline = time.monotonic() + spec.limits.wall_clock_ms / 1000
        self._session: FetchSession | None = None

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._session is None:
            spec = self._spec
            self._session = FetchSession(egress_policy(spec.allowed_hosts), spec.fetch_limits, self._deadline,
                                         log=self._log.write, cdn_loop=spec.cdn_loop)
        return self._session.fetch(request)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def failure(code: str, message: str) -> bytes:
    return orjson.dumps({"ok": False, "error": {"code": code, "message": message}})


def answer(request_json: bytes | str) -> bytes:
    """The JSON answer to a guest's fetch request; never raises."""
    context = current()
    if context is None:
        return failure("fetch_failed", "no call")
    if len(request_json) > MAX_FETCH_REQUEST_BYTES:
        return failure("fetch_limit", "fetch request too large")
    try:
        request = orjson.loads(request_json)
        if not isinstance(request, dict):
            raise ValueError("fetch request must be a JSON object")
        return orjson.dumps(context.fetch(request))
    except ValueError as exc:
        return failure("fetch_failed", str(exc))
    except Exception as exc:  # a host-side fault must not crash the process or the call
        return failure("fetch_failed", f"internal error: {type(exc).__name__}")


def module_fetch(context_ptr: raw.RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return -1
    if length > MAX_FETCH_REQUEST_BYTES:
        context.staged = failure("fetch_limit", "fetch request too large")
    else:
        try:
            context.staged = answer(context.read(context_ptr, ptr, length))
        except GuestMemoryError as exc:
            context.staged = failure("fetch_failed", str(exc))
    return len(context.staged)


def module_staged_read(context_ptr: raw.RawContext, ptr: int, length: int) -> int:
    context = current()
    if context is None:
        return -1
    data = context.staged[: max(0, length)]
    try:
        context.write(context_ptr, ptr, data)
    except GuestMemoryError:
        return -1
    context.staged = b""
    return len(data)


def component_fetch(_store: object, request_json: str) -> str:
    return answer(request_json).decode("utf-8")


FETCH = Capability(
    name="fetch",
    module_functions=(
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_FETCH, ("i32", "i32"), ("i32",), module_fetch),
        ModuleFunction(abi.IMPORT_MODULE, abi.IMPORT_STAGED_READ, ("i32", "i32"), ("i32",), module_staged_read),
    ),
    component_functions=(ComponentFunction("", abi.COMPONENT_IMPORT_FETCH, component_fetch),),
)

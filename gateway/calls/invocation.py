"""The hot path, gateway side: one call of a program, with logs, events, metrics, and the HTTP response.

Steps (DESIGN.md, "The request path"): the route has authenticated,
rate-limited and found the program (flow.py); here we take a tenant slot and a
server slot (``Admission``), hand the call to ``isolates.run`` (one ``CallSpec``:
limits, allow-list, secrets to mask, the tenant's live log as the sink) on a
worker thread or, when short, inline (gateway/inline.py), publish its start/end
events to the tenant's live log, and turn the result into a response. Errors
propagate as ``IsolateError`` and are rendered by the one error handler (gateway/app.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from gateway.http import JSONResponse, request_id
from gateway.identity.credentials import CredentialFilter
from gateway.inline import Stopped, attempt_inline
from gateway.logs.bus import LogBus
from gateway.registry import Tenant
from gateway.service import API_BUCKET, EDGE_BUCKET, Gateway, admission_key
from host_api.log import LogRecord
from host_api.request import guest_request
from isolates import CallSpec, ComponentProgram, InvokeResult, IsolateError, Limits, ModuleProgram, Program, run


def bucket_for(kind: str) -> str:
    """The tenant's rate bucket and concurrency gate a call of ``kind`` counts against: public
    edge calls their own, ad-hoc runs the tenant's API one (gateway/service.py)."""
    return EDGE_BUCKET if kind == "edge" else API_BUCKET


@dataclass(frozen=True)
class CallTarget:
    """What to run and how to label it: ``kind`` is "run" (ad-hoc) or "edge" (a deployed function)."""

    tenant: Tenant
    kind: str
    function: str = ""
    version: str = ""
    allowed_hosts: tuple[str, ...] = ()
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    cdn_loop: str = ""  # what the call's fetches send as CDN-Loop (cdn_loop.py)


async def call(
    gateway: Gateway,
    target: CallTarget,
    program: Program | Callable[[], Program],
    request: dict[str, Any],
    limits: Limits,
) -> InvokeResult:
    """Run ``program`` (or, for ad-hoc runs, the program ``program()`` prepares on the worker thread).

    The tenant's live log gets the call's start event, its lines and its end event: a
    short call run inline publishes them in one batch at the end (one lock, one wake-up
    per reader); a call on a worker thread streams its lines as they are written."""
    tenant = target.tenant
    call_id = str(request.get("request_id", ""))
    fields = {"tenant": tenant.name}
    if target.function:
        fields.update(function=target.function, version=target.version)
    logs = gateway.logs
    spec = CallSpec(
        limits=limits,
        allowed_hosts=target.allowed_hosts,
        secrets=tuple(target.secrets.values()) if target.secrets else (),
        log_sink=logs.sink(tenant.name),
        log_fields=fields,
        request_id=call_id,
        cdn_loop=target.cdn_loop,
        # a deployed function's own document and KV (gateway/storage); ad-hoc runs have none
        storage=gateway.storage.binding(tenant.name, target.function) if target.function else None,
    )
    start = LogRecord(time.time(), "debug", "invocation start", call_id,
                      {**fields, "event": "invocation_start", "kind": target.kind})
    held: list[LogRecord] | None = None  # the batch an inline call publishes at its end
    started = time.perf_counter()

    def work() -> InvokeResult:
        prepared = program if isinstance(program, (ModuleProgram, ComponentProgram)) else program()
        return run(prepared, request, spec)

    try:
        result = None
        inline_key = (tenant.name, target.function, target.version)
        if isinstance(program, (ModuleProgram, ComponentProgram)) and target.kind == "edge" and \
                gateway.inline.eligible(program, inline_key, target.allowed_hosts):
            held = [start]
            try:
                attempt = attempt_inline(program, request, spec, gateway.inline.after_response)
            except IsolateError as error:
                held.extend(error.logs)
                raise
            if isinstance(attempt, Stopped):
                if attempt is Stopped.FUEL:
                    gateway.inline.mark_slow(inline_key)
                held = None
            else:
                result = attempt
                held.extend(result.logs)
        if result is None:
            logs.publish(tenant.name, start.to_dict())
            result = await gateway.admission.run(admission_key(tenant, bucket_for(target.kind)),
                                                 gateway.concurrency_share(tenant), work)
    except IsolateError as error:
        duration = time.perf_counter() - started
        gateway.metrics.observe_call(target.kind, error.code, duration, error.fuel_used)
        end = LogRecord(time.time(), "error", f"invocation failed: {error.code}: {error.message}", call_id,
                        {**fields, "event": "invocation_end", "code": error.code, "fuel_used": error.fuel_used,
                         "duration_ms": round(duration * 1000, 3)})
        _publish(logs, tenant.name, held, end)
        raise
    duration = time.perf_counter() - started
    finish = functools.partial(_finish, gateway, target.kind, tenant.name, held, result, duration, time.time(),
                               call_id, fields)
    if held is None:
        finish()
    else:  # an inline call: its log batch and metrics wait until its response is out
        gateway.inline.after_response.defer(finish)
    return result


def _finish(gateway: Gateway, kind: str, tenant: str, held: list[LogRecord] | None, result: InvokeResult,
            duration: float, ended: float, call_id: str, fields: dict[str, str]) -> None:
    """A successful call's metrics and end event."""
    gateway.metrics.observe_call(kind, "ok", duration, result.fuel_used)
    end_fields: dict[str, Any] = {**fields, "event": "invocation_end", "code": "ok", "fuel_used": result.fuel_used,
                                  "duration_ms": round(duration * 1000, 3)}
    if result.kind == "response":
        end_fields["status"] = result.status
    if result.logs_dropped:
        end_fields["logs_dropped"] = result.logs_dropped
    _publish(gateway.logs, tenant, held, LogRecord(ended, "info", "invocation end", call_id, end_fields))


def _publish(logs: LogBus, tenant: str, held: list[LogRecord] | None, end: LogRecord) -> None:
    """The end event, after what an inline call held back (or alone: the rest was streamed)."""
    if held is None:
        logs.publish(tenant, end.to_dict())
    else:
        held.append(end)
        logs.publish_many(tenant, [record.to_dict() for record in held])


def result_response(result: InvokeResult, headers: dict[str, str] | None = None) -> Response:
    """The HTTP response for a call's result: its Response as is, or its JSON value with 200.

    A Response's status and headers were checked for every guest language when the
    call ended (isolates/response.py): valid HTTP, no header the server owns."""
    extra = headers or {}
    if result.kind == "json":
        return JSONResponse(result.value, headers=extra)
    response = Response(result.body, status_code=result.status)
    raw = [(k, v) for k, v in response.raw_headers if k == b"content-length"]
    raw += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in result.headers]
    raw += [(k.encode(), v.encode()) for k, v in extra.items()]
    response.raw_headers = raw
    return response


def guest_request_from(
    request: Any,
    *,
    path: str,
    body: bytes | None,
    credentials: CredentialFilter,
    authorization_consumed: bool,
    secrets: dict[str, str],
    env: dict[str, str],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The request JSON a guest gets (guest_sdk/ABI.md) for a Starlette ``request``.

    Every header carrying a platform credential is removed, and every Authorization
    header when the gateway consumed it (gateway/identity/credentials.py).
    """
    headers = credentials.guest_headers(request.headers.items(), authorization_consumed=authorization_consumed)
    return guest_request(
        method=request.method,
        url=str(request.url),
        path=path,
        query=request.query_params.multi_items(),
        headers=headers,
        body=body or None,
        secrets=secrets,
        env=env,
        meta=meta,
        request_id=request_id(request),
    )

"""The hot path, gateway side: one call of a program, with logs, events, metrics, and the HTTP response.

Steps (DESIGN.md, "The request path"): the route has authenticated,
rate-limited and found the program; here we take a tenant slot and a server
slot (``Admission``), run ``isolates.invoke`` on a worker thread, publish the
call's log lines and its start/end events to the tenant's live log, and turn
the result into a response. Errors propagate as ``IsolateError`` and are
rendered by the one error handler (gateway/app.py).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from starlette.responses import Response

from gateway.credentials import CredentialFilter
from gateway.http import JSONResponse, request_id
from gateway.inline import attempt_inline
from gateway.registry import Tenant
from gateway.service import API_BUCKET, EDGE_BUCKET, Gateway, admission_key
from host_api.egress import EgressPolicy
from host_api.fetch import FetchLimits, FetchSession
from host_api.log import CallLog, SecretMask
from host_api.request import guest_request
from isolates import InvokeResult, IsolateError, Limits, Program, invoke

@dataclass(frozen=True)
class CallTarget:
    """What to run and how to label it: ``kind`` is "run" (ad-hoc) or "edge" (a deployed function)."""

    tenant: Tenant
    kind: str
    function: str = ""
    version: str = ""
    allowed_hosts: tuple[str, ...] = ()
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    cdn_loop: str = ""  # what the call's fetches send as CDN-Loop (gateway/call_depth.py)


@functools.lru_cache(maxsize=1024)
def egress_policy(allowed_hosts: tuple[str, ...]) -> EgressPolicy:
    """Parsed once per distinct allow-list (validated already at deploy)."""
    return EgressPolicy.from_strings(allowed_hosts)


def fetch_session(target: CallTarget, limits: Limits, log: CallLog) -> FetchSession:
    """The guest's ``fetch``: a session under the function's allow-list (empty: no egress at all)
    and the call's own deadline. Built on the worker thread as the call starts."""
    return FetchSession(
        egress_policy(target.allowed_hosts),
        FetchLimits(),
        time.monotonic() + limits.wall_clock_ms / 1000,
        log=log.write,
        cdn_loop=target.cdn_loop,
    )


def run_in_isolate(
    program: Program,
    request: dict[str, Any],
    limits: Limits,
    log: CallLog,
    target: CallTarget,
) -> InvokeResult:
    """On the worker thread: one fresh isolate, with a fetch session closed after the call."""
    with fetch_session(target, limits, log) as session:
        return invoke(program, request, limits, log=log, fetcher=session.fetch)


async def call(
    gateway: Gateway,
    target: CallTarget,
    program: Program | Callable[[], Program],
    request: dict[str, Any],
    limits: Limits,
) -> InvokeResult:
    """Run ``program`` (or, for ad-hoc runs, the program ``program()`` prepares on the worker thread)."""
    tenant = target.tenant
    call_id = str(request.get("request_id", ""))
    fields = {"tenant": tenant.name}
    if target.function:
        fields.update(function=target.function, version=target.version)
    mask = SecretMask(target.secrets.values())
    log = CallLog(
        max_bytes=limits.log_bytes,
        max_lines=limits.log_lines,
        request_id=call_id,
        fields=fields,
        sink=gateway.logs.sink(tenant.name),
        mask=mask,
    )
    log.event("debug", "invocation start", event="invocation_start", kind=target.kind)
    started = time.perf_counter()

    def work() -> InvokeResult:
        prepared = program if isinstance(program, Program) else program()
        return run_in_isolate(prepared, request, limits, log, target)

    metrics = gateway.metrics
    try:
        result = None
        inline_key = (tenant.name, target.function, target.version)
        if isinstance(program, Program) and target.kind == "edge" and gateway.inline.eligible(
            program, inline_key, target.allowed_hosts
        ):
            result = attempt_inline(program, request, limits, log)
            if result is None:
                gateway.inline.mark_slow(inline_key)
        if result is None:
            bucket = EDGE_BUCKET if target.kind == "edge" else API_BUCKET
            result = await gateway.admission.run(admission_key(tenant, bucket), tenant.concurrency, work)
    except IsolateError as error:
        if mask:  # the message and stack leave the service in the response too
            error.message = mask(error.message)
            error.args = (error.message,)
            error.stack = mask(error.stack) if error.stack else error.stack
        duration = time.perf_counter() - started
        fuel = int(getattr(error, "fuel_used", 0) or 0)
        metrics.invocations.labels(target.kind, error.code).inc()
        metrics.duration.labels(target.kind).observe(duration)
        metrics.fuel.labels(target.kind).observe(fuel)
        log.event("error", f"invocation failed: {error.code}: {error.message}", event="invocation_end",
                  code=error.code, fuel_used=fuel, duration_ms=round(duration * 1000, 3))
        error.log_records = log.records  # type: ignore[attr-defined]  (gateway/call_logs.py)
        error.logs_dropped = log.dropped  # type: ignore[attr-defined]
        raise
    duration = time.perf_counter() - started
    metrics.invocations.labels(target.kind, "ok").inc()
    metrics.duration.labels(target.kind).observe(duration)
    metrics.fuel.labels(target.kind).observe(result.fuel_used)
    end_fields: dict[str, Any] = {"code": "ok", "fuel_used": result.fuel_used, "duration_ms": round(duration * 1000, 3)}
    if result.kind == "response":
        end_fields["status"] = result.status
    if result.logs_dropped:
        end_fields["logs_dropped"] = result.logs_dropped
    log.event("info", "invocation end", event="invocation_end", **end_fields)
    return result


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
    header when the gateway consumed it (gateway/credentials.py).
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

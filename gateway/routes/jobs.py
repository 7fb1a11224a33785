"""Async jobs: ``POST /api/jobs/{tenant}/{name}`` queues a run of a deployed function and answers 202 at once.

``GET /api/jobs/{tenant}/{id}`` gives the job's status and, once finished, its result
(``?wait=10s`` holds the answer until the job finishes or the time is up, at most
``MAX_WAIT_SECONDS``); ``GET /api/jobs/{tenant}`` lists the tenant's jobs, newest
first (``?function=``, ``?status=``, ``?limit=``). Every route needs a token with the
``run`` scope; a token narrowed to one function submits, reads and lists that
function's jobs only. The job's guest sees a ``POST /`` with the submitted body, its
content type and the query string, and ``meta.job``/``meta.attempt``.

``Idempotency-Key: <up to 255 visible ASCII characters>`` makes a submit safe to
repeat: the tenant's job with that key (while it is kept) is answered again, with
``idempotent-replayed: true``, and no second job is queued.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import InvalidRequest
from gateway.http import JSONResponse, read_body
from gateway.identity.auth import Principal, authorize, check_function
from gateway.jobs.records import STATUSES, JobRequest, JobStatus
from gateway.names import check_name
from gateway.registry import Tenant
from gateway.service import API_BUCKET, Gateway

MAX_WAIT_SECONDS = 30.0
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
JOB_ID = re.compile(r"^job_[0-9a-f]{32}$")
WAIT = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")
POLL_FIRST_SECONDS = 0.02
POLL_MAX_SECONDS = 0.5
MAX_LIST = 200


async def _tenant(request: Request, *, function: str | None = None,
                  narrowed: bool = False) -> tuple[Gateway, Tenant, Principal]:
    """The tenant, for a ``run`` token that may act on ``function`` (``narrowed``: the route limits itself
    to a narrowed token's function)."""
    gateway: Gateway = request.app.state.gateway
    name = check_name(request.path_params["tenant"], "tenant name")
    principal = authorize(gateway.principal(request.headers), name, "run", function=function, narrowed=narrowed)
    return gateway, await gateway.tenant(name, principal), principal


async def submit(request: Request) -> Response:
    name = check_name(request.path_params["name"], "function name")
    gateway, tenant, _ = await _tenant(request, function=name)
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidRequest("Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, say)")
    decision = await gateway.take_rate(tenant, API_BUCKET)
    await anyio.to_thread.run_sync(gateway.registry.current, tenant.name, name)  # NotFound for no such function
    body = await read_body(request, gateway.settings.max_body_bytes)
    job_request = JobRequest(body=body, content_type=request.headers.get("content-type", "") if body else "",
                             query=tuple(request.query_params.multi_items()))
    settings = gateway.settings
    job, created = await anyio.to_thread.run_sync(functools.partial(
        gateway.jobs.submit, tenant.name, name, job_request, max_attempts=settings.job_max_attempts,
        max_depth=settings.job_queue_depth, idempotency_key=key))
    if created and gateway.job_worker is not None:
        gateway.job_worker.wake()
    headers = {**decision.headers(), "location": f"/api/jobs/{tenant.name}/{job.id}"}
    if not created:
        headers["idempotent-replayed"] = "true"
    return JSONResponse(job.to_dict(), status_code=202, headers=headers)


async def get_job(request: Request) -> Response:
    job_id = request.path_params["id"]
    if not JOB_ID.fullmatch(job_id):
        raise InvalidRequest(f"{job_id[:80]!r} is not a job id (job_ followed by 32 hex digits)")
    gateway, tenant, principal = await _tenant(request, narrowed=True)
    wait = wait_seconds(request.query_params.get("wait"))
    deadline = time.monotonic() + wait
    pause = POLL_FIRST_SECONDS
    while True:
        job = await anyio.to_thread.run_sync(gateway.jobs.get, tenant.name, job_id)
        check_function(principal, job.function)  # a narrowed token sees its own function's jobs only
        left = deadline - time.monotonic()
        if job.finished or left <= 0:
            return JSONResponse(job.to_dict())
        # woken at once when a job finishes on this process; other processes' jobs are polled for
        finished = gateway.job_worker.finished() if gateway.job_worker is not None else asyncio.Event()
        try:
            await asyncio.wait_for(finished.wait(), min(pause, left))
        except TimeoutError:
            pause = min(POLL_MAX_SECONDS, pause * 2)


async def list_jobs(request: Request) -> Response:
    gateway, tenant, principal = await _tenant(request, narrowed=True)
    query = request.query_params
    function = check_name(query["function"], "function name") if "function" in query else None
    if principal.function is not None:  # a narrowed token lists its own function's jobs only
        check_function(principal, function or principal.function)
        function = principal.function
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
    limit = bounded_limit(query.get("limit"), MAX_LIST)
    jobs = await anyio.to_thread.run_sync(functools.partial(
        gateway.jobs.list_jobs, tenant.name, function=function, status=_status(status), limit=limit))
    return JSONResponse({"tenant": tenant.name, "jobs": [job.to_dict() for job in jobs]})


def _status(value: str | None) -> JobStatus | None:
    for status in STATUSES:
        if status == value:
            return status
    return None


def wait_seconds(value: str | None) -> float:
    """``?wait=``: ``10s``, ``500ms`` or ``10`` (seconds); 0 when absent; at most ``MAX_WAIT_SECONDS``."""
    if value is None or value == "":
        return 0.0
    match = WAIT.fullmatch(value.strip().lower())
    if match is None:
        raise InvalidRequest(f"wait must be a duration such as 10s or 500ms, at most {MAX_WAIT_SECONDS:g}s;"
                             f" got {value[:40]!r}")
    seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if seconds > MAX_WAIT_SECONDS:
        raise InvalidRequest(f"wait is at most {MAX_WAIT_SECONDS:g}s; got {value[:40]!r}")
    return seconds


def bounded_limit(value: str | None, most: int) -> int:
    """``?limit=``: 1 to ``most`` (``most`` when absent)."""
    if value is None:
        return most
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise InvalidRequest(f"limit must be a whole number from 1 to {most}")
    return int(value)


routes = [
    Route("/api/jobs/{tenant}/{name}", submit, methods=["POST"]),
    Route("/api/jobs/{tenant}/{id}", get_job, methods=["GET"]),
    Route("/api/jobs/{tenant}", list_jobs, methods=["GET"]),
]


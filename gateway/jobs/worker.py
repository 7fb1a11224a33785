"""The job worker every gateway process runs (started by ``Gateway.start``): claim, run, record.

It claims due jobs from the queue (gateway/jobs/queue.py) while it has room (at most
``job_concurrency`` jobs at once, and no more of a tenant's than this process's
share of the tenant's concurrency, ``Gateway.concurrency_share``), and runs each
through the call door every request uses (gateway/calls/invocation.py ``call``):
the same admission (the tenant's API gate), limits, live-log events and metrics,
labelled ``kind`` ``job`` or ``cron``. While a job runs its lease is renewed every
third of ``job_lease_seconds``; a worker that dies stops renewing, and another
worker claims the job again once the lease lapses.

A run that ends with an error outside the function is tried again after a backoff
(gateway/jobs/retry.py), up to the job's ``max_attempts``, then dead-lettered; any
other outcome is final. Every run goes into the function's run history.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
import uuid
from collections import Counter

import anyio.to_thread

from gateway.calls.invocation import CallTarget, call
from gateway.errors import GatewayError
from gateway.jobs.queue import JobQueue
from gateway.jobs.records import Job, JobStatus, Run, result_dict
from gateway.jobs.retry import backoff_seconds, retryable
from gateway.service import Gateway
from host_api.errors import CodedError
from host_api.request import guest_request

logger = logging.getLogger("wasmtask.jobs")

PURGE_EVERY_SECONDS = 60.0


def worker_name() -> str:
    """Who claims a job, for the ``jobs.worker`` column: host, process, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobWorker:
    def __init__(self, gateway: Gateway, queue: JobQueue) -> None:
        self.gateway = gateway
        self.queue = queue
        self.name = worker_name()
        settings = gateway.settings
        self.capacity = settings.job_concurrency or max(1, settings.max_isolates // 2)
        self.lease_seconds = settings.job_lease_seconds
        self.poll_seconds = settings.job_poll_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self._active = 0  # jobs running (their tasks may still be in _tasks a moment after)
        self._per_tenant: Counter[str] = Counter()
        self._share: dict[str, int] = {}  # the concurrency share of each tenant seen
        self._wake = asyncio.Event()
        self._finished = asyncio.Event()
        self._purged = 0.0

    def wake(self) -> None:
        """Look for jobs now, not at the next poll (a job was just queued, or a slot freed)."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and run jobs, forever (cancel to stop: the jobs running are cancelled too and given
        back to the queue, so other workers take them over at once)."""
        try:
            while True:
                try:
                    await self.fill()
                    if time.monotonic() - self._purged > PURGE_EVERY_SECONDS:
                        self._purged = time.monotonic()
                        await anyio.to_thread.run_sync(self._purge)
                except GatewayError as exc:  # the registry is away: try again at the next poll
                    logger.warning("jobs: %s", exc.message)
                except Exception:  # a bug: logged, and the worker goes on
                    logger.exception("jobs: claiming failed")
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _purge(self) -> None:
        purged = self.queue.purge(older_than=time.time() - self.gateway.settings.job_retention_seconds)
        if purged:
            logger.info("jobs: purged %d finished jobs", purged)

    async def fill(self) -> int:
        """Claim jobs while there is room; how many were started."""
        started = 0
        while self._active < self.capacity:
            full = [tenant for tenant, running in self._per_tenant.items() if running >= self._share.get(tenant, 1)]
            most = self.capacity - self._active
            claim = functools.partial(self.queue.claim_many, self.name, most, lease_seconds=self.lease_seconds,
                                      skip_tenants=full, room=self._room)
            claimed = await anyio.to_thread.run_sync(claim)
            for job in claimed:
                self._per_tenant[job.tenant] += 1
                self._active += 1
                task = asyncio.get_running_loop().create_task(self._execute(job), name=f"wasmtask-job-{job.id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            started += len(claimed)
            if len(claimed) < most:
                break
        return started

    def _room(self, tenant: str) -> int:
        """How many more of the tenant's jobs this worker may start: its share (one until it is known) less
        those running."""
        return self._share.get(tenant, 1) - self._per_tenant.get(tenant, 0)

    def finished(self) -> asyncio.Event:
        """An event set when the next job run by this worker finishes (long polls wake on it)."""
        return self._finished

    async def _execute(self, job: Job) -> None:
        renewing = asyncio.get_running_loop().create_task(self._renew(job))
        try:
            await self.execute(job)
        except asyncio.CancelledError:  # the server is stopping: the job goes back to the queue at once
            try:
                self.queue.release(job)  # on the loop, blocking: the loop is shutting down, and this is short
            except GatewayError as exc:  # the lease will lapse instead
                logger.warning("jobs: releasing %s: %s", job.id, exc.message)
            raise
        except GatewayError as exc:  # the registry went away before the outcome was written: the lease
            logger.warning("jobs: %s: %s (it will run again)", job.id, exc.message)  # lapses, the job runs again
        except Exception:  # a bug here must not stop the worker; the lease lapses and the job runs again
            logger.exception("jobs: running %s failed", job.id)
        finally:
            renewing.cancel()
            self._active -= 1
            self._finished.set()
            self._finished = asyncio.Event()
            self._per_tenant[job.tenant] -= 1
            if self._per_tenant[job.tenant] <= 0:
                del self._per_tenant[job.tenant]
            self.wake()

    async def _renew(self, job: Job) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = await anyio.to_thread.run_sync(
                    lambda: self.queue.renew(job, lease_seconds=self.lease_seconds))
            except GatewayError as exc:
                logger.warning("jobs: renewing the lease of %s: %s", job.id, exc.message)
                continue
            if not held:
                logger.warning("jobs: %s attempt %d lost its lease; its outcome will not count", job.id, job.attempts)
                return

    async def execute(self, job: Job) -> None:
        """Run ``job`` (claimed by this worker) once, and record the outcome."""
        gateway = self.gateway
        started_at = time.time()
        started = time.perf_counter()
        version_id = ""
        status: JobStatus
        try:
            tenant = await gateway.tenant(job.tenant)
            self._share[tenant.name] = gateway.concurrency_share(tenant)
            deployed = await gateway.programs.get(tenant.name, job.function)
            version = deployed.version
            version_id = version.version_id
            request = guest_request(
                method="POST",
                url="http://localhost/",
                query=job.request.query,
                headers=[("content-type", job.request.content_type)] if job.request.content_type else [],
                body=job.request.body or None,
                secrets=version.secrets,
                env=version.env,
                meta={"tenant": tenant.name, "function": job.function, "version": version_id,
                      "job": job.id, "attempt": job.attempts, "source": job.source},
                request_id=job.id,
            )
            target = CallTarget(tenant=tenant, kind=job.source, function=job.function, version=version_id,
                                allowed_hosts=version.allowed_hosts, secrets=version.secrets)
            limits = version.limits.capped_by(gateway.ceiling(tenant, None))
            result = await call(gateway, target, deployed.program, request, limits)
        except CodedError as error:
            code, fuel = error.code, int(getattr(error, "fuel_used", 0) or 0)
            run = self._run(job, version_id, started_at, started, code, None, fuel)
            retry_at = None
            if not retryable(code):
                status = "failed"
            elif job.attempts < job.max_attempts:
                status, retry_at = "queued", time.time() + backoff_seconds(job.attempts)
            else:
                status = "dead"
            finish = functools.partial(self.queue.finish, job, run, status=status, error=(code, error.message),
                                       retry_at=retry_at)
            await anyio.to_thread.run_sync(finish)
            return
        code_status = result.status if result.kind == "response" else 200
        run = self._run(job, version_id, started_at, started, "ok", code_status, result.fuel_used)
        await anyio.to_thread.run_sync(lambda: self.queue.finish(job, run, status="succeeded",
                                                                 result=result_dict(result)))

    @staticmethod
    def _run(job: Job, version: str, started_at: float, started: float, code: str, status: int | None,
             fuel: int) -> Run:
        return Run(tenant=job.tenant, function=job.function, source=job.source, job=job.id, attempt=job.attempts,
                   version=version, started_at=started_at,
                   duration_ms=round((time.perf_counter() - started) * 1000, 3), code=code, status=status,
                   fuel_used=fuel)

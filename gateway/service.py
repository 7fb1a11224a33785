"""The gateway's state in one object: settings, keys, registry, program cache, fairness, metrics, logs.

Routes reach it as ``request.app.state.gateway``. Nothing here knows Starlette routing.

With several workers (``wasmtask serve --workers N``, or several hosts), what
they share goes through gateway/coordination (Redis: rate limits, live logs),
and what changes in the registry (deploys, deletes, tenants) reaches every
worker through the registry's change feed, polled every ``CHANGE_POLL_SECONDS``:
a deploy is served everywhere within that time, and a worker never goes back to
an older version (gateway/programs.py). Each worker admits a tenant's calls up
to its share of the tenant's concurrency (``concurrency_share``): per host, the
total stays within the tenant's limit plus one call per worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.admission import Admission
from gateway.artifacts import ArtifactStore
from gateway.config import Settings
from gateway.coordination import AsyncRateLimiter, LocalRateLimiter, LogBus, RedisLogBus, RedisRateLimiter
from gateway.cron.store import Schedules
from gateway.deploy_spec import parse_limits
from gateway.errors import GatewayError, InvalidRequest, NotFound, RateLimited, RuntimeUnavailable
from gateway.identity.auth import Principal, authenticate, check_tenant
from gateway.identity.credentials import CredentialFilter
from gateway.identity.keys import ServingKeys, load_serving_keys
from gateway.identity.tokens import TokenVerifier
from gateway.inline import InlinePolicy
from gateway.jobs.queue import JobQueue
from gateway.logs import LogHub, logs_endpoint
from gateway.metrics import Metrics
from gateway.programs import ProgramCache
from gateway.ratelimit import RateDecision
from gateway.registry import FunctionVersion, Tenant, open_registry
from gateway.secret_box import SecretBox
from gateway.storage import KVQuotas, RegistryStorage
from isolates import Limits, Program, prepare
from isolates.compiler import Compiler
from isolates.javascript import JavaScriptRuntime, RuntimeMissing
from isolates.module_cache import install_cache_writer
from toolchains import Toolchains
from toolchains.base import log_build
from toolchains.builder import BuilderClient
from toolchains.bundler import Bundles, javascript_source

if TYPE_CHECKING:
    from gateway.cron.scheduler import Scheduler
    from gateway.jobs.worker import JobWorker

logger = logging.getLogger("wasmtask.gateway")

MISSING_TENANTS_REMEMBERED = 4096
EDGE_BUCKET = "edge"  # /run/{tenant}/...: public traffic
API_BUCKET = "api"  # /api/...: the tenant's own, authenticated requests
CHANGE_POLL_SECONDS = 0.2  # how stale another worker's deploy may be here
CHANGE_BATCH = 1000
REDIS_TIMEOUT_SECONDS = 0.5


class Gateway:
    def __init__(self, settings: Settings, compiler: Compiler | None = None) -> None:
        self.settings = settings
        # the admin key's digest, the tokens' public key, the secrets' key: nothing that mints a credential
        self.keys: ServingKeys = load_serving_keys(settings)
        self.tokens = TokenVerifier(self.keys.token_public_key)
        # deploy-time builds of C, Zig, Rust, AssemblyScript, Python (seconds each: logged when they start and end)
        # (a served process passes the builder's client: toolchains/builder.py, gateway/confinement)
        self.compiler: Compiler = compiler or Toolchains(progress=log_build)
        self.credentials = CredentialFilter(self.keys.admin, self.tokens)
        self.registry = open_registry(settings, SecretBox(self.keys.secret_key))  # SQLite, or PostgreSQL by URL
        self.registry.check_secret_key()  # a changed WASMTASK_SECRET_KEY fails here, not at the first call
        self.admission = Admission(
            max_isolates=settings.max_isolates,
            queue_depth=settings.queue_depth,
            queue_timeout_ms=settings.queue_timeout_ms,
        )
        self.redis: Redis | None = None
        self.rate_limiter: AsyncRateLimiter
        self.logs: LogBus
        if settings.redis_url:
            self.redis = Redis.from_url(settings.redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                        socket_timeout=REDIS_TIMEOUT_SECONDS, health_check_interval=30)
            self.rate_limiter = RedisRateLimiter(self.redis, workers=settings.workers)
            self.logs = RedisLogBus(self.redis)
        else:
            self.rate_limiter = LocalRateLimiter()
            self.logs = LogHub()
        self.metrics = Metrics(in_flight=self.admission.in_flight)
        self.inline = InlinePolicy()  # short edge calls run on the event loop (gateway/inline.py)
        # functions' documents and KV entries, in the registry's database (gateway/storage)
        self.storage = RegistryStorage(self.registry.database, KVQuotas(settings.kv_max_keys, settings.kv_max_bytes))
        if isinstance(compiler, BuilderClient):  # the module cache's misses are compiled and written there too
            install_cache_writer(compiler.cache_writer())  # (isolates/module_cache.py: serving processes only read it)
        # prepared programs on disk, shared by this host's workers (gateway/artifacts.py)
        # (written by the builder when the compiler is its client: a serving process may only read them)
        self.programs = ProgramCache(self.registry, self._prepare_version, settings.cache_size,
                                     ArtifactStore(settings.data_dir / "artifacts", writer=(
                                         compiler.artifact_writer() if isinstance(compiler, BuilderClient)
                                         else None)))
        programs = self.programs
        self.metrics.count_from("wasmtask_program_prepares", "Deployed programs prepared from source on a "
                                "miss (this host had no file for them).", lambda: programs.prepares)
        self.metrics.count_from("wasmtask_program_loads", "Deployed programs mapped from their file on a "
                                "miss.", lambda: programs.artifact_loads)
        self.stream_logs = logs_endpoint(self.logs)
        if isinstance(self.rate_limiter, RedisRateLimiter):
            limiter = self.rate_limiter
            self.metrics.count_from("wasmtask_rate_limit_fallbacks", "Rate-limit takes answered by this worker's "
                                    "share because Redis was unreachable.", lambda: limiter.fallbacks)
        if isinstance(self.logs, RedisLogBus):
            bus = self.logs
            self.metrics.count_from("wasmtask_log_records_dropped", "Live-log records not written to Redis "
                                    "(unreachable, or the queue full).", lambda: bus.dropped)
        self._follower: asyncio.Task[None] | None = None
        self._tenants: dict[str, Tenant] = {}
        # names looked up and not found: requests for them cost no registry query until a create
        self._missing_tenants: OrderedDict[str, None] = OrderedDict()
        self.runtime_loaded = False
        # async jobs and cron (gateway/jobs, gateway/cron): queued in the registry, run by every process
        self.jobs = JobQueue(self.registry.database)
        self.schedules = Schedules(self.registry.database)
        self.job_worker: JobWorker | None = None
        self.scheduler: Scheduler | None = None
        self._background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """On the event loop, before serving: the log writer and the change-feed follower."""
        if isinstance(self.logs, RedisLogBus):
            self.logs.start()
        self._seen_change = await anyio.to_thread.run_sync(self.registry.latest_change_id)
        self.tokens.set_revoked(await anyio.to_thread.run_sync(self.registry.revoked_tokens))
        self._follower = asyncio.get_running_loop().create_task(self._follow_changes(), name="wasmtask-changes")
        self._start_jobs()

    def _start_jobs(self) -> None:
        """The job worker and the cron scheduler of this process (imported here: they import the call path)."""
        from gateway.cron.scheduler import Scheduler
        from gateway.jobs.worker import JobWorker

        worker = self.job_worker = JobWorker(self, self.jobs)
        self.scheduler = Scheduler(self.schedules, lambda ticks: worker.wake())
        loop = asyncio.get_running_loop()
        self._background = [loop.create_task(worker.run(), name="wasmtask-jobs"),
                            loop.create_task(self.scheduler.run(), name="wasmtask-cron")]

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._follower is not None:
            self._follower.cancel()
            try:
                await self._follower
            except asyncio.CancelledError:
                pass
        if isinstance(self.logs, RedisLogBus):
            await self.logs.stop()
        if self.redis is not None:
            await self.redis.aclose()

    def close(self) -> None:
        self.logs.close_subscriptions()
        self.registry.close()

    # what other workers changed

    async def _follow_changes(self) -> None:
        """Apply the registry's change feed to this worker's caches, forever."""
        while True:
            await asyncio.sleep(CHANGE_POLL_SECONDS)
            try:
                await self.apply_changes()
            except GatewayError as exc:  # the registry is away (registry_unavailable): try again later
                logger.warning("change feed: %s", exc.message)

    async def apply_changes(self) -> int:
        """Read the changes since the last seen one; drop what they make stale. Returns how many."""
        changes = await anyio.to_thread.run_sync(self.registry.changes_since, self._seen_change, CHANGE_BATCH)
        if any(change.kind == "token_revoked" for change in changes):  # the deny list, from the registry
            self.tokens.set_revoked(await anyio.to_thread.run_sync(self.registry.revoked_tokens))
        for change in changes:
            if change.kind == "tenant_deleted":  # by the control plane (gateway/control_plane.py)
                self.forget_tenant(change.tenant)
                self.logs.forget(change.tenant)
                if self.programs.artifacts is not None:  # its files on this host
                    await anyio.to_thread.run_sync(self.programs.artifacts.remove_tenant, change.tenant)
            elif change.kind == "token_revoked":
                pass
            elif change.function is None:  # created or changed: its cached record (its rate and burst
                self._tenants.pop(change.tenant, None)  # rebuild the buckets when they differ)
                self._missing_tenants.pop(change.tenant, None)
            else:
                await self.programs.invalidate((change.tenant, change.function), change.serial)
                if change.kind == "delete":  # its files on this host (a local delete removed them already)
                    await self.programs.remove_files((change.tenant, change.function))
            self._seen_change = max(self._seen_change, change.id)
        return len(changes)

    # who and which tenant

    def principal(self, headers: Mapping[str, str]) -> Principal | None:
        return authenticate(headers, admin=self.keys.admin, tokens=self.tokens)

    async def tenant(self, name: str, principal: Principal | None = None) -> Tenant:
        """The tenant (cached in memory: tenants change only through this process); ``NotFound`` if none.

        With the caller's ``principal`` (already authorized for ``name``), also checks
        that a tenant token was issued for this tenant and not an earlier one of the name."""
        tenant = await self._tenant(name)
        check_tenant(principal, tenant)
        return tenant

    async def _tenant(self, name: str) -> Tenant:
        tenant = self._tenants.get(name)
        if tenant is None:
            if name in self._missing_tenants:
                raise NotFound(f"no tenant {name!r}")
            try:
                tenant = await anyio.to_thread.run_sync(self.registry.get_tenant, name)
            except NotFound:
                self._missing_tenants[name] = None
                while len(self._missing_tenants) > MISSING_TENANTS_REMEMBERED:
                    self._missing_tenants.popitem(last=False)
                raise
            self._tenants[name] = tenant
        return tenant

    def forget_tenant(self, name: str) -> None:
        """Drop what is cached about a tenant (after it was created or deleted)."""
        self._missing_tenants.pop(name, None)
        self._tenants.pop(name, None)
        self.programs.forget_tenant(name)
        self.rate_limiter.forget(name)

    async def take_rate(self, tenant: Tenant, bucket: str) -> RateDecision:
        """One request from one of the tenant's buckets; ``RateLimited`` (with Retry-After) when empty.

        ``bucket`` is ``EDGE_BUCKET`` for calls of its public endpoints (anyone can make
        them) or ``API_BUCKET`` for its authenticated API requests (deploys, ad-hoc runs):
        traffic on the public endpoints can never spend the tenant's own budget."""
        decision = await self.rate_limiter.take((tenant.name, bucket), tenant.rate_per_second, tenant.rate_burst)
        if not decision.allowed:
            raise RateLimited(
                f"tenant {tenant.name!r} is over its {bucket} rate limit of {tenant.rate_per_second:g}/s"
                f" (burst {tenant.rate_burst})",
                headers=decision.headers(),
            )
        return decision

    # limits

    def ceiling(self, tenant: Tenant, principal: Principal | None) -> Limits:
        """The most a call may use: the tenant's maximum, lowered by the token's limits."""
        ceiling = tenant.max_limits
        if principal is not None and principal.limits is not None:
            ceiling = ceiling.capped_by(principal.limits)
        return ceiling

    def requested_limits(self, requested: Any, ceiling: Limits) -> Limits:
        """Limits asked for in a deploy or a run: defaults capped by ``ceiling``; explicit values
        above it are refused (``invalid_request``) rather than silently lowered."""
        base = self.settings.function_limits.capped_by(ceiling)
        if requested is None:
            return base
        limits = parse_limits(requested, base)
        over = limits.exceeds(ceiling)
        if over:
            raise InvalidRequest(
                "limits above the tenant's (or the token's) maximum: "
                + ", ".join(f"{name} > {getattr(ceiling, name)}" for name in over)
            )
        return limits

    # programs

    async def prepare(
        self, tenant: Tenant, language: str, code: bytes, limits: Limits, *, snapshot: bool, filename: str = ""
    ) -> Program:
        """Validate and compile on a worker thread, inside the tenant's concurrency share.
        ``filename``: the user's name for the source, which errors and stack traces name."""
        return await self.admission.run(
            admission_key(tenant, API_BUCKET), self.concurrency_share(tenant), prepare_program, language, code, limits,
            snapshot, self.compiler, filename,
        )

    def concurrency_share(self, tenant: Tenant) -> int:
        """This worker's share of the tenant's concurrency (all of it with one worker)."""
        return max(1, math.ceil(tenant.concurrency / self.settings.workers))

    async def _prepare_version(self, version: FunctionVersion) -> Program:
        tenant = await self.tenant(version.tenant)
        return await self.prepare(tenant, version.language, version.code, version.limits, snapshot=True,
                                  filename=version.filename)

    # health

    def check_ready(self) -> dict[str, str]:
        """What is not ready, by component (empty when ready)."""
        problems: dict[str, str] = {}
        try:
            self.registry.ping()
        except Exception as exc:  # any failure means "not ready"; reported, not swallowed
            problems["registry"] = f"{type(exc).__name__}: {exc}"
        if not self.runtime_loaded:
            problems["javascript_runtime"] = "not loaded (build it with `make runtime`)"
        return problems

    async def check_degraded(self) -> dict[str, str]:
        """What works in a degraded way (deployed functions are still served), by component."""
        degraded: dict[str, str] = {}
        if self.redis is not None:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                    await self.redis.ping()
            except (RedisError, OSError, TimeoutError) as exc:
                degraded["redis"] = (f"unreachable ({type(exc).__name__}): rate limits are per worker, "
                                     "live log records are dropped")
        return degraded

    def load_runtime(self) -> None:
        """Compile (or load from the module cache) the JS runtime now, not at the first call."""
        try:
            JavaScriptRuntime.shared()
            self.runtime_loaded = True
            if self.programs.artifacts is not None:
                for removed in self.programs.artifacts.prune_engines():
                    logger.info("removed the prepared programs of another engine or runtime: %s", removed)
        except RuntimeMissing as exc:
            logger.warning("%s; JavaScript functions will fail with runtime_unavailable", exc)


def admission_key(tenant: Tenant, bucket: str) -> str:
    """The concurrency gate of a tenant's edge calls or of its own API work (deploys, ad-hoc runs):
    like the rate buckets, separate, so public traffic cannot hold the slots a deploy needs."""
    return tenant.name if bucket == EDGE_BUCKET else f"{tenant.name}/{bucket}"



def prepare_program(language: str, code: bytes, limits: Limits, snapshot: bool, compiler: Compiler,
                    filename: str = "") -> Program:
    """``isolates.prepare`` for stored code (bytes); blocking: call it on a worker thread."""
    # JavaScript of several files, or with imports, is bundled first (toolchains/bundler.py); one plain file is not
    # (by the builder process when the compiler is its client: a confined process cannot run esbuild)
    bundler = compiler if isinstance(compiler, Bundles) else None
    source: str | bytes = (javascript_source(code, filename or None, bundler) if language == "javascript"
                           else code)
    try:
        return prepare(language, source, limits, snapshot=snapshot, compiler=compiler, filename=filename or None)
    except RuntimeMissing as exc:
        raise RuntimeUnavailable(str(exc)) from exc

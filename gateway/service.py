"""The gateway's state in one object: settings, keys, registry, program cache, fairness, metrics, logs.

Routes reach it as ``request.app.state.gateway``. Nothing here knows Starlette routing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import anyio.to_thread

from gateway.admission import Admission
from gateway.config import Settings
from gateway.deploy_spec import parse_limits
from gateway.errors import InvalidRequest, NotFound, RateLimited, RuntimeUnavailable
from gateway.identity.auth import Principal, authenticate, check_tenant
from gateway.identity.credentials import CredentialFilter
from gateway.identity.keys import Keys, load_keys
from gateway.inline import InlinePolicy
from gateway.logs import LogHub, logs_endpoint
from gateway.metrics import Metrics
from gateway.programs import ProgramCache
from gateway.ratelimit import RateDecision, RateLimiter
from gateway.registry import FunctionVersion, Registry, Tenant
from gateway.secret_box import SecretBox
from isolates import InvalidCode, Limits, Program, prepare
from isolates.compiler import Compiler
from isolates.javascript import JavaScriptRuntime, RuntimeMissing
from toolchains import Toolchains

logger = logging.getLogger("wasmtask.gateway")

REGISTRY_FILE = "registry.sqlite3"
MISSING_TENANTS_REMEMBERED = 4096
EDGE_BUCKET = "edge"  # /run/{tenant}/...: public traffic
API_BUCKET = "api"  # /api/...: the tenant's own, authenticated requests


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys: Keys = load_keys(settings)
        self.compiler: Compiler = Toolchains()  # deploy-time builds of C, Zig, Rust, AssemblyScript, Python
        self.credentials = CredentialFilter(self.keys.admin_key, self.keys.jwt_secret)
        self.registry = Registry(settings.data_dir / REGISTRY_FILE, SecretBox(self.keys.secret_key))
        self.registry.check_secret_key()  # a changed WASMTASK_SECRET_KEY fails here, not at the first call
        self.admission = Admission(
            max_isolates=settings.max_isolates,
            queue_depth=settings.queue_depth,
            queue_timeout_ms=settings.queue_timeout_ms,
        )
        self.rate_limiter = RateLimiter()
        self.metrics = Metrics(in_flight=self.admission.in_flight)
        self.inline = InlinePolicy()  # short edge calls run on the event loop (gateway/inline.py)
        self.programs = ProgramCache(self.registry, self._prepare_version, settings.cache_size)
        self.logs = LogHub()
        self.stream_logs = logs_endpoint(self.logs)
        self._tenants: dict[str, Tenant] = {}
        # names looked up and not found: requests for them cost no registry query until a create
        self._missing_tenants: OrderedDict[str, None] = OrderedDict()
        self.runtime_loaded = False

    def close(self) -> None:
        self.logs.close_subscriptions()
        self.registry.close()

    # who and which tenant

    def principal(self, headers: Mapping[str, str]) -> Principal | None:
        return authenticate(headers, admin_key=self.keys.admin_key, jwt_secret=self.keys.jwt_secret)

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

    def take_rate(self, tenant: Tenant, bucket: str) -> RateDecision:
        """One request from one of the tenant's buckets; ``RateLimited`` (with Retry-After) when empty.

        ``bucket`` is ``EDGE_BUCKET`` for calls of its public endpoints (anyone can make
        them) or ``API_BUCKET`` for its authenticated API requests (deploys, ad-hoc runs):
        traffic on the public endpoints can never spend the tenant's own budget."""
        decision = self.rate_limiter.take((tenant.name, bucket), tenant.rate_per_second, tenant.rate_burst)
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
        self, tenant: Tenant, language: str, code: bytes, limits: Limits, *, snapshot: bool
    ) -> Program:
        """Validate and compile on a worker thread, inside the tenant's concurrency share."""
        return await self.admission.run(
            admission_key(tenant, API_BUCKET), tenant.concurrency, prepare_program, language, code, limits, snapshot,
            self.compiler,
        )

    async def _prepare_version(self, version: FunctionVersion) -> Program:
        tenant = await self.tenant(version.tenant)
        return await self.prepare(tenant, version.language, version.code, version.limits, snapshot=True)

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

    def load_runtime(self) -> None:
        """Compile (or load from the module cache) the JS runtime now, not at the first call."""
        try:
            JavaScriptRuntime.shared()
            self.runtime_loaded = True
        except RuntimeMissing as exc:
            logger.warning("%s; JavaScript functions will fail with runtime_unavailable", exc)


def admission_key(tenant: Tenant, bucket: str) -> str:
    """The concurrency gate of a tenant's edge calls or of its own API work (deploys, ad-hoc runs):
    like the rate buckets, separate, so public traffic cannot hold the slots a deploy needs."""
    return tenant.name if bucket == EDGE_BUCKET else f"{tenant.name}/{bucket}"


def prepare_program(language: str, code: bytes, limits: Limits, snapshot: bool, compiler: Compiler) -> Program:
    """``isolates.prepare`` for stored code (bytes); blocking: call it on a worker thread."""
    source: str | bytes = code
    if language == "javascript":
        try:
            source = code.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidCode("JavaScript source must be UTF-8") from exc
    try:
        return prepare(language, source, limits, snapshot=snapshot, compiler=compiler)
    except RuntimeMissing as exc:
        raise RuntimeUnavailable(str(exc)) from exc

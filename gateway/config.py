"""Gateway settings: every knob, its unit and default, and the environment variable that sets it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from isolates.limits import Limits


def default_max_isolates() -> int:
    """Isolates in flight on this server: two per CPU (a call waiting on fetch holds a slot but no CPU)."""
    return max(4, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class TenantDefaults:
    """What a tenant gets unless it was created with its own values.

    max_limits
        the most any of its functions (or ad-hoc runs) may ask for.
    rate_per_second, rate_burst
        its token bucket: refill rate (requests per second) and size (requests).
    concurrency
        its calls in flight at once (None: half the server's ``max_isolates``);
        always kept below ``max_isolates`` so one tenant never holds every slot.
    """

    max_limits: Limits = Limits(
        fuel=2_000_000_000,
        memory_bytes=128 * 1024 * 1024,
        wall_clock_ms=10_000,
        output_bytes=4 * 1024 * 1024,
        log_bytes=256 * 1024,
        log_lines=1_000,
    )
    rate_per_second: float = 50.0
    rate_burst: int = 100
    concurrency: int | None = None


@dataclass(frozen=True)
class Settings:
    """The gateway's configuration (``Settings.from_env`` reads WASMTASK_* variables).

    data_dir                WASMTASK_DATA_DIR: registry (SQLite) and generated keys.
    admin_key               WASMTASK_ADMIN_KEY: the admin bearer key; generated into
                            ``data_dir/admin.key`` when unset.
    jwt_secret              WASMTASK_JWT_SECRET: HS256 key for tenant tokens; generated
                            into ``data_dir/jwt.key`` when unset.
    secret_key              WASMTASK_SECRET_KEY: Fernet key encrypting secrets at rest;
                            generated into ``data_dir/secret.key`` (0600) when unset.
    max_body_bytes          WASMTASK_MAX_BODY_BYTES: request body cap for invocations (bytes).
    max_code_bytes          WASMTASK_MAX_CODE_BYTES: body cap for deploys and ad-hoc runs (bytes).
    max_isolates            WASMTASK_MAX_ISOLATES: isolates in flight on this server.
    queue_timeout_ms        WASMTASK_QUEUE_TIMEOUT_MS: how long a call waits for a slot (ms).
    queue_depth             WASMTASK_QUEUE_DEPTH: calls a tenant may have waiting for a slot.
    cache_size              WASMTASK_CACHE_SIZE: deployed programs kept compiled in memory.
    database_url            WASMTASK_DATABASE_URL: ``postgresql://...``, the registry on PostgreSQL
                            (several hosts); unset: SQLite in ``data_dir`` (gateway/registry).
    redis_url               WASMTASK_REDIS_URL: Redis for what the workers share (rate limits,
                            live logs); unset: in memory, one worker (gateway/coordination).
    workers                 WASMTASK_WORKERS: gateway processes on this host (an int, or
                            "auto": one per CPU). Set by ``wasmtask serve --workers`` for each
                            worker, which uses it for its share of a tenant's concurrency.
    access_log              WASMTASK_ACCESS_LOG=1: uvicorn's access log line per request
                            (off by default: a line per call costs ~2% of a hello-world call,
                            and each call's start/end events are on the tenant's log stream).
    function_limits         defaults for a function that names no limits.
    tenant                  defaults for new tenants (WASMTASK_TENANT_RATE,
                            WASMTASK_TENANT_BURST, WASMTASK_TENANT_CONCURRENCY).
    """

    data_dir: Path = Path("data")
    admin_key: str | None = None
    jwt_secret: str | None = None
    secret_key: str | None = None
    max_body_bytes: int = 1024 * 1024
    max_code_bytes: int = 4 * 1024 * 1024
    max_isolates: int = field(default_factory=default_max_isolates)
    queue_timeout_ms: int = 1_000
    queue_depth: int = 16
    cache_size: int = 256
    database_url: str | None = None
    redis_url: str | None = None
    workers: int = 1
    access_log: bool = False
    function_limits: Limits = Limits()
    tenant: TenantDefaults = TenantDefaults()

    @property
    def tenant_concurrency(self) -> int:
        """A new tenant's concurrency unless it asks for its own."""
        return self.tenant.concurrency or max(1, self.max_isolates // 2)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("WASMTASK_DATA_DIR"):
            values["data_dir"] = Path(env["WASMTASK_DATA_DIR"])
        for name, variable in (
            ("admin_key", "WASMTASK_ADMIN_KEY"),
            ("jwt_secret", "WASMTASK_JWT_SECRET"),
            ("secret_key", "WASMTASK_SECRET_KEY"),
        ):
            if env.get(variable):
                values[name] = env[variable]
        for name, variable in (
            ("max_body_bytes", "WASMTASK_MAX_BODY_BYTES"),
            ("max_code_bytes", "WASMTASK_MAX_CODE_BYTES"),
            ("max_isolates", "WASMTASK_MAX_ISOLATES"),
            ("queue_timeout_ms", "WASMTASK_QUEUE_TIMEOUT_MS"),
            ("queue_depth", "WASMTASK_QUEUE_DEPTH"),
            ("cache_size", "WASMTASK_CACHE_SIZE"),
        ):
            if env.get(variable):
                values[name] = int(env[variable])
        if env.get("WASMTASK_DATABASE_URL"):
            values["database_url"] = env["WASMTASK_DATABASE_URL"]
        if env.get("WASMTASK_REDIS_URL"):
            values["redis_url"] = env["WASMTASK_REDIS_URL"]
        if env.get("WASMTASK_WORKERS"):
            values["workers"] = parse_workers(env["WASMTASK_WORKERS"])
        if env.get("WASMTASK_ACCESS_LOG"):
            values["access_log"] = env["WASMTASK_ACCESS_LOG"].lower() in ("1", "true", "yes", "on")
        tenant = TenantDefaults()
        tenant_values: dict[str, object] = {}
        if env.get("WASMTASK_TENANT_RATE"):
            tenant_values["rate_per_second"] = float(env["WASMTASK_TENANT_RATE"])
        if env.get("WASMTASK_TENANT_BURST"):
            tenant_values["rate_burst"] = int(env["WASMTASK_TENANT_BURST"])
        if env.get("WASMTASK_TENANT_CONCURRENCY"):
            tenant_values["concurrency"] = int(env["WASMTASK_TENANT_CONCURRENCY"])
        if tenant_values:
            values["tenant"] = TenantDefaults(**{**tenant.__dict__, **tenant_values})
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def parse_workers(text: str) -> int:
    """``WASMTASK_WORKERS`` / ``--workers``: a positive integer, or "auto" (one per CPU)."""
    if text.strip().lower() == "auto":
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    value = int(text)
    if value < 1:
        raise ValueError("workers must be at least 1")
    return value

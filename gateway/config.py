"""Gateway settings: every knob, its unit and default, and the environment variable that sets it.

``VARIABLES`` lists every environment variable wasmtask reads, the gateway's and
the others' (engine, builds, CLI): ``python -m gateway.config`` prints the
reference table that gateway/README.md carries.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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
    def platform_stores(self) -> tuple[tuple[str, int], ...]:
        """(host, port) of the Redis and PostgreSQL this gateway uses over TCP (not unix sockets)."""
        stores = []
        for url, default_port in ((self.redis_url, 6379), (self.database_url, 5432)):
            if url:
                parts = urlsplit(url)
                if parts.hostname and parts.scheme not in ("unix", "redis+unix"):
                    stores.append((parts.hostname, parts.port or default_port))
        return tuple(stores)

    @property
    def tenant_concurrency(self) -> int:
        """A new tenant's concurrency unless it asks for its own."""
        return self.tenant.concurrency or max(1, self.max_isolates // 2)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from the WASMTASK_* variables in ``VARIABLES`` (unset or empty: the default),
        then ``overrides`` that are not None. ``ValueError`` naming the variable for a bad value."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        tenant_values: dict[str, object] = {}
        for variable in VARIABLES:
            raw = env.get(variable.name)
            if not variable.setting or not raw:
                continue
            assert variable.parse is not None
            try:
                value = variable.parse(raw)
            except ValueError as exc:
                raise ValueError(f"{variable.name}={raw!r}: {exc} (e.g. {variable.example})") from None
            field_name = variable.setting.removeprefix("tenant.")
            (tenant_values if variable.setting.startswith("tenant.") else values)[field_name] = value
        if tenant_values:
            values["tenant"] = TenantDefaults(**{**TenantDefaults().__dict__, **tenant_values})
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


def parse_flag(text: str) -> bool:
    """``1``, ``true``, ``yes``, ``on`` (any case) are true; ``0``, ``false``, ``no``, ``off`` false."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1 or 0")


def parse_positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("not a whole number") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def parse_positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not value > 0:
        raise ValueError("must be more than 0")
    return value


@dataclass(frozen=True)
class Variable:
    """One environment variable that wasmtask reads.

    name, default, description
        what the reference shows (``default`` as text: "unset" when there is none).
    read_by
        who reads it: ``serve`` (the gateway, ``Settings.from_env``), ``engine`` (isolates, in
        any process that runs guests: ``serve`` and ``run``), ``build`` (toolchains: guest
        builds and ``make runtime``), ``cli`` (the commands that talk to a gateway).
    setting, parse, example
        for ``serve``: the ``Settings`` field it sets (``tenant.x`` for ``TenantDefaults.x``),
        how its text becomes the value, and a valid example for error messages.
    where
        the module that reads it, when that is not this one.
    """

    name: str
    default: str
    description: str
    read_by: str
    setting: str = ""
    parse: Callable[[str], object] | None = None
    example: str = ""
    where: str = ""


# Every environment variable the code reads: ``Settings.from_env`` reads the ``serve`` ones from
# this table, the others are read where ``where`` says. gateway/README.md's table is generated from
# it (``python -m gateway.config``), and a test fails when code reads a WASMTASK_ name not listed here.
VARIABLES: tuple[Variable, ...] = (
    Variable("WASMTASK_DATA_DIR", "`./data`", "the SQLite registry (WAL) and generated keys", "serve",
             "data_dir", Path, "/var/lib/wasmtask"),
    Variable("WASMTASK_DATABASE_URL", "unset: SQLite in the data dir",
             "`postgresql://user:pass@host/db`: the registry on PostgreSQL 15, for several hosts", "serve",
             "database_url", str, "postgresql://wasmtask@db/wasmtask"),
    Variable("WASMTASK_REDIS_URL", "unset: in memory (one worker)",
             "Redis for what workers share (rate limits, live logs); `wasmtask serve --workers N` starts a private "
             "one when unset", "serve", "redis_url", str, "redis://localhost:6379/0"),
    Variable("WASMTASK_WORKERS", "1", "gateway processes sharing the port: a number or `auto` (one per CPU)",
             "serve", "workers", lambda text: parse_workers(text), "auto"),
    Variable("WASMTASK_ADMIN_KEY", "generated into `data/admin.key`",
             "the admin bearer key (16+ characters); the CLI sends it for `tenants` and `token`", "serve, cli",
             "admin_key", str, "a-long-random-string"),
    Variable("WASMTASK_JWT_SECRET", "generated into `data/jwt.key`", "HS256 key signing tenant tokens", "serve",
             "jwt_secret", str, "a-long-random-string"),
    Variable("WASMTASK_SECRET_KEY", "generated into `data/secret.key` (0600)", "Fernet key for secrets at rest",
             "serve", "secret_key", str, "a Fernet key"),
    Variable("WASMTASK_MAX_BODY_BYTES", "1048576 (1 MiB)", "request body cap of a call", "serve",
             "max_body_bytes", parse_positive_int, "1048576"),
    Variable("WASMTASK_MAX_CODE_BYTES", "4194304 (4 MiB)", "body cap of a deploy or an ad-hoc run", "serve",
             "max_code_bytes", parse_positive_int, "4194304"),
    Variable("WASMTASK_MAX_ISOLATES", "2 x CPUs (at least 4)", "isolates in flight on this server", "serve",
             "max_isolates", parse_positive_int, "8"),
    Variable("WASMTASK_QUEUE_TIMEOUT_MS", "1000", "how long a call waits for a slot (ms)", "serve",
             "queue_timeout_ms", parse_positive_int, "1000"),
    Variable("WASMTASK_QUEUE_DEPTH", "16", "calls a tenant may have waiting for a slot", "serve", "queue_depth",
             parse_positive_int, "16"),
    Variable("WASMTASK_CACHE_SIZE", "256", "deployed programs kept compiled in memory (rebuilt from source on a "
             "miss)", "serve", "cache_size", parse_positive_int, "256"),
    Variable("WASMTASK_ACCESS_LOG", "0", "`1`: uvicorn's access log line per request", "serve", "access_log",
             parse_flag, "1"),
    Variable("WASMTASK_TENANT_RATE", "50", "a new tenant's rate limit (requests per second)", "serve",
             "tenant.rate_per_second", parse_positive_float, "50"),
    Variable("WASMTASK_TENANT_BURST", "100", "a new tenant's burst (token bucket size)", "serve",
             "tenant.rate_burst", parse_positive_int, "100"),
    Variable("WASMTASK_TENANT_CONCURRENCY", "max isolates / 2", "a new tenant's calls in flight", "serve",
             "tenant.concurrency", parse_positive_int, "4"),
    Variable("WASMTASK_CACHE_DIR", "`$XDG_CACHE_HOME/wasmtask/modules` (`~/.cache/...`)",
             "compiled modules (the JS runtime, components) and guest builds, by content hash; shared by every "
             "checkout and process of the user unless set", "engine, build", where="isolates/module_cache.py"),
    Variable("WASMTASK_JS_RUNTIME", "`build/jsrt.wasm` in the checkout", "the JavaScript runtime to load",
             "engine", where="isolates/javascript.py"),
    Variable("WASMTASK_BUILD_DIR", "`build/` in the checkout", "where `make runtime` writes jsrt.wasm and its "
             "cached inputs", "build", where="toolchains/jsrt.py"),
    Variable("WASMTASK_BUILD_TIMEOUT_S", "60 (Python: 120)", "time limit of one guest build (seconds); over it, "
             "the deploy fails with `cpu_limit`", "build", where="toolchains/base.py"),
    Variable("WASMTASK_TOOLCHAINS_DIR", "`build/toolchains` in the checkout",
             "where `make toolchains` installs what apt and pip do not (the AssemblyScript compiler, esbuild and "
             "the npm set JavaScript functions import)", "build", where="toolchains/base.py"),
    Variable("WASMTASK_NPM_PACKAGES", "`toolchains/npm-packages.txt`",
             "the npm packages JavaScript functions may import, installed by `make toolchains`: a file of "
             "`name@version` lines, or entries separated by spaces or commas", "build",
             where="toolchains/install.sh"),
    Variable("WASMTASK_RUSTC", "`/usr/bin/rustc`", "the rustc that builds Rust guests (Debian's: rustup's "
             "lacks the wasm32 target)", "build", where="toolchains/rust.py"),
    Variable("WASMTASK_URL", "`http://127.0.0.1:8080`", "the gateway the CLI talks to (`--url`)", "cli",
             where="gateway/cli"),
    Variable("WASMTASK_TOKEN", "unset", "the CLI's tenant token (`--token`); its tenant is the default "
             "`--tenant`", "cli", where="gateway/cli"),
    Variable("WASMTASK_TENANT", "the token's, or `tenant` in wasmtask.toml", "the CLI's default `--tenant`", "cli",
             where="gateway/cli"),
)


def environment_reference() -> str:
    """The Markdown table of ``VARIABLES`` (gateway/README.md, "Configuration")."""
    lines = ["| variable | default | read by | what |", "|---|---|---|---|"]
    for variable in VARIABLES:
        where = f" ({variable.where})" if variable.where else ""
        lines.append(f"| `{variable.name}` | {variable.default} | {variable.read_by}{where} | {variable.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(environment_reference(), end="")

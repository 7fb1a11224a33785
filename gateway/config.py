"""Gateway settings: every knob, its unit and default, and the environment variable that sets it.

``VARIABLES`` lists every environment variable wasmtask reads, the gateway's and
the others' (engine, builds, CLI): ``python -m gateway.config`` prints the
reference table that gateway/README.md carries.
"""

from __future__ import annotations

import os
import re
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
    admin_key_sha256        WASMTASK_ADMIN_KEY_SHA256: the admin key's SHA-256 (hex): what serving
                            processes get instead of the key (gateway/identity/keys.py).
    signing_key             WASMTASK_SIGNING_KEY: the Ed25519 key signing tenant tokens (control
                            plane only); generated into ``data_dir/signing.key`` when unset.
    token_public_key        WASMTASK_TOKEN_PUBLIC_KEY: its public half, which verifies tokens
                            (serving processes); ``data_dir/signing.pub`` when unset.
    control_url             WASMTASK_CONTROL_URL: where the control plane (tenants, tokens) listens,
                            named in the errors of serving listeners.
    secret_key              WASMTASK_SECRET_KEY: Fernet key encrypting secrets at rest;
                            generated into ``data_dir/secret.key`` (0600) when unset.
    max_body_bytes          WASMTASK_MAX_BODY_BYTES: request body cap for invocations (bytes).
    max_code_bytes          WASMTASK_MAX_CODE_BYTES: body cap for deploys and ad-hoc runs (bytes).
    max_isolates            WASMTASK_MAX_ISOLATES: isolates in flight on this server.
    queue_timeout_ms        WASMTASK_QUEUE_TIMEOUT_MS: how long a call waits for a slot (ms).
    queue_depth             WASMTASK_QUEUE_DEPTH: calls a tenant may have waiting for a slot.
    cache_size              WASMTASK_CACHE_SIZE: deployed programs kept in memory; a miss maps the
                            program's file from ``data_dir/artifacts`` (gateway/artifacts.py).
    database_url            WASMTASK_DATABASE_URL: ``postgresql://...``, the registry on PostgreSQL
                            (several hosts); unset: SQLite in ``data_dir`` (gateway/registry).
    redis_url               WASMTASK_REDIS_URL: Redis for what the workers share (rate limits,
                            live logs); unset: in memory, one worker (gateway/coordination).
    workers                 WASMTASK_WORKERS: gateway processes on this host (an int, or
                            "auto": one per CPU). Set by ``wasmtask serve --workers`` for each
                            worker, which uses it for its share of a tenant's concurrency.
    console_origins         WASMTASK_CONSOLE_ORIGINS: origins (``https://host[:port]``) whose pages may
                            call the API (CORS on ``/api/`` only; gateway/console/cors.py); ``wasmtask
                            serve`` adds its console's own. Unset: none, no CORS.
    edge_domain             WASMTASK_EDGE_DOMAIN: functions answer on ``{name}.{tenant}.{edge_domain}``
                            (gateway/edge_hosts.py); unset: on the path form only.
    edge_paths              WASMTASK_EDGE_PATHS: whether the API's host also serves ``/run/{tenant}/{name}``;
                            None: only when no edge domain is set.
    access_log              WASMTASK_ACCESS_LOG=1: uvicorn's access log line per request
                            (off by default: a line per call costs ~2% of a hello-world call,
                            and each call's start/end events are on the tenant's log stream).
    job_queue_depth         WASMTASK_JOB_QUEUE_DEPTH: async jobs a tenant may have queued or running
                            (more: 429 ``queue_full``).
    job_max_attempts        WASMTASK_JOB_ATTEMPTS: runs of a job at most (retries of failures outside
                            the function, gateway/jobs/retry.py).
    job_lease_seconds       WASMTASK_JOB_LEASE_S: a running job's lease, renewed every third of it; a
                            job whose worker died runs again this long after its last renewal.
    job_retention_seconds   WASMTASK_JOB_RETENTION_S: finished jobs (and their results) are kept this
                            long, then purged.
    job_concurrency         jobs one gateway process runs at once (None: half of ``max_isolates``).
    job_poll_seconds        how often an idle job worker looks for jobs queued by other processes.
    kv_max_keys             WASMTASK_KV_MAX_KEYS: live KV keys a tenant's functions may keep, together
                            (more: ``storage_quota_exceeded``; gateway/storage).
    kv_max_bytes            WASMTASK_KV_MAX_BYTES: bytes of KV keys and values a tenant may keep.
    sandbox                 WASMTASK_SANDBOX: ``on`` (default), ``required`` or ``off``: whether each
                            serving process confines itself after boot (gateway/confinement).
    sandbox_simulate_unavailable  WASMTASK_SANDBOX_SIMULATE_UNAVAILABLE: layers (``landlock``,
                            ``seccomp``) treated as missing from the kernel: for tests and drills.
    sandbox_probes          WASMTASK_SANDBOX_PROBES=1: serve ``GET /debug/sandbox``, which tries
                            what an escaped guest would (gateway/confinement/probes.py). Tests only.
    function_limits         defaults for a function that names no limits.
    tenant                  defaults for new tenants (WASMTASK_TENANT_RATE,
                            WASMTASK_TENANT_BURST, WASMTASK_TENANT_CONCURRENCY).
    """

    data_dir: Path = Path("data")
    admin_key: str | None = None
    admin_key_sha256: str | None = None
    signing_key: str | None = None
    token_public_key: str | None = None
    control_url: str | None = None
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
    console_origins: tuple[str, ...] = ()
    edge_domain: str | None = None
    edge_paths: bool | None = None
    sandbox: str = "on"
    sandbox_simulate_unavailable: frozenset[str] = frozenset()
    sandbox_probes: bool = False
    job_queue_depth: int = 1_000
    job_max_attempts: int = 3
    job_lease_seconds: float = 30.0
    job_retention_seconds: float = 24 * 3600.0
    job_concurrency: int | None = None
    job_poll_seconds: float = 0.2
    kv_max_keys: int = 10_000
    kv_max_bytes: int = 64 * 1024 * 1024
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
    def serves_edge_paths(self) -> bool:
        """Whether ``/run/{tenant}/{name}`` answers on the API's host (``edge_paths``, else: no edge domain)."""
        return self.edge_paths if self.edge_paths is not None else self.edge_domain is None

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


def parse_sandbox(text: str) -> str:
    """``WASMTASK_SANDBOX``: on, required or off."""
    value = text.strip().lower()
    if value not in ("on", "required", "off"):
        raise ValueError("expected on, required or off")
    return value


def parse_sandbox_layers(text: str) -> frozenset[str]:
    """``WASMTASK_SANDBOX_SIMULATE_UNAVAILABLE``: landlock, seccomp, or both (comma-separated)."""
    layers = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = layers - {"landlock", "seccomp"}
    if unknown:
        raise ValueError(f"unknown layer {', '.join(sorted(unknown))}: expected landlock, seccomp")
    return layers


DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_EDGE_DOMAIN_CHARS = 253 - 2 * 64  # room for the function's and the tenant's labels


def parse_edge_domain(text: str) -> str:
    """``WASMTASK_EDGE_DOMAIN``: a DNS name (labels of a-z, 0-9 and '-', not at either end), no port."""
    domain = text.strip().lower().removesuffix(".")
    labels = domain.split(".")
    if not domain or len(domain) > MAX_EDGE_DOMAIN_CHARS or not all(DNS_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"expected a DNS name of at most {MAX_EDGE_DOMAIN_CHARS} characters, without a port")
    return domain


def parse_origins(text: str) -> tuple[str, ...]:
    """``WASMTASK_CONSOLE_ORIGINS``: ``scheme://host[:port]`` entries separated by commas or spaces."""
    origins = []
    for entry in text.replace(",", " ").split():
        parts = urlsplit(entry)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError(f"{entry!r} is not an origin (scheme://host[:port])")
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(origins)


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
    Variable("WASMTASK_ADMIN_KEY_SHA256", "unset", "the admin key's SHA-256 (64 hex digits): `wasmtask serve` gives "
             "serving processes this instead of the key", "serve", "admin_key_sha256", str, "9f86d081884c7d65..."),
    Variable("WASMTASK_SIGNING_KEY", "generated into `data/signing.key` (0600)",
             "Ed25519 key signing tenant tokens (32 bytes, url-safe base64): the control plane's only",
             "serve", "signing_key", str, "`python -m gateway.identity.keys`"),
    Variable("WASMTASK_TOKEN_PUBLIC_KEY", "`data/signing.pub`, else derived from the signing key",
             "the Ed25519 public key verifying tenant tokens (serving processes)", "serve", "token_public_key", str,
             "`python -m gateway.identity.keys`"),
    Variable("WASMTASK_CONTROL_URL", "`http://127.0.0.1:8081`",
             "the control plane (tenants, tokens): where the CLI sends admin commands, and what serving listeners "
             "name when asked for them", "serve, cli", "control_url", str, "http://127.0.0.1:8081"),
    Variable("WASMTASK_SECRET_KEY", "generated into `data/secret.key` (0600)", "Fernet key for secrets at rest",
             "serve", "secret_key", str, "a Fernet key"),
    Variable("WASMTASK_CONTROL_PID", "unset", "internal: `wasmtask serve` names its control plane's process to "
             "itself when it re-executes without the keys", "serve", where="gateway/control_plane.py"),
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
    Variable("WASMTASK_CACHE_SIZE", "256", "deployed programs kept in memory (a miss maps the program's file "
             "from `data/artifacts`)", "serve", "cache_size", parse_positive_int, "256"),
    Variable("WASMTASK_CONSOLE_ORIGINS", "unset: no CORS",
             "origins whose pages may call the API (CORS on `/api/` only): the console's (added by `wasmtask "
             "serve`) and those of pages embedding the editor; comma-separated", "serve", "console_origins",
             parse_origins, "https://console.example.com"),
    Variable("WASMTASK_EDGE_DOMAIN", "unset: functions answer on `/run/{tenant}/{name}` only",
             "functions answer on their own hostnames, `{name}.{tenant}.DOMAIN` (wildcard DNS and TLS for "
             "`*.*.DOMAIN`: README.md), and no API or console route answers there", "serve", "edge_domain",
             parse_edge_domain, "fn.example.com"),
    Variable("WASMTASK_EDGE_PATHS", "1 without an edge domain, else 0", "whether the API's host also serves "
             "functions on `/run/{tenant}/{name}` (their responses then share the API's origin)", "serve",
             "edge_paths", parse_flag, "0"),
    Variable("WASMTASK_ACCESS_LOG", "0", "`1`: uvicorn's access log line per request", "serve", "access_log",
             parse_flag, "1"),
    Variable("WASMTASK_SANDBOX", "on", "each serving process confines itself after boot (Landlock, seccomp; "
             "gateway/confinement): `on` warns where the kernel lacks one (and `/readyz` says so), `required` "
             "refuses to start, `off` does not confine", "serve", "sandbox", parse_sandbox, "required"),
    Variable("WASMTASK_SANDBOX_SIMULATE_UNAVAILABLE", "unset", "treat `landlock`, `seccomp` (comma-separated) as "
             "missing from the kernel: for tests and drills", "serve", "sandbox_simulate_unavailable",
             parse_sandbox_layers, "landlock"),
    Variable("WASMTASK_SANDBOX_PROBES", "0", "`1`: serve `GET /debug/sandbox`, which tries in the serving process "
             "what an escaped guest would (exec, fork, read keys...) and reports: tests only", "serve",
             "sandbox_probes", parse_flag, "1"),
    Variable("WASMTASK_JOB_QUEUE_DEPTH", "1000", "async jobs a tenant may have queued or running (more: 429 "
             "`queue_full`)", "serve", "job_queue_depth", parse_positive_int, "1000"),
    Variable("WASMTASK_JOB_ATTEMPTS", "3", "runs of an async job at most (retries of failures outside the "
             "function)", "serve", "job_max_attempts", parse_positive_int, "3"),
    Variable("WASMTASK_JOB_LEASE_S", "30", "a running job's lease (seconds): a job whose worker died runs again "
             "this long after the worker's last renewal", "serve", "job_lease_seconds", parse_positive_float, "30"),
    Variable("WASMTASK_JOB_RETENTION_S", "86400 (24 h)", "how long finished jobs and their results are kept "
             "(seconds)", "serve", "job_retention_seconds", parse_positive_float, "86400"),
    Variable("WASMTASK_KV_MAX_KEYS", "10000", "live KV keys a tenant's functions may keep together (more: "
             "`storage_quota_exceeded`)", "serve", "kv_max_keys", parse_positive_int, "10000"),
    Variable("WASMTASK_KV_MAX_BYTES", "67108864 (64 MiB)", "bytes of KV keys and values a tenant may keep",
             "serve", "kv_max_bytes", parse_positive_int, "67108864"),
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
    Variable("WASMTASK_BUILDER", "set by `wasmtask serve`", "the builder process's directory (its unix socket and "
             "key): where a serving process sends builds, which it may not run itself (toolchains/builder.py)",
             "serve (internal)", where="gateway/confinement/serving.py"),
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

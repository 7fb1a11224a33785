"""wasmtask under test: `wasmtask serve` in a subprocess, a bench tenant, deploys timed from the client.

The gateway runs with its defaults except two admission knobs that would
otherwise turn the load into errors rather than measure it: the bench tenant's
rate limit is effectively off, and the per-tenant queue is deep enough for
64 connections. Both are reported with the results.

``workers`` > 1 runs ``wasmtask serve --workers N`` (uvicorn's supervisor); ``redis_url``
sets ``WASMTASK_REDIS_URL`` (the bench starts its own redis-server, benches/redis_server.py,
so that it knows the PID). Two gateways given the same ``data_dir`` share the registry,
as two hosts sharing one database would: the first creates the bench tenant, the
second finds it (``create_tenant=False``).
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from benches.processes import Server, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
# A queue deeper than the largest concurrency, so c=64 waits for a slot instead of getting 503.
QUEUE_DEPTH = 256
RATE_LIMIT = {"per_second": 1_000_000, "burst": 1_000_000}


class GatewayUnavailable(RuntimeError):
    """The gateway could not be started or refused the bench set-up; the message says why."""


@dataclass
class DeployTiming:
    """One deploy of a never-seen function (unique source), in milliseconds, timed by the client."""

    deploy_ms: float  # PUT /api/functions/... round trip
    prepare_ms: float | None  # the gateway's own prepare time (compile + snapshot), from its answer
    first_call_ms: float  # the first GET /run/... after the deploy
    second_call_ms: float  # the next one: warm


@dataclass
class DeployResult:
    scenario: str
    timings: list[DeployTiming] = field(default_factory=list)

    def median(self, name: str) -> float | None:
        values = [getattr(t, name) for t in self.timings if getattr(t, name) is not None]
        return statistics.median(values) if values else None

    def to_dict(self) -> dict[str, object]:
        return {"scenario": self.scenario, "timings": [asdict(t) for t in self.timings]}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DeployResult:
        return cls(str(data["scenario"]), [DeployTiming(**t) for t in data["timings"]])  # type: ignore[attr-defined]  # JSON list


def settings() -> str:
    return (f"`wasmtask serve` (1 uvicorn process; `--workers N`: uvicorn's supervisor over N, with "
            f"WASMTASK_REDIS_URL at the bench's own redis-server on a unix socket), "
            f"WASMTASK_QUEUE_DEPTH={QUEUE_DEPTH} per worker, bench tenant rate limit "
            f"{RATE_LIMIT['per_second']:,}/s (burst {RATE_LIMIT['burst']:,}), everything else default")


def uvicorn_call() -> str:
    """The gateway's ``uvicorn.run(...)`` line, shown beside the results: the bare Starlette peer mirrors it."""
    try:
        source = (REPO_ROOT / "gateway" / "cli" / "server.py").read_text()
    except OSError:
        return "gateway/cli/server.py not found"
    lines = [line.strip() for line in source.splitlines() if "uvicorn.run(" in line]
    return lines[0] if lines else "no uvicorn.run call in gateway/cli/server.py"


class GatewayUnderTest:
    def __init__(self, work_dir: Path, *, name: str = "wasmtask", workers: int = 1, redis_url: str | None = None,
                 data_dir: Path | None = None, admin_key: str | None = None, create_tenant: bool = True) -> None:
        self.admin_key = admin_key or secrets.token_urlsafe(24)
        self.create_tenant = create_tenant
        data_dir = data_dir or work_dir / f"{name}-data"
        port = free_port()
        self.control_port = free_port()  # the control plane's (tenants, tokens): gateway/control_plane.py
        env = {key: value for key, value in os.environ.items() if not key.startswith("WASMTASK_")}
        env.update({"WASMTASK_ADMIN_KEY": self.admin_key, "WASMTASK_QUEUE_DEPTH": str(QUEUE_DEPTH)})
        if redis_url is not None:
            env["WASMTASK_REDIS_URL"] = redis_url
        argv = [sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--data-dir", str(data_dir), "--no-demo", "--workers", str(workers),
                "--control-port", str(self.control_port), "--console-port", "0"]  # no console in benches
        self.server = Server(name, argv, port, work_dir / f"{name}.log", ready_path="/healthz",
                             cwd=REPO_ROOT, env=env)
        self.admin: httpx.Client | None = None  # carries the admin key
        self.control: httpx.Client | None = None  # the same, to the control plane
        self.public: httpx.Client | None = None  # what a visitor of /run/... sends: no credentials
        self.tenant: dict[str, object] = {}  # the bench tenant as the gateway created it

    def __enter__(self) -> GatewayUnderTest:
        self.server.start(ready_timeout=120)
        # trust_env=False: never a proxy, only 127.0.0.1.
        self.admin = httpx.Client(base_url=self.server.url, trust_env=False, timeout=120,
                                  headers={"authorization": f"Bearer {self.admin_key}"})
        self.public = httpx.Client(base_url=self.server.url, trust_env=False, timeout=120)
        self.control = httpx.Client(base_url=f"http://127.0.0.1:{self.control_port}", trust_env=False, timeout=120,
                                    headers={"authorization": f"Bearer {self.admin_key}"})
        try:
            if self.create_tenant:
                self.tenant = self._expect(self.control.post("/api/tenants", json={"name": TENANT,
                                                                                 "rate_limit": RATE_LIMIT}),
                                           "create the bench tenant")
            else:
                self.tenant = self._expect(self.admin.get(f"/api/tenants/{TENANT}"), "find the bench tenant")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for client in (self.admin, self.public, self.control):
            if client is not None:
                client.close()
        self.admin = self.public = self.control = None
        self.server.stop()

    @staticmethod
    def _expect(response: httpx.Response, what: str) -> dict[str, object]:
        if response.status_code >= 300:
            raise GatewayUnavailable(f"could not {what}: HTTP {response.status_code}: {response.text[:300]}")
        answer: dict[str, object] = response.json()
        return answer

    @property
    def pid(self) -> int:
        """The PID of `wasmtask serve` (the leader of its process group: the workers are in it)."""
        assert self.server.process is not None, "not started"
        return self.server.process.pid

    def url(self, name: str) -> str:
        return f"{self.server.url}/run/{TENANT}/{name}"

    def deploy(self, name: str, code: str) -> tuple[float, float | None]:
        """Deploy and return (client round trip ms, the gateway's prepare_ms)."""
        assert self.admin is not None
        started = time.perf_counter()
        response = self.admin.put(f"/api/functions/{TENANT}/{name}", json={"code": code, "language": "javascript"})
        elapsed_ms = (time.perf_counter() - started) * 1000
        answer = self._expect(response, f"deploy {name}")
        deploy_info = answer.get("deploy")
        prepare_ms = deploy_info.get("prepare_ms") if isinstance(deploy_info, dict) else None
        return elapsed_ms, prepare_ms

    def call(self, name: str) -> float:
        """One GET /run/bench/{name}; its round trip in ms (a non-2xx answer is an error)."""
        started = time.perf_counter()
        self.answer(name)
        return (time.perf_counter() - started) * 1000

    def answer(self, name: str) -> str:
        """The body of one GET /run/bench/{name} (a non-2xx answer is an error)."""
        assert self.public is not None
        response = self.public.get(f"/run/{TENANT}/{name}")
        if response.status_code >= 300:
            raise GatewayUnavailable(f"GET /run/{TENANT}/{name}: HTTP {response.status_code}: {response.text[:300]}")
        return response.text

    def measure_deploys(self, scenario: str, code: str, count: int) -> DeployResult:
        """``count`` deploys of never-seen functions (a unique comment defeats any content cache), each then called."""
        result = DeployResult(scenario)
        for index in range(count):
            name = f"cold-{index}-{uuid.uuid4().hex[:8]}"
            deploy_ms, prepare_ms = self.deploy(name, f"{code}\n// {name}\n")
            first_ms = self.call(name)
            second_ms = self.call(name)
            result.timings.append(DeployTiming(deploy_ms, prepare_ms, first_ms, second_ms))
        return result

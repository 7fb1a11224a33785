"""Where the microseconds of one HTTP edge call go: a per-phase table, measured.

Two measurements, both of the Workers hello (benches/inprocess.py), both in CPU
time (the machine is shared: wall times drift with its load, CPU per call much less):

in-process (``asgi_overhead``)
    CPU µs per call, median of blocks, driving the app straight through ASGI (no
    sockets: benches/gateway_inprocess.py): bare Starlette's hello route
    (benches/servers/starlette_hello.py), the gateway's edge call, and the same
    program through ``isolates.run`` alone. Gateway minus isolate minus Starlette
    is the gateway's own Python per call.

over HTTP (``http_phases``)
    ``wasmtask serve`` (1 uvicorn worker) under wrk, sampled by py-spy (only the
    samples of threads on a CPU; ``--nonblocking``: the server is never paused).
    Each sample goes to the phase of the deepest frame that names one (``PHASES``);
    a phase's µs per call is its share of the samples times the server's CPU per
    request read from /proc over the same wrk run (benches/cpu.py), so the column
    adds up to the measured CPU per call. "event loop and other" is what no rule
    names: the event loop's own code (epoll, socket reads, the ready queue:
    asyncio's, gateway/app.py ``EVENT_LOOP``) and anyio glue. The response's socket
    write is a phase of its own: on loopback the kernel's TCP path (and waking the
    client) runs inside that ``write``.

Run alone: ``python -m benches.phases [--seconds 5] [--concurrency 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benches import cpu, inprocess, wrk
from benches.gateway_inprocess import InProcessGateway
from benches.gateway_server import GatewayUnderTest

HELLO = inprocess.SCENARIOS["workers-hello"][0]
SAMPLE_RATE = 199  # per second; prime, so it does not beat with the epoch ticker (10 ms); higher rates slow the server
OTHER = "event loop and other"
# a sampled thread waiting in one of these was taken for busy by py-spy's idle test: not CPU, not counted
IDLE_LEAVES = ("Condition.wait", "Event.wait", "Queue.get", "lock.acquire")

# (phase, substrings of a py-spy frame "function (file:line)"): a sample's phase is the one
# of its deepest frame that any rule names; the order only breaks ties within one frame.
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reset/drop (Store close)", ("RawStore.close", "DeferredClose.__call__", "ModuleInstance.close",
                                  "Instance.close")),
    ("guest code", ("ModuleInstance.handle", "ModuleInstance.call_json", "ModuleInstance._call ",
                    "ModuleInstance.start")),
    ("instantiate", ("_new_instance", "ModuleInstance.__init__", "instantiate (", "linker_instantiate",
                     "RawStore.__init__", "define_memory", "open_log", "GuestFetch.__init__")),
    ("request encoding", ("guest_request_from", "guest_request (", "request_payload", "encode_frame",
                          "CredentialFilter")),
    ("response writing (uvicorn's send: the socket write)", ("RequestResponseCycle.send",)),
    ("response building", ("result_response", "result_from_reply", "parse_reply", "parse_headers",
                           "starlette/responses.py", "send_with_id")),
    ("logs and metrics", ("gateway/logs/", "gateway/metrics.py", "prometheus_client", "_finish (", "_publish (",
                          "LogRecord", "AfterResponse.drain")),
    ("auth, tenant and rate limit", ("ratelimit.py", "take_rate", "Gateway.tenant", "Gateway._tenant",
                                     "gateway/identity/", "cdn_loop.py", "logs_header.py")),
    ("routing and program lookup", ("starlette/routing.py", "ProgramCache", "check_name", "read_body")),
    ("HTTP parse", ("HttpToolsProtocol", "httptools_impl.py:1", "httptools_impl.py:2")),
    ("middleware and app glue", ("gateway/middleware.py", "starlette/applications.py", "starlette/middleware",
                                 "proxy_headers.py", "_exception_handler.py", "RequestResponseCycle.run_asgi")),
    ("call bookkeeping", ("gateway/calls/", "gateway/inline.py", "gateway/admission.py",
                          "isolates/runner.py", "CallSpec")),
)


@dataclass
class Phase:
    name: str
    share: float  # of the server's CPU samples
    us_per_call: float


@dataclass
class HttpPhases:
    concurrency: int
    requests: int
    req_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_call: float
    samples: int
    phases: list[Phase] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AsgiOverhead:
    """CPU µs per call through ASGI (medians of blocks), and the p99 of those blocks."""

    calls: int
    starlette_us: float
    gateway_us: float
    isolate_us: float
    starlette_p99_us: float
    gateway_p99_us: float
    isolate_p99_us: float

    @property
    def gateway_python_us(self) -> float:
        """What the gateway adds per call above bare Starlette and the isolate."""
        return self.gateway_us - self.isolate_us - self.starlette_us

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gateway_python_us": round(self.gateway_python_us, 1)}


def phase_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, needles in PHASES:
            if any(needle in frame for needle in needles):
                return name
    return OTHER


def attribute(raw: str) -> Counter[str]:
    """Samples per phase from py-spy's ``--format raw`` output (collapsed stacks, root first)."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if stack and count.isdigit() and not frames[-1].startswith(IDLE_LEAVES):
            counts[phase_of(frames)] += int(count)
    return counts


def py_spy() -> str:
    path = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(path).exists():
        raise RuntimeError("py-spy not found (pip install -e '.[bench]')")
    return path


def http_phases(work_dir: Path, *, seconds: int = 5, concurrency: int = 1) -> HttpPhases:
    """The gateway under wrk at ``concurrency``, sampled by py-spy for the whole run."""
    wrk_path = wrk.find_wrk()
    work_dir.mkdir(parents=True, exist_ok=True)
    lua = wrk.write_lua(work_dir)
    spy = py_spy()
    with GatewayUnderTest(work_dir, name=f"wasmtask-phases-c{concurrency}") as gateway:
        gateway.deploy("hello", HELLO)
        url = gateway.url("hello")
        wrk.run(wrk_path, lua, url, system="wasmtask", concurrency=8, duration_s=2)  # warm-up
        raw_path = work_dir / "phases.raw"
        sampler = subprocess.Popen([spy, "record", "--pid", str(gateway.pid), "--duration", str(seconds + 2),
                                    "--rate", str(SAMPLE_RATE), "--format", "raw", "--nonblocking",
                                    "--output", str(raw_path)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)  # py-spy attached; it samples only threads on a CPU, so the idle second costs nothing
            result = wrk.run(wrk_path, lua, url, system="wasmtask", concurrency=concurrency, duration_s=seconds,
                             server_cpu=functools.partial(cpu.group_cpu_seconds, gateway.pid))
        finally:
            sampler.wait(timeout=seconds + 60)
    counts = attribute(raw_path.read_text())
    total = sum(counts.values())
    per_call = result.server_cpu_us_per_request or 0.0
    names = [name for name, _ in PHASES] + [OTHER]
    return HttpPhases(
        concurrency=concurrency, requests=result.requests, req_per_second=round(result.ok_per_second, 1),
        p50_ms=result.p50_ms, p99_ms=result.p99_ms, cpu_us_per_call=round(per_call, 1), samples=total,
        phases=[Phase(name, round(counts[name] / total, 4) if total else 0.0,
                      round(per_call * counts[name] / total, 1) if total else 0.0) for name in names],
    )


async def _cpu_per_call(call: Callable[[], Awaitable[object]], calls: int, blocks: int) -> list[float]:
    """CPU µs per call of ``blocks`` blocks of ``calls // blocks`` calls (a loop turn after each call)."""
    per_block = max(1, calls // blocks)
    results = []
    for _ in range(blocks):
        started = time.process_time()
        for _ in range(per_block):
            await call()
            await asyncio.sleep(0)  # what a server's loop does between requests: deferred work runs
        results.append((time.process_time() - started) / per_block * 1e6)
    return sorted(results)


async def asgi_overhead(work_dir: Path, *, calls: int = 4000, blocks: int = 40) -> AsgiOverhead:
    from benches.servers.starlette_hello import app as starlette_app
    from host_api.request import guest_request
    from isolates import CallSpec, run

    async with InProcessGateway(work_dir / "asgi") as gateway:
        await gateway.set_up("hello", HELLO)
        for _ in range(200):
            await gateway.call("hello")
        deployed = await gateway.gateway.programs.get("bench", "hello")
        program, spec = deployed.program, CallSpec(limits=deployed.version.limits)
        request = guest_request(url="http://127.0.0.1/run/bench/hello", headers=[("host", "127.0.0.1")])

        async def bare() -> None:
            await _asgi(starlette_app, "/")

        async def isolate() -> None:
            run(program, request, spec)

        starlette = await _cpu_per_call(bare, calls, blocks)
        edge = await _cpu_per_call(functools.partial(gateway.call, "hello"), calls, blocks)
        alone = await _cpu_per_call(isolate, calls, blocks)
    return AsgiOverhead(calls, round(statistics.median(starlette), 1), round(statistics.median(edge), 1),
                        round(statistics.median(alone), 1), round(starlette[-1], 1), round(edge[-1], 1),
                        round(alone[-1], 1))


async def _asgi(app: Any, path: str) -> None:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    await app(scope, receive, send)


def markdown(overhead: AsgiOverhead | None, phases: list[HttpPhases]) -> str:
    lines: list[str] = []
    if overhead is not None:
        lines += [
            "In-process through ASGI (no sockets), CPU µs per call, median of blocks (slowest block):",
            "",
            "| | µs per call | slowest block |",
            "|---|---:|---:|",
            f"| bare Starlette hello route | {overhead.starlette_us:.1f} | {overhead.starlette_p99_us:.1f} |",
            f"| `isolates.run` alone (Workers hello, fresh Store) | {overhead.isolate_us:.1f} | "
            f"{overhead.isolate_p99_us:.1f} |",
            f"| wasmtask edge call | {overhead.gateway_us:.1f} | {overhead.gateway_p99_us:.1f} |",
            f"| **gateway's own Python** (edge - isolate - Starlette) | **{overhead.gateway_python_us:.1f}** | |",
            "",
        ]
    for table in phases:
        lines += [
            f"One HTTP edge call, 1 uvicorn worker, wrk c={table.concurrency}: {table.req_per_second:,.0f} req/s, "
            f"p50 {table.p50_ms:.2f} ms, p99 {table.p99_ms:.2f} ms; {table.cpu_us_per_call:.0f} µs server CPU "
            f"per call over {table.requests:,} calls, {table.samples:,} py-spy samples:",
            "",
            "| phase | share | µs per call |",
            "|---|---:|---:|",
            *(f"| {phase.name} | {phase.share:.1%} | {phase.us_per_call:.1f} |" for phase in table.phases),
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benches.phases", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="wrk run under py-spy (default 5)")
    parser.add_argument("--concurrency", type=int, action="append", help="wrk connections (repeatable; default 1)")
    parser.add_argument("--calls", type=int, default=4000, help="in-process calls per system (default 4000)")
    args = parser.parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="wasmtask-phases-"))
    try:
        overhead = asyncio.run(asgi_overhead(work_dir, calls=args.calls))  # the gateway's loop (EVENT_LOOP)
        tables = [http_phases(work_dir, seconds=args.seconds, concurrency=c) for c in args.concurrency or [1]]
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print(markdown(overhead, tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())

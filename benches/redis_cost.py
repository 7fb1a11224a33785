"""What Redis costs the gateway in CPU per call (issue 12's target: <= 30 µs).

Measured two ways, both on the Workers hello, one worker, with and without
``WASMTASK_REDIS_URL`` (the bench's own redis-server on a unix socket):

- **In-process** (the figure to trust): the gateway's app in this process,
  driven through ASGI (benches/gateway_inprocess.py; no sockets, no HTTP
  parsing), ``time.process_time`` over a block of calls, one at a time (c=1) or
  64 at once (c=64, so log records queue and go out in larger batches). Four
  variants in interleaved rounds: in memory; Redis for both rate limits and
  logs (as shipped); and each of the two alone, the other kept in memory, which
  attributes the cost. The block's time includes the log writer finishing.
  Beside it, each part alone in a tight loop, through the same gateway's
  objects (its rate limiter; its log bus: two records published, then the
  writer's batch awaited), against their in-memory counterparts: a lower
  bound, with every cache warm.
- **Over HTTP**: two `wasmtask serve` processes (memory, Redis), loaded in
  turn with the same wrk load; the gateway process's CPU (utime + stime from
  /proc/<pid>/stat) over a run divided by the requests wrk counted. Closer to
  production, noisier (wrk and the other processes share the 2 cores).

redis-server's own CPU is shown beside, not counted: it is not the gateway's.
What a call sends to Redis is read from the server's ``INFO commandstats``
over the in-process Redis blocks (an EVALSHA for the rate-limit take, whose
script runs TIME, HMGET, HSET, PEXPIRE; an XADD per log record, and an edge
call logs "invocation start" and "invocation end").

``python -m benches.redis_cost [--quick]`` prints the tables; ``python -m benches --only redis``
adds them to the report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from benches import cpu, inprocess
from benches.gateway_inprocess import InProcessGateway
from benches.gateway_server import GatewayUnavailable, GatewayUnderTest
from benches.processes import ServerFailed
from benches.redis_server import CommandStat, RedisUnderTest
from benches.wrk import LoadResult

HELLO = inprocess.SCENARIOS["workers-hello"][0]
# variant -> what goes through Redis (benches/gateway_inprocess.py SHARED); "memory" has no Redis at all
VARIANTS: dict[str, tuple[str, ...]] = {
    "memory": (),
    "redis": ("rate-limit", "logs"),
    "redis rate limit only": ("rate-limit",),
    "redis logs only": ("logs",),
}
MODES = ("memory", "redis")  # over HTTP
CONCURRENCIES = (1, 64)
TARGET_US = 30.0
SETTLE_SECONDS = 0.01  # after a block: the log writer's last batch (a pipelined write takes well under 1 ms)


class LoadRunner(Protocol):
    """wrk (``benches.wrk.run`` with its binary and Lua hook bound), or anything measuring the same way."""

    def __call__(self, url: str, *, system: str, concurrency: int, duration_s: int,
                 server_cpu: Callable[[], float] | None = None) -> LoadResult: ...


@dataclass
class InProcessBlock:
    """One block of calls through the ASGI app, in one variant."""

    variant: str
    concurrency: int
    calls: int
    cpu_us_per_call: float  # time.process_time over the block (the log writer's last batch included)
    redis_cpu_s: float | None  # redis-server's CPU over the same block (variants with Redis; 10 ms ticks)
    errors: int = 0  # non-200 answers
    inline: bool = True  # False: the gateway stopped running the function inline during the block (not counted)

    @property
    def counted(self) -> bool:
        return self.inline and not self.errors


@dataclass
class Component:
    """One part of a call's Redis work alone, in a tight loop, beside its in-memory counterpart."""

    part: str
    memory_us: float  # CPU per call, in memory
    redis_us: float  # CPU per call through Redis, in the gateway's process (client side)
    repetitions: int


@dataclass
class HttpRun:
    """One wrk run against one `wasmtask serve` process."""

    mode: str  # "memory" or "redis"
    concurrency: int
    requests: int
    ok_per_second: float
    gateway_cpu_s: float
    redis_cpu_s: float | None
    errors: int

    @property
    def gateway_us_per_call(self) -> float:
        return self.gateway_cpu_s / self.requests * 1e6 if self.requests else float("nan")


@dataclass
class RedisCost:
    inprocess: list[InProcessBlock] = field(default_factory=list)
    http: list[HttpRun] = field(default_factory=list)
    commands_per_call: dict[str, float] = field(default_factory=dict)  # command -> calls per gateway call
    server_us_per_call: float | None = None  # redis-server's time inside commands, per gateway call
    components: list[Component] = field(default_factory=list)
    http_error: str | None = None  # why the measurement over HTTP did not run (the in-process one stands alone)

    def median_us(self, variant: str, concurrency: int) -> float | None:
        values = [b.cpu_us_per_call for b in self.inprocess
                  if b.variant == variant and b.concurrency == concurrency and b.counted]
        return statistics.median(values) if values else None

    def not_counted(self) -> list[InProcessBlock]:
        return [b for b in self.inprocess if not b.counted]

    def over_memory_us(self, variant: str, concurrency: int) -> float | None:
        """The variant's median CPU per call minus the in-memory gateway's (in-process)."""
        mine, memory = self.median_us(variant, concurrency), self.median_us("memory", concurrency)
        return None if mine is None or memory is None else mine - memory

    def redis_server_us(self, variant: str, concurrency: int) -> float | None:
        """redis-server's CPU per call over every block of the variant (blocks are short against its 10 ms ticks)."""
        blocks = [b for b in self.inprocess if b.variant == variant and b.concurrency == concurrency
                  and b.redis_cpu_s is not None]
        calls = sum(b.calls for b in blocks)
        return sum(b.redis_cpu_s or 0.0 for b in blocks) / calls * 1e6 if calls else None

    def http_median_us(self, mode: str, concurrency: int) -> float | None:
        values = [r.gateway_us_per_call for r in self.http if r.mode == mode and r.concurrency == concurrency]
        return statistics.median(values) if values else None

    def concurrencies(self) -> list[int]:
        return sorted({b.concurrency for b in self.inprocess} | {r.concurrency for r in self.http})

    def to_dict(self) -> dict[str, object]:
        return {
            "inprocess": [asdict(block) for block in self.inprocess],
            "http": [asdict(run) for run in self.http],
            "commands_per_call": self.commands_per_call,
            "server_us_per_call": self.server_us_per_call,
            "components": [asdict(component) for component in self.components],
            "http_error": self.http_error,
            "over_memory_us": {variant: {str(c): self.over_memory_us(variant, c) for c in self.concurrencies()}
                               for variant in VARIANTS if variant != "memory"},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RedisCost:
        return cls(
            inprocess=[InProcessBlock(**block) for block in data.get("inprocess", [])],
            http=[HttpRun(**run) for run in data.get("http", [])],
            commands_per_call=dict(data.get("commands_per_call", {})),
            server_us_per_call=data.get("server_us_per_call"),
            components=[Component(**component) for component in data.get("components", [])],
            http_error=data.get("http_error"),
        )


@dataclass(frozen=True)
class Plan:
    inprocess_rounds: int = 8  # interleaved rounds of blocks (every variant at c=1, then at c=64, ...)
    calls: int = 256  # per block (short blocks, many rounds: the machine's load changes fast)
    component_repetitions: int = 2000
    http_rounds: int = 3
    duration_s: int = 3  # one wrk run
    warmup_s: int = 2


FULL = Plan()
QUICK = Plan(inprocess_rounds=2, calls=192, component_repetitions=300, http_rounds=1, duration_s=2, warmup_s=1)


def measure(work_dir: Path, load: LoadRunner | None, plan: Plan = FULL, *,
            concurrencies: tuple[int, ...] = CONCURRENCIES,
            say: Callable[[str], None] = lambda message: None) -> RedisCost:
    """Both measurements (over HTTP only when ``load`` is given); every process started here is stopped."""
    result = RedisCost()
    with RedisUnderTest(work_dir / "redis-cost-redis") as redis_server:
        _run_on_uvloop(_measure_inprocess(result, work_dir, redis_server, plan, concurrencies=concurrencies, say=say))
        if load is not None:
            try:
                _measure_http(result, work_dir, redis_server, load, plan, concurrencies=concurrencies, say=say)
            except (ServerFailed, GatewayUnavailable, httpx.HTTPError, RuntimeError, OSError) as error:
                result.http_error = f"{type(error).__name__}: {error}"
    return result


def _run_on_uvloop(coroutine: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # as uvicorn's "auto" loop: plain asyncio without uvloop
        asyncio.run(coroutine)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coroutine)


async def _measure_inprocess(result: RedisCost, work_dir: Path, redis_server: RedisUnderTest, plan: Plan, *,
                             concurrencies: tuple[int, ...], say: Callable[[str], None]) -> None:
    rounds, calls = plan.inprocess_rounds, plan.calls
    async with contextlib.AsyncExitStack() as stack:
        gateways: dict[str, InProcessGateway] = {}
        for variant, shared in VARIANTS.items():
            gateway = InProcessGateway(work_dir / f"inprocess-{variant.replace(' ', '-')}",
                                       redis_url=redis_server.url if variant != "memory" else None, shared=shared)
            gateways[variant] = await stack.enter_async_context(gateway)
            await gateway.set_up("hello", HELLO)
            await _block(gateway, max(1, calls // 5), 1)  # warm-up
        demotions = {variant: gateway.inline_demotions() for variant, gateway in gateways.items()}
        sent: dict[str, CommandStat] = {}  # by the shipped configuration's blocks
        counted_calls = 0
        for round_index in range(rounds):
            for concurrency in concurrencies:
                for variant, gateway in gateways.items():
                    stats_before = redis_server.command_stats() if variant == "redis" else {}
                    redis_before = cpu.process_cpu_seconds(redis_server.pid)
                    done, cpu_us, errors = await _block(gateway, calls, concurrency)
                    redis_cpu_s = cpu.process_cpu_seconds(redis_server.pid) - redis_before
                    inline = gateway.inline_demotions() == demotions[variant]
                    if not inline:  # a new version runs inline again: the next block measures the same path
                        await gateway.redeploy("hello", HELLO)
                        demotions[variant] = gateway.inline_demotions()
                    if variant == "redis":  # the commands of the shipped configuration only
                        _add_stats(sent, stats_before, redis_server.command_stats())
                        counted_calls += done
                    result.inprocess.append(InProcessBlock(variant, concurrency, done, cpu_us,
                                                           redis_cpu_s if variant != "memory" else None,
                                                           errors, inline))
            say(f"redis cost: in-process round {round_index + 1}/{rounds}: " + ", ".join(
                f"{b.variant} c={b.concurrency} {b.cpu_us_per_call:.0f} µs"
                for b in result.inprocess[-len(VARIANTS) * len(concurrencies):]))
        result.commands_per_call, result.server_us_per_call = _per_call(sent, counted_calls)
        say(f"redis cost: each part alone, {plan.component_repetitions} repetitions")
        result.components = await _components(gateways["memory"].gateway, gateways["redis"].gateway,
                                               plan.component_repetitions)


async def _block(gateway: InProcessGateway, calls: int, concurrency: int) -> tuple[int, float, int]:
    """``calls`` calls, ``concurrency`` at a time: (calls made, CPU µs per call, non-200 answers)."""
    per_task = max(1, calls // concurrency)
    errors = 0

    async def calls_in_turn() -> None:
        nonlocal errors
        for _ in range(per_task):
            if await gateway.call("hello") != 200:
                errors += 1
            # Back to the loop between calls, as a server goes back to it for the next request's bytes: the log
            # writer gets its turn after each call (else, at c=1, it would write one batch per block).
            await asyncio.sleep(0)

    started = time.process_time()
    await asyncio.gather(*(calls_in_turn() for _ in range(concurrency)))
    await asyncio.sleep(SETTLE_SECONDS)
    done = per_task * concurrency
    return done, (time.process_time() - started) / done * 1e6, errors


def _add_stats(total: dict[str, CommandStat], before: dict[str, CommandStat], after: dict[str, CommandStat]) -> None:
    """Add to ``total`` what was sent between ``before`` and ``after``."""
    for name, stat in after.items():
        earlier = before.get(name, CommandStat(0, 0))
        running = total.get(name, CommandStat(0, 0))
        total[name] = CommandStat(running.calls + stat.calls - earlier.calls, running.usec + stat.usec - earlier.usec)


def _per_call(total: dict[str, CommandStat], calls: int) -> tuple[dict[str, float], float | None]:
    if not calls:
        return {}, None
    per_call = {name: stat.calls / calls for name, stat in total.items()
                # INFO is ours (reading these counters); below 0.01 a call: a connection's handshake, a health check
                if name != "info" and stat.calls / calls >= 0.01}
    usec = sum(stat.usec for name, stat in total.items() if name != "info")
    return dict(sorted(per_call.items())), usec / calls


async def _cpu_per(repetitions: int, step: Callable[[], Coroutine[Any, Any, None]]) -> float:
    """CPU µs per repetition of ``step``, after a tenth as many unmeasured ones."""
    for _ in range(max(1, repetitions // 10)):
        await step()
    started = time.process_time()
    for _ in range(repetitions):
        await step()
    return (time.process_time() - started) / repetitions * 1e6


async def _components(memory: Any, shared: Any, repetitions: int) -> list[Component]:
    """A call's Redis work alone: one rate-limit take; its two log records, published and written.

    ``memory`` and ``shared``: the in-memory and the Redis gateway (``gateway.service.Gateway``)."""
    from gateway.coordination import RedisLogBus

    key = ("bench", "edge")

    async def take_memory() -> None:
        await memory.rate_limiter.take(key, 1e6, 1_000_000)

    async def take_redis() -> None:
        await shared.rate_limiter.take(key, 1e6, 1_000_000)

    fields = {"tenant": "bench", "function": "hello", "version": "1"}
    start = {"time": time.time(), "level": "debug", "msg": "invocation start", "request_id": "0" * 24, **fields,
             "event": "invocation_start", "kind": "edge"}
    end = {"time": time.time(), "level": "info", "msg": "invocation end", "request_id": "0" * 24, **fields,
           "event": "invocation_end", "code": "ok", "fuel_used": 389_023, "duration_ms": 0.3, "status": 200}
    bus = shared.logs
    if not isinstance(bus, RedisLogBus):
        raise RuntimeError(f"the Redis gateway's log bus is a {type(bus).__name__}")

    async def log_memory() -> None:
        memory.logs.publish("bench", start)
        memory.logs.publish("bench", end)

    async def log_redis() -> None:
        bus.publish("bench", start)
        bus.publish("bench", end)
        # The writer task's step, awaited here so that its CPU falls inside the measurement (the task,
        # woken by publish, then finds the queue empty).
        await bus._flush()

    dropped = bus.dropped
    components = [
        Component("rate-limit take (EVALSHA, 1 a call)", await _cpu_per(repetitions, take_memory),
                  await _cpu_per(repetitions, take_redis), repetitions),
        Component("2 log records published and written (a pipelined XADD batch of 2)",
                  await _cpu_per(repetitions, log_memory), await _cpu_per(repetitions, log_redis), repetitions),
    ]
    if bus.dropped > dropped:
        raise RuntimeError(f"{bus.dropped - dropped} log records were not written to Redis")
    return components


def _measure_http(result: RedisCost, work_dir: Path, redis_server: RedisUnderTest, load: LoadRunner, plan: Plan, *,
                  concurrencies: tuple[int, ...], say: Callable[[str], None]) -> None:
    rounds, duration_s, warmup_s = plan.http_rounds, plan.duration_s, plan.warmup_s
    with GatewayUnderTest(work_dir, name="wasmtask-memory") as memory, \
            GatewayUnderTest(work_dir, name="wasmtask-redis", redis_url=redis_server.url) as with_redis:
        gateways = {"memory": memory, "redis": with_redis}
        for mode, gateway in gateways.items():
            gateway.deploy("hello", HELLO)
            gateway.call("hello")
            say(f"redis cost: warm-up over HTTP, {mode} ({warmup_s} s at c=8)")
            load(gateway.url("hello"), system=f"wasmtask-{mode}", concurrency=8, duration_s=warmup_s)
        for round_index in range(rounds):
            for concurrency in concurrencies:
                for mode, gateway in gateways.items():
                    redis_before = cpu.process_cpu_seconds(redis_server.pid)
                    run = load(gateway.url("hello"), system=f"wasmtask-{mode}", concurrency=concurrency,
                               duration_s=duration_s,
                               server_cpu=functools.partial(cpu.process_cpu_seconds, gateway.pid))
                    redis_cpu = cpu.process_cpu_seconds(redis_server.pid) - redis_before
                    assert run.server_cpu_s is not None
                    measured = HttpRun(mode, concurrency, run.requests, run.ok_per_second, run.server_cpu_s,
                                       redis_cpu if mode == "redis" else None,
                                       run.non_2xx + sum(run.socket_errors.values()))
                    result.http.append(measured)
                    say(f"redis cost: HTTP round {round_index + 1}/{rounds} c={concurrency:<3} {mode:<6} "
                        f"{measured.gateway_us_per_call:7.1f} µs CPU per call ({run.requests} calls)")


# reporting


def markdown(cost: RedisCost) -> str:
    levels = cost.concurrencies()
    out = []
    if cost.inprocess:
        out += ["In-process (ASGI, no HTTP): the gateway's CPU per call, median of the rounds; "
                "in brackets, over the in-memory gateway.", "",
                "| variant | " + " | ".join(f"c={c} µs CPU per call" for c in levels)
                + " | redis-server µs CPU per call (c=" + ", ".join(str(c) for c in levels) + ") |",
                "|---|" + "---:|" * (len(levels) + 1)]
        for variant in VARIANTS:
            cells = []
            for c in levels:
                median, over = cost.median_us(variant, c), cost.over_memory_us(variant, c)
                shown = "" if variant == "memory" or over is None else f" ({_us(over, signed=True)})"
                cells.append(_us(median) + shown)
            server = [_us(cost.redis_server_us(variant, c)) for c in levels]
            out.append(f"| {variant} | " + " | ".join(cells) + f" | {' / '.join(server)} |")
        verdicts = []
        for c in levels:
            over = cost.over_memory_us("redis", c)
            if over is not None:
                verdicts.append(f"c={c}: {_us(over, signed=True)} µs ({'met' if over <= TARGET_US else 'missed'})")
        if verdicts:
            out += ["", f"Target: Redis costs <= {TARGET_US:.0f} µs of gateway CPU per call: " + "; ".join(verdicts)
                    + "."]
    skipped_blocks = cost.not_counted()
    if skipped_blocks:
        reasons: dict[str, int] = {}
        for b in skipped_blocks:
            reason = "stopped running inline" if not b.inline else "non-200 answers"
            key = f"{b.variant} c={b.concurrency}: {reason}"
            reasons[key] = reasons.get(key, 0) + 1
        out += ["", f"Not counted: {len(skipped_blocks)} block(s) of {len(cost.inprocess)}, in which the function "
                    "stopped running inline or calls failed ("
                + ", ".join(f"{key}{f' x{count}' if count > 1 else ''}" for key, count in sorted(reasons.items()))
                + "); the function was deployed again after each, so the next block ran inline."]
    if cost.commands_per_call:
        commands = ", ".join(f"{name.upper()} {count:.2f}" for name, count in cost.commands_per_call.items())
        out += ["", f"Redis commands per call (INFO commandstats, in-process blocks of the shipped configuration): "
                    f"{commands}; redis-server time inside commands {_us(cost.server_us_per_call)} µs per call."]
    if cost.components:
        out += ["", "Each part alone (tight loop, the same gateway objects; a lower bound: every cache warm):", "",
                "| part | in memory µs CPU per call | Redis µs CPU per call (client) | difference | repetitions |",
                "|---|---:|---:|---:|---:|"]
        for component in cost.components:
            out.append(f"| {component.part} | {_us(component.memory_us)} | {_us(component.redis_us)} | "
                       f"{_us(component.redis_us - component.memory_us, signed=True)} | {component.repetitions:,} |")
    if cost.http_error:
        first, _, rest = cost.http_error.partition("\n")
        out += ["", f"Over HTTP: not measured ({first})."]
        if rest.strip():
            out += ["", "```", *rest.splitlines(), "```"]
    if cost.http:
        out += ["", "Over HTTP (wrk; `wasmtask serve`, one process each): the gateway process's CPU per call "
                    "(/proc/<pid>/stat), median of the rounds.", "",
                "| load | memory µs CPU per call | Redis µs CPU per call | difference | req/s memory / Redis | "
                "redis-server µs CPU per call |",
                "|---|---:|---:|---:|---:|---:|"]
        for c in levels:
            runs = [r for r in cost.http if r.concurrency == c]
            if not runs:
                continue
            memory, redis = cost.http_median_us("memory", c), cost.http_median_us("redis", c)
            difference = None if memory is None or redis is None else redis - memory
            rates = " / ".join(f"{statistics.median(r.ok_per_second for r in runs if r.mode == mode):,.0f}"
                               if any(r.mode == mode for r in runs) else "—" for mode in MODES)
            server_us = [r.redis_cpu_s / r.requests * 1e6 for r in runs
                         if r.mode == "redis" and r.redis_cpu_s is not None and r.requests]
            rounds = len([r for r in runs if r.mode == "memory"])
            out.append(f"| wrk c={c}, {rounds} round(s) | {_us(memory)} | {_us(redis)} | "
                       f"{_us(difference, signed=True)} | {rates} | "
                       f"{_us(statistics.median(server_us)) if server_us else '—'} |")
    return "\n".join(out)


def _us(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    from benches import wrk

    parser = argparse.ArgumentParser(prog="python -m benches.redis_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 in-process rounds, 1 round of 2 s of wrk per point")
    parser.add_argument("--no-http", action="store_true", help="only the in-process measurement (no wrk)")
    args = parser.parse_args(argv)
    wrk_path = None if args.no_http else wrk.find_wrk()
    with tempfile.TemporaryDirectory(prefix="wasmtask-redis-cost-") as directory:
        work_dir = Path(directory)
        lua = wrk.write_lua(work_dir)

        def run_wrk(url: str, *, system: str, concurrency: int, duration_s: int,
                    server_cpu: Callable[[], float] | None = None) -> LoadResult:
            assert wrk_path is not None
            return wrk.run(wrk_path, lua, url, system=system, concurrency=concurrency, duration_s=duration_s,
                           server_cpu=server_cpu)

        cost = measure(work_dir, run_wrk if wrk_path else None, QUICK if args.quick else FULL,
                       say=lambda message: print(message, file=sys.stderr, flush=True))
    print(markdown(cost))
    return 0


if __name__ == "__main__":
    sys.exit(main())

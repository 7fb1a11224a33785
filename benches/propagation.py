"""How soon a deploy answered by one gateway is served by another (issue 12's target: p99 <= 1 s over 100 deploys).

Two `wasmtask serve` processes on their own ports share one data dir (the
SQLite registry, as the workers of one host do) and one redis-server, as two
workers would; a separate port each is what lets us ask a chosen one (behind
`--workers N` the kernel picks the worker). Deploy number n of one function
through A returns ``v<n>``; as soon as A's answer arrives, B is asked
back to back (each GET waits for the previous answer) until it returns
``v<n>``. The delay is from A's answer to B's first ``v<n>``; the answers B
gave before are counted (stale), and any older than one it already gave
(went back) too. A random pause of 0 to 0.25 s between deploys keeps them
out of step with B's change-feed poll (gateway/service.py, every 0.2 s).

``python -m benches.propagation [--deploys N]`` prints the table; ``python -m benches --only propagation``
adds it to the report.
"""

from __future__ import annotations

import argparse
import math
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benches.gateway_server import GatewayUnavailable, GatewayUnderTest
from benches.redis_server import RedisUnderTest

TARGET_P99_S = 1.0
GIVE_UP_S = 10.0  # per deploy: a deploy not seen by then is counted as never seen
MAX_PAUSE_S = 0.25
FUNCTION = "visible"


def versioned_source(n: int) -> str:
    return f'export default {{ fetch() {{ return new Response("v{n}"); }} }};\n'


@dataclass
class Visibility:
    """One deploy through A, watched on B. Times in milliseconds."""

    version: int
    deploy_ms: float  # A's PUT round trip
    visible_ms: float | None  # from A's answer to B's first answer with this version (None: not within GIVE_UP_S)
    stale_answers: int  # B's answers with an older version before that
    deployer_current: bool  # A's first answer after its deploy was this version


@dataclass
class Propagation:
    deploys: list[Visibility] = field(default_factory=list)
    went_back: int = 0  # answers from B older than one it had already given
    errors: int = 0  # non-2xx answers from B while watching

    def delays_ms(self) -> list[float]:
        return [d.visible_ms for d in self.deploys if d.visible_ms is not None]

    @property
    def never_seen(self) -> int:
        return sum(1 for d in self.deploys if d.visible_ms is None)

    def percentile_ms(self, percent: float) -> float | None:
        """Nearest rank over every deploy; a deploy never seen counts as infinitely late."""
        values = sorted(d.visible_ms if d.visible_ms is not None else math.inf for d in self.deploys)
        if not values:
            return None
        return values[max(0, math.ceil(len(values) * percent / 100) - 1)]

    def to_dict(self) -> dict[str, object]:
        return {"deploys": [asdict(d) for d in self.deploys], "went_back": self.went_back, "errors": self.errors,
                "p50_ms": self.percentile_ms(50), "p99_ms": self.percentile_ms(99)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Propagation:
        return cls([Visibility(**d) for d in data.get("deploys", [])], int(data.get("went_back", 0)),
                   int(data.get("errors", 0)))


def measure(work_dir: Path, deploys: int = 100, *, seed: int = 12,
            say: Callable[[str], None] = lambda message: None) -> Propagation:
    """``deploys`` deploys through A, each watched on B; both gateways and Redis are stopped before it returns."""
    result = Propagation()
    pauses = random.Random(seed)
    data_dir = work_dir / "propagation-data"
    admin_key = secrets.token_urlsafe(24)
    with RedisUnderTest(work_dir / "propagation-redis") as redis_server, \
            GatewayUnderTest(work_dir, name="wasmtask-a", redis_url=redis_server.url, data_dir=data_dir,
                             admin_key=admin_key) as deployer, \
            GatewayUnderTest(work_dir, name="wasmtask-b", redis_url=redis_server.url, data_dir=data_dir,
                             admin_key=admin_key, create_tenant=False) as watcher:
        deployer.deploy(FUNCTION, versioned_source(0))
        newest_seen = _wait_for(watcher, 0, result, newest_seen=-1)[1]
        result.errors = 0  # B's not_found before it learnt of the function at all: not part of the measurement
        for n in range(1, deploys + 1):
            time.sleep(pauses.uniform(0, MAX_PAUSE_S))
            deploy_ms, _ = deployer.deploy(FUNCTION, versioned_source(n))
            answered = time.perf_counter()
            deployer_current = deployer.answer(FUNCTION) == f"v{n}"
            (visible_s, newest_seen, stale) = _wait_for(watcher, n, result, newest_seen, since=answered)
            result.deploys.append(Visibility(n, round(deploy_ms, 3),
                                              None if visible_s is None else round(visible_s * 1000, 3),
                                              stale, deployer_current))
            if n % 20 == 0 or n == deploys:
                delays = result.delays_ms()
                say(f"propagation: {n}/{deploys} deploys, median {statistics.median(delays):.0f} ms, "
                    f"max {max(delays):.0f} ms" if delays else f"propagation: {n}/{deploys} deploys, none seen")
    return result


def _wait_for(watcher: GatewayUnderTest, version: int, result: Propagation, newest_seen: int,
              since: float | None = None) -> tuple[float | None, int, int]:
    """Ask ``watcher`` until it answers ``v<version>``.

    Returns (seconds since ``since``, or None if not within GIVE_UP_S; the newest version seen; stale answers)."""
    started = time.perf_counter() if since is None else since
    stale = 0
    while time.perf_counter() - started < GIVE_UP_S:
        try:
            body = watcher.answer(FUNCTION)
        except GatewayUnavailable:  # e.g. not_found before the very first deploy arrives
            result.errors += 1
            time.sleep(0.01)
            continue
        seen = int(body.removeprefix("v")) if body.startswith("v") and body[1:].isdigit() else -1
        if seen < newest_seen:
            result.went_back += 1
        newest_seen = max(newest_seen, seen)
        if seen == version:
            return time.perf_counter() - started, newest_seen, stale
        stale += 1
    return None, newest_seen, stale


def markdown(propagation: Propagation) -> str:
    delays = propagation.delays_ms()
    p50, p99 = propagation.percentile_ms(50), propagation.percentile_ms(99)

    def ms(value: float | None) -> str:
        return "—" if value is None else ("never" if math.isinf(value) else f"{value:,.0f}")

    verdict = "—" if p99 is None else ("met" if p99 <= TARGET_P99_S * 1000 else "missed")
    deploy_ms = statistics.median(d.deploy_ms for d in propagation.deploys) if propagation.deploys else None
    stale = statistics.median(d.stale_answers for d in propagation.deploys) if propagation.deploys else None
    current = sum(1 for d in propagation.deploys if d.deployer_current)
    return "\n".join([
        "| deploys | p50 ms | p99 ms | max ms | target (p99) | never seen | went back | median deploy ms (A) | "
        "median stale answers | A current at once |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(propagation.deploys)} | {ms(p50)} | {ms(p99)} | {ms(max(delays) if delays else None)} | "
        f"<= {TARGET_P99_S * 1000:,.0f} ms ({verdict}) | {propagation.never_seen} | {propagation.went_back} | "
        f"{ms(deploy_ms)} | {'—' if stale is None else f'{stale:g}'} | {current}/{len(propagation.deploys)} |",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benches.propagation", description=__doc__.split("\n")[0])
    parser.add_argument("--deploys", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wasmtask-propagation-") as directory:
        result = measure(Path(directory), args.deploys, say=lambda message: print(message, file=sys.stderr, flush=True))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

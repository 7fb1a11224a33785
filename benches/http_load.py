"""HTTP load at a fixed concurrency for a fixed time: wrk (benches/wrk.py) when present, else a Python fallback.

Both give a ``benches.wrk.LoadResult``. The fallback (asyncio and httpx: ``concurrency``
connections, each sending the next request as soon as the last one is answered, like
wrk) spends far more CPU per request than wrk, so on a small machine it caps the
throughput it can show well below the server's; its latencies are still real
round trips. ``generator`` says which one ran.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from benches import wrk
from benches.measure import percentile
from benches.wrk import CURVE_PERCENTILES, LoadResult

GENERATORS = ("auto", "wrk", "python")


class GeneratorMissing(RuntimeError):
    """The load generator asked for is not installed."""


def load(url: str, *, system: str, concurrency: int, duration_s: float, method: str = "GET",
         headers: Sequence[tuple[str, str]] = (), body: bytes | None = None,
         generator: str = "auto") -> tuple[LoadResult, str]:
    """One run at ``concurrency`` for ``duration_s``: its result and the generator that ran ("wrk", "python")."""
    path = shutil.which("wrk") if generator in ("auto", "wrk") else None
    if generator == "wrk" and path is None:
        raise GeneratorMissing("wrk is not installed (apt-get install wrk), or use --load-generator python")
    if path is not None:
        with tempfile.TemporaryDirectory(prefix="wasmtask-load-") as directory:
            lua = wrk.write_lua(Path(directory), method=method, headers=headers, body=body)
            result = wrk.run(path, lua, url, system=system, concurrency=concurrency,
                             duration_s=max(1, math.ceil(duration_s)), loopback_only=False)
        return result, "wrk"
    return asyncio.run(python_load(url, system=system, concurrency=concurrency, duration_s=duration_s,
                                   method=method, headers=headers, body=body)), "python"


async def python_load(url: str, *, system: str, concurrency: int, duration_s: float, method: str = "GET",
                      headers: Sequence[tuple[str, str]] = (), body: bytes | None = None) -> LoadResult:
    """``concurrency`` closed loops of requests on their own connections for ``duration_s`` seconds."""
    latencies_ms: list[float] = []
    statuses = {"ok": 0, "non_2xx": 0}
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10.0), trust_env=False) as client:
        started = time.perf_counter()
        deadline = started + duration_s

        async def loop() -> None:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await client.request(method, url, headers=list(headers), content=body)
                except httpx.TimeoutException:
                    errors["timeout"] = errors.get("timeout", 0) + 1
                    continue
                except httpx.HTTPError as exc:
                    kind = "connect" if isinstance(exc, httpx.ConnectError) else "read"
                    errors[kind] = errors.get(kind, 0) + 1
                    await asyncio.sleep(0.01)  # a refused connection must not spin
                    continue
                latencies_ms.append((time.perf_counter() - sent) * 1000)
                statuses["ok" if response.status_code < 400 else "non_2xx"] += 1

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies_ms)
    curve = [(float(p), round(percentile(ordered, p / 100), 3)) for p in CURVE_PERCENTILES] if ordered else []
    by_percentile = dict(curve)
    return LoadResult(system=system, concurrency=concurrency, duration_s=round(elapsed, 3),
                      requests=len(ordered), ok_per_second=statuses["ok"] / elapsed if elapsed else 0.0,
                      p50_ms=by_percentile.get(50.0, 0.0), p99_ms=by_percentile.get(99.0, 0.0),
                      non_2xx=statuses["non_2xx"], socket_errors=errors, curve_ms=curve)

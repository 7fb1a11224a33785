"""The console's per-function numbers, folded from ``invocation_end`` records of a tenant's log."""

from __future__ import annotations

import time

from gateway.console.stats import TenantStats


def end(function: str, at: float, code: str = "ok", duration_ms: float = 2.0, fuel: int = 1000,
        status: int | None = None) -> dict[str, object]:
    record: dict[str, object] = {"time": at, "level": "info", "msg": "invocation end", "event": "invocation_end",
                                 "function": function, "code": code, "duration_ms": duration_ms, "fuel_used": fuel}
    if status is not None:
        record["status"] = status
    return record


def test_calls_errors_and_percentiles_over_the_last_hour() -> None:
    now = time.time()
    stats = TenantStats()
    for i in range(100):
        stats.add(end("f", now - 30, duration_ms=float(i + 1), fuel=10 * (i + 1)))
    stats.add(end("f", now - 90, code="cpu_limit"))
    stats.add(end("f", now - 90, status=503))  # a 5xx answer counts as an error
    stats.add(end("f", now - 90, status=404))  # a 4xx is the function's answer, not an error
    stats.add({"event": "invocation_start", "function": "f", "time": now})  # not a call's end
    stats.add({"level": "info", "msg": "hello", "function": "f", "time": now})  # a log line
    summary = stats.summary(now)["f"]
    assert (summary["calls"], summary["errors"]) == (103, 2)
    # 103 durations: 1..100 ms and three of 2 ms (the three calls a minute earlier)
    assert (summary["p50_ms"], summary["p99_ms"]) == (49.0, 99.0)
    assert summary["fuel_p50"] == 520.0  # 10..1000 and three of 1000
    assert len(summary["series"]) == 60 and sum(p["calls"] for p in summary["series"]) == 103


def test_calls_older_than_an_hour_are_forgotten() -> None:
    now = time.time()
    stats = TenantStats()
    stats.add(end("old", now - 2 * 3600))
    stats.add(end("f", now - 3 * 3600))
    stats.add(end("f", now))  # drops f's bucket of three hours ago
    summary = stats.summary(now)
    assert summary["old"]["calls"] == 0
    assert summary["f"]["calls"] == 1
    assert len(stats.functions["f"]) == 1

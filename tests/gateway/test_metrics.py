"""The per-call metrics, as Prometheus reads them: counts by kind and code, cumulative buckets."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(metrics.render().decode())
            for sample in family.samples}


def test_calls_are_counted_by_kind_and_code_with_their_duration_and_fuel() -> None:
    metrics = Metrics(in_flight=lambda: 0)
    metrics.observe_call("edge", "ok", 0.0003, 400_000)
    metrics.observe_call("edge", "ok", 0.005, 3_000_000)  # on a bound: counted in that bucket ("le")
    metrics.observe_call("run", "cpu_limit", 20.0, 5_000_000_000)  # above every bound: only in +Inf

    seen = samples(metrics)

    assert seen[("wasmtask_invocations_total", (("code", "ok"), ("kind", "edge")))] == 2
    assert seen[("wasmtask_invocations_total", (("code", "cpu_limit"), ("kind", "run")))] == 1
    duration = "wasmtask_invocation_duration_seconds_bucket"
    assert seen[(duration, (("kind", "edge"), ("le", "0.001")))] == 1
    assert seen[(duration, (("kind", "edge"), ("le", "0.005")))] == 2
    assert seen[(duration, (("kind", "edge"), ("le", "+Inf")))] == 2
    assert seen[(duration, (("kind", "run"), ("le", "10.0")))] == 0
    assert seen[(duration, (("kind", "run"), ("le", "+Inf")))] == 1
    assert seen[("wasmtask_invocation_duration_seconds_sum", (("kind", "edge"),))] == 0.0053
    assert seen[("wasmtask_invocation_fuel_bucket", (("kind", "edge"), ("le", "3e+06")))] == 2
    assert seen[("wasmtask_invocation_fuel_count", (("kind", "run"),))] == 1

"""Prometheus metrics, on a registry of their own per app (so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FUEL_BUCKETS = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9, 3e9)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, in_flight: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str], tuple[Counter, Histogram, Histogram]] = {}
        self.invocations = Counter(
            "wasmtask_invocations", "Invocations by kind (run, edge) and outcome code ('ok' or an error code).",
            ["kind", "code"], registry=self.registry,
        )
        self.errors = Counter(
            "wasmtask_http_errors", "Error responses by error code.", ["code"], registry=self.registry,
        )
        self.deploys = Counter(
            "wasmtask_deploys", "Deploys by outcome code.", ["code"], registry=self.registry,
        )
        self.duration = Histogram(
            "wasmtask_invocation_duration_seconds", "Time in the isolate per invocation (admission excluded).",
            ["kind"], buckets=DURATION_BUCKETS, registry=self.registry,
        )
        self.fuel = Histogram(
            "wasmtask_invocation_fuel", "Fuel units used per invocation.", ["kind"],
            buckets=FUEL_BUCKETS, registry=self.registry,
        )
        self.isolates_in_flight = Gauge(
            "wasmtask_isolates_in_flight", "Isolates running now.", registry=self.registry,
        )
        self.isolates_in_flight.set_function(in_flight)
        self.programs_cached = Gauge(
            "wasmtask_programs_cached", "Deployed programs kept compiled in memory.", registry=self.registry,
        )

    def observe_call(self, kind: str, code: str, duration_seconds: float, fuel: int) -> None:
        """One call's outcome: its count, duration and fuel (labelled children cached: the hot path)."""
        children = self._children.get((kind, code))
        if children is None:
            children = self._children[(kind, code)] = (
                self.invocations.labels(kind, code), self.duration.labels(kind), self.fuel.labels(kind))
        invocations, duration, fuel_used = children
        invocations.inc()
        duration.observe(duration_seconds)
        fuel_used.observe(fuel)

    def count_from(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A counter whose value another object keeps (read when /metrics is scraped)."""
        self.registry.register(_ReadCounter(name, documentation, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ReadCounter(Collector):
    def __init__(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self.name = name
        self.documentation = documentation
        self.read = read

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, value=self.read())

"""Prometheus metrics, on a registry of their own per app (so several apps can live in one process)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FUEL_BUCKETS = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9, 3e9)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, in_flight: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.calls = CallMetrics()
        self.registry.register(self.calls)
        self.errors = Counter(
            "wasmtask_http_errors", "Error responses by error code.", ["code"], registry=self.registry,
        )
        self.deploys = Counter(
            "wasmtask_deploys", "Deploys by outcome code.", ["code"], registry=self.registry,
        )
        self.isolates_in_flight = Gauge(
            "wasmtask_isolates_in_flight", "Isolates running now.", registry=self.registry,
        )
        self.isolates_in_flight.set_function(in_flight)
        self.programs_cached = Gauge(
            "wasmtask_programs_cached", "Deployed programs kept compiled in memory.", registry=self.registry,
        )

    def observe_call(self, kind: str, code: str, duration_seconds: float, fuel: int) -> None:
        """One call's outcome: its count, duration and fuel. Call it on the event loop (every call ends there)."""
        self.calls.observe(kind, code, duration_seconds, fuel)

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


class _Histogram:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value: Prometheus' "le"
        self.sum += value

    def buckets(self) -> list[tuple[str, float]]:
        cumulative, total = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += count
            cumulative.append((floatToGoString(bound), float(total)))  # type: ignore[no-untyped-call]
        return cumulative


class CallMetrics(Collector):
    """Invocations by kind and code, their durations and fuel: the three metrics every call updates.

    Kept in plain counters and read when /metrics is scraped: ~1 µs per call, against
    ~10 µs for three labelled prometheus_client children (each update takes a lock and
    scans its buckets). Updated from one thread only, the event loop's."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.durations: dict[str, _Histogram] = {}
        self.fuel: dict[str, _Histogram] = {}

    def observe(self, kind: str, code: str, duration_seconds: float, fuel: int) -> None:
        key = (kind, code)
        self.counts[key] = self.counts.get(key, 0) + 1
        durations = self.durations.get(kind)
        if durations is None:
            durations = self.durations[kind] = _Histogram(DURATION_BUCKETS)
            self.fuel[kind] = _Histogram(FUEL_BUCKETS)
        durations.observe(duration_seconds)
        self.fuel[kind].observe(fuel)

    def collect(self) -> Iterable[Metric]:
        invocations = CounterMetricFamily(
            "wasmtask_invocations", "Invocations by kind (run, edge) and outcome code ('ok' or an error code).",
            labels=["kind", "code"])
        for (kind, code), count in list(self.counts.items()):
            invocations.add_metric([kind, code], count)
        yield invocations
        for name, documentation, histograms in (
                ("wasmtask_invocation_duration_seconds", "Time in the isolate per invocation (admission excluded).",
                 self.durations),
                ("wasmtask_invocation_fuel", "Fuel units used per invocation.", self.fuel)):
            family = HistogramMetricFamily(name, documentation, labels=["kind"])
            for kind, histogram in list(histograms.items()):
                family.add_metric([kind], histogram.buckets(), histogram.sum)
            yield family

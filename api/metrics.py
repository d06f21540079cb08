"""What `GET /metrics` exposes, in the Prometheus text format, through prometheus_client.

Two sources, one page:

- every request, by Litestar's Prometheus middleware: `lodestar_requests_total` and the
  latency histogram `lodestar_request_duration_seconds` per method, route template and
  status, `lodestar_requests_in_progress`, `lodestar_requests_error_total` (5xx), beside
  prometheus_client's process metrics;
- Lodestar's own, per app: lists served per strategy and fallbacks per cause (counters),
  and, read when scraped, the live index's version, age and staleness, the item cache's
  size, and the query-embedding cache's hits and misses; and each request's time per stage
  (`lodestar_request_stage_seconds`, api.timing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "lodestar"
# Latency buckets in seconds: list endpoints answer in milliseconds, a search in tens.
BUCKETS: list[str | float] = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
                              0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
# A stage (one vector query, one SQL statement) takes from tens of microseconds up.
STAGE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015,
                 0.02, 0.03, 0.05, 0.1, 0.25, 1.0)


def request_metrics() -> PrometheusConfig:
    """The middleware's settings: route templates, not raw paths, so that product ids do not
    make a time series each."""
    return PrometheusConfig(app_name=PREFIX, prefix=PREFIX, group_path=True, buckets=BUCKETS,
                            exclude=["^/metrics$"])


@dataclass(frozen=True)
class ServingState:
    """What the gauges report, read at scrape time."""

    index_version: int | None
    index_age_hours: float | None
    index_stale: bool
    item_cache_items: int
    query_embedding_hits: int
    query_embedding_misses: int


class _ServingCollector(Collector):
    def __init__(self, read: Callable[[], ServingState]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        state = self._read()
        yield GaugeMetricFamily(f"{PREFIX}_index_version",
                                "The live index version (0: none).",
                                value=float(state.index_version or 0))
        yield GaugeMetricFamily(f"{PREFIX}_index_age_hours",
                                "Hours since the live version was built (-1: none).",
                                value=state.index_age_hours if state.index_age_hours is not None
                                else -1.0)
        yield GaugeMetricFamily(f"{PREFIX}_index_stale",
                                "1 when recommendations fall back for an old or missing index.",
                                value=float(state.index_stale))
        yield GaugeMetricFamily(f"{PREFIX}_item_cache_items",
                                "Products whose ranking data this process holds.",
                                value=float(state.item_cache_items))
        yield CounterMetricFamily(f"{PREFIX}_query_embedding_hits",
                                  "Searches whose query embedding was cached.",
                                  value=float(state.query_embedding_hits))
        yield CounterMetricFamily(f"{PREFIX}_query_embedding_misses",
                                  "Searches that ran the query encoder.",
                                  value=float(state.query_embedding_misses))


class ExposureCounts(Protocol):
    written: int
    dropped: int
    failures: int

    @property
    def queued(self) -> int: ...


class _ExposureCollector(Collector):
    def __init__(self, log: ExposureCounts) -> None:
        self._log = log

    def collect(self) -> Iterator[Metric]:
        log = self._log
        yield CounterMetricFamily(f"{PREFIX}_exposures_written",
                                  "Experiment exposures written to Postgres.",
                                  value=float(log.written))
        yield CounterMetricFamily(f"{PREFIX}_exposures_dropped",
                                  "Experiment exposures dropped because the queue was full.",
                                  value=float(log.dropped))
        yield CounterMetricFamily(f"{PREFIX}_exposure_write_failures",
                                  "Batches of exposures that could not be written (retried).",
                                  value=float(log.failures))
        yield GaugeMetricFamily(f"{PREFIX}_exposures_queued",
                                "Experiment exposures waiting to be written.",
                                value=float(log.queued))


class Metrics:
    """Lodestar's own metrics of one app, in a registry of its own (so that several apps
    in one process, as in tests, count apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.recommendations = Counter(
            f"{PREFIX}_recommendations", "Recommendation lists served, by strategy.",
            ["strategy"], registry=self.registry)
        self.recommendation_fallbacks = Counter(
            f"{PREFIX}_recommendations_fallback", "Recommendations answered by the fallback, "
            "by cause.", ["cause"], registry=self.registry)
        self.searches = Counter(
            f"{PREFIX}_searches", "Searches answered, by strategy.", ["strategy"],
            registry=self.registry)
        self.list_fallbacks = Counter(
            f"{PREFIX}_list_fallback", "Similar items, bought together and trending answered "
            "from Postgres alone, by surface and cause.", ["surface", "cause"],
            registry=self.registry)
        self.search_fallbacks = Counter(
            f"{PREFIX}_search_fallback", "Searches answered from Postgres alone, by cause.",
            ["cause"], registry=self.registry)

        self.stage_seconds = Histogram(
            f"{PREFIX}_request_stage_seconds", "Time of each request spent per stage (vector "
            "store, encoder, SQL, history, ranking, ...; `other`: the rest; `total`), by "
            "route template.", ["route", "stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.experiment_lists = Counter(
            f"{PREFIX}_experiment_lists", "Lists served under an experiment, by surface and "
            "variant.", ["surface", "variant"], registry=self.registry)

    def observe_stages(self, route: str, parts: dict[str, float]) -> None:
        """Record one request's breakdown (api.timing)."""
        for stage, seconds in parts.items():
            self.stage_seconds.labels(route, stage).observe(seconds)

    def watch(self, read: Callable[[], ServingState]) -> None:
        """Report the serving state that `read` returns on every scrape."""
        self.registry.register(_ServingCollector(read))

    def watch_exposures(self, log: ExposureCounts) -> None:
        """Report the exposure log's queue and counters on every scrape."""
        self.registry.register(_ExposureCollector(log))

    def render(self) -> bytes:
        """The whole page: the process-wide registry (requests, process) and this app's."""
        return generate_latest(REGISTRY) + generate_latest(self.registry)

"""Domain metrics of the worker, on the app's own Prometheus registry.

Nothing here costs per claim beyond appending to a list: the agents count per batch (claims
read, routed, findings, latencies, stage timings), consumer lag is read from the consumer
when /metrics is scraped, and the faust sensor (`WorkerSensor`) only counts rebalances and
commits. faust's own Prometheus sensor, which runs for every event, is not installed.

Labels never carry member ids, names, birth dates or claim ids: only routes, plan types,
edit ids, dispositions, error kinds, stages and code-set release ids.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter as TallyCounter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, get_args

import faust
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from processor.codesets import ReleaseInfo
from processor.models import DeadLetter, ScrubResult
from processor.models.outputs import ErrorKind

# The *_created series double every counter and no dashboard of ours reads them.
disable_created_metrics()

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_STAGE_BUCKETS = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.05,
)


class ClaimMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.routed = Counter(
            "claims_routed",
            "Claims by the route they took",
            ["route", "plan_type"],
            registry=registry,
        )
        self.findings = Counter(
            "claims_findings",
            "Findings by edit and disposition",
            ["edit_id", "disposition"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "claims_dead_letters",
            "Messages sent to the dead-letter topic",
            ["error_kind", "agent"],
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "claims_stage_duration_seconds",
            "Time spent per claim in each processing stage",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=registry,
        )
        self.end_to_end = Histogram(
            "claims_end_to_end_latency_seconds",
            "From the input record's timestamp to the routed output being sent",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.release_info = Gauge(
            "claims_codeset_release_info",
            "Code-set releases loaded (1 per release)",
            ["kind", "release_id", "effective_start"],
            registry=registry,
        )
        self.release_used = Counter(
            "claims_codeset_release_used",
            "Routed claims by the code-set release they were judged against",
            ["kind", "release_id"],
            registry=registry,
        )
        self._children: dict[tuple[int | str, ...], Any] = {}
        # Noted per claim, observed per batch (`batch`): plain tallies and float lists, so
        # that nothing of a claim is kept alive until the batch ends.
        self._stage_times: dict[str, list[float]] = {}
        self._routed: dict[tuple[str, str], int] = {}
        self._findings: dict[tuple[str, str], int] = {}
        self._used: dict[tuple[tuple[str, str], ...], int] = {}
        self.messages_read = Counter(
            "claims_messages_read",
            "Messages the agents read, by topic",
            ["topic"],
            registry=registry,
        )
        self.rebalances = Counter(
            "claims_rebalances",
            "Consumer group rebalances this worker took part in",
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "claims_commit_duration_seconds",
            "Time an offset commit took",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.ruleset_info = Gauge(
            "claims_ruleset_info", "The rule set in use", ["version"], registry=registry
        )
        self.ready = Gauge(
            "claims_worker_ready",
            "1 when partitions are assigned and code sets loaded",
            registry=registry,
        )
        # Every dead-letter series exists from the start at 0: a rate or an increase over
        # them (the alerts) has a baseline before the first dead letter.
        for kind in get_args(ErrorKind):
            for agent in ("intake", "edits"):
                self.dead_letters.labels(kind, agent)
        self.routed.labels("dead_letter", "unknown")

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Noted now, observed with the batch (`batch`)."""
        times = self._stage_times.get(stage)
        if times is None:
            times = self._stage_times[stage] = []
        times.append(seconds)

    def note(self, result: ScrubResult) -> None:
        """A routed claim, counted with the batch (`batch`): plain dict tallies (a
        `Counter.update` per claim cost more than the rest of the claim's metrics), the
        claim's releases tallied as one combination."""
        routed = self._routed
        route = (result.route, result.claim.payer.plan_type)
        routed[route] = routed.get(route, 0) + 1
        findings = self._findings
        for finding in result.findings:
            labels = (finding.edit_id, finding.disposition)
            findings[labels] = findings.get(labels, 0) + 1
        used = self._used
        releases = tuple(result.codeset_versions.items())
        used[releases] = used.get(releases, 0) + 1

    def batch(self, topic: str, size: int, latencies: list[float]) -> None:
        """One batch of an agent: `size` messages read from `topic`, and what was noted
        meanwhile: the claims it routed (`note`), their end-to-end latencies, the stage
        timings."""
        self._child(self.messages_read, topic).inc(size)
        for tally, metric in ((self._routed, self.routed), (self._findings, self.findings)):
            if tally:
                for labels, count in tally.items():
                    self._child(metric, *labels).inc(count)
                tally.clear()
        if self._used:
            for releases, count in self._used.items():
                for labels in releases:
                    self._child(self.release_used, *labels).inc(count)
            self._used.clear()
        if latencies:
            observe_many(self.end_to_end, latencies)
        for stage, values in self._stage_times.items():
            if values:
                observe_many(self._child(self.stage_seconds, stage), values)
                values.clear()

    def loaded(self, releases: Iterable[ReleaseInfo], ruleset_version: str) -> None:
        for info in releases:
            self.release_info.labels(
                info.kind, info.release_id, info.effective_start.isoformat()
            ).set(1)
        self.ruleset_info.labels(ruleset_version).set(1)

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """The metric's child for these label values, looked up once (`labels()` is slow)."""
        key: tuple[int | str, ...] = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def dead_letter(self, letter: DeadLetter, agent: str) -> None:
        self.routed.labels("dead_letter", "unknown").inc()
        self.dead_letters.labels(letter.error_kind, agent).inc()


def observe_many(histogram: Any, values: list[float]) -> None:
    """`histogram.observe(v)` for every value, in one pass: one increment per bucket touched
    (prometheus_client has no batch observe; this uses the same bucket fields it does)."""
    bounds = histogram._upper_bounds
    counts: TallyCounter[int] = TallyCounter(bisect_left(bounds, v) for v in values)
    for index, count in counts.items():
        histogram._buckets[index].inc(count)
    histogram._sum.inc(sum(values))


Offsets = Callable[[], Iterable[tuple[str, int, int | None, int | None]]]


class ConsumerLag(Collector):
    """claims_consumer_lag{topic, partition}: messages in the partition not yet committed
    by this worker (log end offset - committed offset), for each partition assigned to it.
    Read from the consumer when /metrics is scraped: nothing per message."""

    def __init__(self, offsets: Offsets) -> None:
        self.offsets = offsets

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "claims_consumer_lag",
            "Messages not yet committed by this worker, per assigned topic partition",
            labels=["topic", "partition"],
        )
        for topic, partition, end, committed in self.offsets():
            if end is not None:
                family.add_metric([topic, str(partition)], max(0, end - (committed or 0)))
        yield family


class WorkerSensor(faust.Sensor):
    """The faust sensor of the worker: rebalances and commit latency, nothing per event
    (faust calls every sensor for every event; the base class's per-event hooks are empty)."""

    def __init__(self, metrics: ClaimMetrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        self.metrics.rebalances.inc()
        return {}

    def on_commit_initiated(self, consumer: Any) -> Any:
        return time.monotonic()

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        self.metrics.commit_seconds.observe(time.monotonic() - state)

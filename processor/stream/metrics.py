"""Domain metrics of the worker, on the app's own Prometheus registry.

Labels never carry member ids, names, birth dates or claim ids: only routes, plan types,
edit ids, dispositions, error kinds, stages and code-set release ids.
"""

from __future__ import annotations

from collections import Counter as TallyCounter
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from processor.codesets import ReleaseInfo
from processor.models import DeadLetter, ScrubResult

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
        self.ruleset_info = Gauge(
            "claims_ruleset_info", "The rule set in use", ["version"], registry=registry
        )
        self.ready = Gauge(
            "claims_worker_ready",
            "1 when partitions are assigned and code sets loaded",
            registry=registry,
        )

    def observe_stage(self, stage: str, seconds: float) -> None:
        self._child(self.stage_seconds, stage).observe(seconds)

    def loaded(self, releases: Iterable[ReleaseInfo], ruleset_version: str) -> None:
        for info in releases:
            self.release_info.labels(
                info.kind, info.release_id, info.effective_start.isoformat()
            ).set(1)
        self.ruleset_info.labels(ruleset_version).set(1)

    def results(self, results: Iterable[ScrubResult]) -> None:
        """Count a batch of routed claims: one increment per label set, not per claim."""
        routed: TallyCounter[tuple[str, str]] = TallyCounter()
        findings: TallyCounter[tuple[str, str]] = TallyCounter()
        used: TallyCounter[tuple[str, str]] = TallyCounter()
        for result in results:
            routed[(result.route, result.claim.payer.plan_type)] += 1
            findings.update((f.edit_id, f.disposition) for f in result.findings)
            used.update(result.codeset_versions.items())
        for labels, count in routed.items():
            self._child(self.routed, *labels).inc(count)
        for labels, count in findings.items():
            self._child(self.findings, *labels).inc(count)
        for labels, count in used.items():
            self._child(self.release_used, *labels).inc(count)

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

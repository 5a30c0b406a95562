"""The worker's faust app: two agents over the core's handlers, the history table, the
code-set release watcher and the web views.

intake  claims.submitted → claims.enriched (the original bytes, keyed by patient) or claims.dlq
edits   claims.enriched → Scrubber.scrub → claims.clean / claims.risk (keyed by claim_id)
        or claims.dlq

What an agent does with one message is in `processor.stream.handlers`; how a batch is
delivered before faust acknowledges it, in `processor.stream.delivery`. Both agents run
with concurrency 1 (faust-streaming issue 606: with out-of-order acks the consumer can
commit past a message still in flight) and take their stream in batches (`take_batches`: up
to CLAIMS_BATCH_MAX claims, or what came within CLAIMS_BATCH_WAIT_MS).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import TP
from prometheus_client import CollectorRegistry

from processor.codesets.model import CodeSetRelease
from processor.scrubber import Scrubber, build_scrubber
from processor.settings import Settings
from processor.stream.changelog import ChangelogHistory
from processor.stream.delivery import (
    DeliveryFailed,
    Outbox,
    byte_topics,
    faust_app,
    in_batches,
    outbox_for,
    run_app,
    stop_now,
)
from processor.stream.handlers import ClaimHandlers
from processor.stream.metrics import ClaimMetrics, ConsumerLag, WorkerSensor
from processor.stream.releases import ReleaseWatcher
from processor.stream.retention import sweep_idle_patients
from processor.stream.topics import Role, TopicSpec, apply, load_topics
from processor.stream.web import add_views

__all__ = ["DeliveryFailed", "Outbox", "StreamApp", "create_app", "run_worker"]


@dataclass
class StreamApp:
    app: faust.App
    topics: dict[Role, Any]
    intake: Any
    edits: Any
    metrics: ClaimMetrics
    handlers: ClaimHandlers
    outboxes: dict[str, Outbox]
    on_undeliverable: Callable[[BaseException], None] = stop_now

    @property
    def scrubber(self) -> Scrubber:
        return self.handlers.scrubber


def create_app(
    settings: Settings,
    scrubber: Scrubber,
    specs: dict[Role, TopicSpec],
    registry: CollectorRegistry | None = None,
    *,
    watch_releases: bool = True,
) -> StreamApp:
    registry = registry or CollectorRegistry()
    app = faust_app(settings)
    metrics = ClaimMetrics(registry)
    metrics.loaded(scrubber.codesets.releases(), scrubber.ruleset.version)
    # Rebalances and commits only: faust's own Prometheus sensor runs for every event.
    app.sensors.add(WorkerSensor(metrics))
    registry.register(ConsumerLag(lambda: consumer_offsets(app)))
    topics = byte_topics(app, specs, ("submitted", "enriched", "clean", "risk", "dlq"))

    # Claim history per patient, partitioned like claims.enriched (the intake agent keys it
    # by patient), its changelog compacted in Kafka: a worker that takes over a partition
    # recovers the same history.
    history_table = app.Table(
        "patient-history",
        default=None,
        partitions=specs["enriched"].partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        help="claim history per patient for the stateful edits",
    )
    # The app's own scrubber, timed into its metrics: a release swap replaces its code sets,
    # never those of the scrubber it was given.
    own = copy.copy(scrubber)
    outboxes = {agent: outbox_for(app, specs) for agent in ("intake", "edits")}
    handlers = ClaimHandlers(
        scrubber=own,
        # The edit hop's batch carries the history it wrote: one changelog record per
        # patient, sent and waited for with the batch's outputs.
        history=ChangelogHistory(history_table, outboxes["edits"]),
        metrics=metrics,
        outboxes=outboxes,
        stage_timer=metrics.observe_stage,
    )

    def use_release(release: CodeSetRelease) -> None:
        # One reference swap on the event loop: a claim is judged wholly by the old or the
        # new code sets, never a mix.
        handlers.scrubber.codesets = handlers.scrubber.codesets.with_release(release)
        metrics.loaded([release.info], handlers.scrubber.ruleset.version)

    submitted_name, enriched_name = specs["submitted"].name, specs["enriched"].name
    watcher = ReleaseWatcher(settings, use_release) if watch_releases else None
    if watcher is not None:

        @app.task
        async def watch_codeset_releases() -> None:
            await watcher.run()

    async def codesets_ready() -> None:
        if watcher is not None:
            await watcher.caught_up.wait()

    def undeliverable(exc: BaseException) -> None:
        built.on_undeliverable(exc)  # looked up when it happens: tests replace it

    @app.agent(topics["submitted"], concurrency=1)
    async def intake(stream: Any) -> None:
        await codesets_ready()
        outbox = handlers.outboxes["intake"]
        async for size in in_batches(stream, settings, outbox, handlers.intake, undeliverable):
            handlers.count_batch(submitted_name, size)

    @app.agent(topics["enriched"], concurrency=1)
    async def edits(stream: Any) -> None:
        await codesets_ready()
        outbox = handlers.outboxes["edits"]
        async for size in in_batches(stream, settings, outbox, handlers.edits, undeliverable):
            handlers.count_batch(enriched_name, size)

    def readiness() -> tuple[bool, dict[str, Any]]:
        assigned = len(app.consumer.assignment()) if app.consumer is not None else 0
        releases = handlers.scrubber.codesets.releases()
        caught_up = watcher is None or watcher.caught_up.is_set()
        ready = assigned > 0 and bool(releases) and caught_up
        metrics.ready.set(1 if ready else 0)
        return ready, {
            "ready": ready,
            "assigned_partitions": assigned,
            "codeset_releases": len(releases),
            "releases_topic_read": caught_up,
            "ruleset_version": handlers.scrubber.ruleset.version,
        }

    add_views(app, settings.app_id, readiness, registry)

    @app.timer(settings.history_sweep_hours * 3600)
    async def sweep_history() -> None:
        if app.rebalancing or app.in_recovery or not readiness()[0]:
            return
        enriched = specs["enriched"]
        assigned = app.consumer.assignment()
        removed = await sweep_idle_patients(
            history_table,
            partitions=enriched.partitions,
            active=lambda partition: TP(enriched_name, partition) in assigned,
            today=datetime.now(UTC).date(),
            retention_days=settings.history_retention_days,
        )
        logging.getLogger("processor.worker").info(
            "history sweep: %d idle patients removed", removed
        )

    built = StreamApp(
        app=app,
        topics=topics,
        intake=intake,
        edits=edits,
        metrics=metrics,
        handlers=handlers,
        outboxes=handlers.outboxes,
    )
    return built


def consumer_offsets(app: faust.App) -> list[tuple[str, int, int | None, int | None]]:
    """(topic, partition, log end offset, committed offset) of each partition assigned to
    the app's consumer; empty while it is not running."""
    try:
        consumer = app.consumer
        committed = getattr(consumer, "_committed_offset", {})
        return [
            (tp.topic, tp.partition, consumer.highwater(tp), committed.get(tp))
            for tp in sorted(consumer.assignment())
        ]
    except Exception:  # not started, or stopping: no figures this scrape
        return []


def run_worker(settings: Settings) -> None:
    """`claims-processor worker`: load the core, apply the topic map if asked, run until
    stopped."""
    specs = load_topics(settings)
    scrubber = build_scrubber(settings)
    if settings.apply_topics:
        for name, action in asyncio.run(apply(settings, list(specs.values()))):
            logging.getLogger("processor").info("topic %s: %s", name, action)
    stream = create_app(settings, scrubber, specs)
    run_app(stream.app, settings.log_level.lower())

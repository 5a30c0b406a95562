"""The faust app: two agents over the core, and the topic wiring.

intake  claims.submitted (raw bytes) → read + enrich → claims.enriched keyed by patient,
        or claims.dlq with the original bytes
edits   claims.enriched → every edit stage → claims.clean / claims.risk keyed by claim_id,
        or claims.dlq when a stage raises on the claim

Both agents run with concurrency 1 (faust-streaming issue 606: with out-of-order acks the
consumer can commit past a message still in flight). Delivery is at-least-once: faust
flushes the producer before it commits offsets, and every output is sent before the input
is acknowledged. Topics are read as raw bytes so that faust never drops an undecodable
message: the agents validate and dead-letter it themselves.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry

from processor.codesets.model import CodeSetRelease
from processor.history import MappingHistory
from processor.models import DeadLetter, ScrubResult
from processor.models.envelope import EnrichedEnvelope
from processor.pipeline import Scrubber, Source
from processor.settings import Settings
from processor.stream.metrics import ClaimMetrics
from processor.stream.releases import ReleaseWatcher
from processor.topics import Role, TopicSpec

log = logging.getLogger("processor.worker")


@dataclass
class StreamApp:
    app: faust.App
    topics: dict[Role, Any]
    intake: Any
    edits: Any
    metrics: ClaimMetrics
    scrubber: Scrubber


def _key_text(key: bytes | None) -> str | None:
    return key.decode("utf-8", "replace") if key is not None else None


def create_app(
    settings: Settings,
    scrubber: Scrubber,
    specs: dict[Role, TopicSpec],
    registry: CollectorRegistry | None = None,
    *,
    watch_releases: bool = True,
) -> StreamApp:
    registry = registry or CollectorRegistry()
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=settings.web_enabled,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # faust creates only its own internal topics (the history table's changelog);
        # `topics apply` owns the claim topics and their settings.
        topic_allow_declare=True,
        topic_replication_factor=settings.topic_replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.commit_interval,
        broker_session_timeout=settings.broker_session_timeout,
        producer_linger_ms=settings.producer_linger_ms,
        producer_acks=-1,
        processing_guarantee="at_least_once",
        stream_wait_empty=True,
    )
    metrics = ClaimMetrics(registry)
    scrubber.stage_timer = metrics.observe_stage
    metrics.loaded(scrubber.codesets.releases(), scrubber.ruleset.version)
    if settings.web_enabled:
        setup_prometheus_sensors(app, registry=registry, name_prefix="faust")

    def topic(role: Role) -> Any:
        spec = specs[role]
        return app.topic(
            spec.name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=spec.partitions,
        )

    topics: dict[Role, Any] = {
        role: topic(role) for role in ("submitted", "enriched", "clean", "risk", "dlq")
    }

    def use_release(release: CodeSetRelease) -> None:
        # One reference swap on the event loop: a claim is judged wholly by the old or the
        # new code sets, never a mix.
        scrubber.codesets = scrubber.codesets.with_release(release)
        metrics.loaded([release.info], scrubber.ruleset.version)

    watcher = ReleaseWatcher(settings, use_release) if watch_releases else None

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
    history = MappingHistory(history_table)

    if watcher is not None:

        @app.task
        async def watch_codeset_releases() -> None:
            await watcher.run()

    async def codesets_ready() -> None:
        if watcher is not None:
            await watcher.caught_up.wait()

    async def dead_letter(letter: DeadLetter, key: bytes | None, agent: str) -> None:
        await topics["dlq"].send(key=key, value=letter.to_json())
        metrics.dead_letter(letter, agent)
        # Position and kind only: the error text and the message could carry PHI.
        log.warning(
            "dead-lettered %s/%s@%s (%s) in %s",
            letter.source.topic,
            letter.source.partition,
            letter.source.offset,
            letter.error_kind,
            agent,
        )

    @app.agent(topics["submitted"], concurrency=1)
    async def intake(stream: Any) -> None:
        await codesets_ready()
        async for event in stream.events():
            message = event.message
            source = Source(message.topic, message.partition, message.offset)
            key = _key_text(message.key)
            started = time.perf_counter()
            try:
                outcome = scrubber.intake(
                    event.value, key=key, source=source, timestamp_ms=int(message.timestamp * 1000)
                )
            except Exception as exc:  # a bug in enrichment must not stop the stream
                outcome = scrubber.dead_letter(
                    event.value,
                    key=key,
                    source=source,
                    kind="processing",
                    error=f"intake: {type(exc).__name__}: {exc}",
                )
            metrics.observe_stage("intake", time.perf_counter() - started)
            if isinstance(outcome, DeadLetter):
                await dead_letter(outcome, message.key, "intake")
            else:
                await topics["enriched"].send(
                    key=outcome.claim.patient_key.encode(), value=outcome.to_json()
                )

    @app.agent(topics["enriched"], concurrency=1)
    async def edits(stream: Any) -> None:
        await codesets_ready()
        async for event in stream.events():
            message = event.message
            outcome: ScrubResult | DeadLetter
            envelope: EnrichedEnvelope | None = None
            try:
                envelope = scrubber.reopen(event.value)
                outcome = scrubber.evaluate_envelope(envelope, history)
            except Exception as exc:  # unreadable envelope or a bug: dead-letter, go on
                source = envelope.source if envelope else None
                outcome = scrubber.dead_letter(
                    event.value,
                    key=None,
                    source=Source(source.topic, source.partition, source.offset)
                    if source
                    else Source(message.topic, message.partition, message.offset),
                    kind="processing",
                    error=f"edits: {type(exc).__name__}: {exc}",
                )
            if isinstance(outcome, DeadLetter):
                key = envelope.received_key.encode() if envelope and envelope.received_key else None
                await dead_letter(outcome, key, "edits")
                continue
            target = topics["risk"] if outcome.route == "risk" else topics["clean"]
            await target.send(key=outcome.claim_id.encode(), value=outcome.to_json())
            metrics.result(outcome)
            if envelope is not None and envelope.input_timestamp_ms is not None:
                metrics.end_to_end.observe(
                    max(0.0, time.time() - envelope.input_timestamp_ms / 1000)
                )

    def is_ready() -> tuple[bool, dict[str, Any]]:
        assigned = len(app.consumer.assignment()) if app.consumer is not None else 0
        releases = scrubber.codesets.releases()
        caught_up = watcher is None or watcher.caught_up.is_set()
        ready = assigned > 0 and bool(releases) and caught_up
        metrics.ready.set(1 if ready else 0)
        return ready, {
            "ready": ready,
            "assigned_partitions": assigned,
            "codeset_releases": len(releases),
            "releases_topic_read": caught_up,
            "ruleset_version": scrubber.ruleset.version,
        }

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok", "app_id": settings.app_id})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready, body = is_ready()
            return self.json(body, status=200 if ready else 503)

    return StreamApp(
        app=app, topics=topics, intake=intake, edits=edits, metrics=metrics, scrubber=scrubber
    )

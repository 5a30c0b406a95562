"""The faust app: two agents over the core, and the topic wiring.

intake  claims.submitted (raw bytes) → read + enrich → claims.enriched keyed by patient,
        or claims.dlq with the original bytes
edits   claims.enriched → every edit stage → claims.clean / claims.risk keyed by claim_id,
        or claims.dlq when a stage raises on the claim

Both agents run with concurrency 1 (faust-streaming issue 606: with out-of-order acks the
consumer can commit past a message still in flight) and take their stream in batches
(`take_events`: up to CLAIMS_BATCH_MAX claims, or what came within CLAIMS_BATCH_WAIT_MS).
Each claim of a batch is handled on its own (one that fails is dead-lettered, the others go
on); its outputs go straight to the producer, and before the batch is handed back, and
faust acknowledges its input offsets, the agent waits until the broker has stored every
output (acks=all). An input offset is therefore never committed before its outputs exist:
delivery is at-least-once. If outputs cannot be delivered after retries the worker stops
at once, without acknowledging the batch, so that it is read again after a restart.

Topics are read as raw bytes so that faust never drops an undecodable message: the agents
validate and dead-letter it themselves.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.streams import _current_event  # the context variable behind current_event()
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


Transmit = Callable[[str, bytes | None, bytes], Awaitable[Awaitable[Any]]]


class DeliveryFailed(RuntimeError):
    """Outputs of a batch were not stored by the broker after every retry."""


@dataclass
class Outbox:
    """The outputs of one batch. `send` hands each to the producer at once; `delivered`
    waits until the broker has stored them all, sending again what failed (aiokafka retries
    each request itself first), and raises DeliveryFailed when some still could not be."""

    names: dict[Role, str]
    transmit: Transmit  # (topic, key, value) → awaitable of the delivery
    attempts: int = 3
    backoff: float = 1.0
    pending: list[tuple[Awaitable[Any], tuple[str, bytes | None, bytes]]] = field(
        default_factory=list
    )

    async def send(self, role: Role, *, key: bytes | None, value: bytes) -> None:
        message = (self.names[role], key, value)
        delivery = await self.transmit(*message)
        self.pending.append((delivery, message))

    async def delivered(self) -> None:
        pending, self.pending = self.pending, []
        for attempt in range(1, self.attempts + 1):
            if not pending:
                return
            results = await asyncio.gather(*(d for d, _ in pending), return_exceptions=True)
            failed = [
                m for (_, m), r in zip(pending, results, strict=True) if isinstance(r, Exception)
            ]
            if not failed:
                return
            if attempt == self.attempts:
                first = next(r for r in results if isinstance(r, Exception))
                raise DeliveryFailed(
                    f"{len(failed)} outputs not stored after {attempt} attempts: {first!r}"
                )
            log.warning(
                "%d outputs not stored (attempt %d of %d); sending them again",
                len(failed),
                attempt,
                self.attempts,
            )
            await asyncio.sleep(self.backoff * attempt)
            pending = [(await self.transmit(*m), m) for m in failed]


def in_context_of(stream: Any, event: Any) -> None:
    """Make `event` the current event of the agent's task, as faust's own per-event
    iteration does: table writes take their changelog partition from it. (`take_events`
    fills its batch in another task, so the agent's task has none of its own.) Only the
    context variable is set: the stream's `current_event` attribute belongs to that other
    task, which reads it to pair each buffered value with its event."""
    _current_event.set(weakref.ref(event))


async def in_batches(
    stream: Any,
    settings: Settings,
    outbox: Outbox,
    handle: Callable[[Any], Awaitable[None]],
    on_undeliverable: Callable[[BaseException], None],
) -> AsyncIterator[None]:
    """Take the stream in batches (`take_events`), handle each event as the current one,
    and wait until the outbox's deliveries are stored before the batch is handed back (and
    faust acknowledges its inputs). Yields once per batch handled, for per-batch work.

    `handle` deals with a claim's own failures (a dead letter). What still escapes it, a send
    the producer refused, means outputs of the batch are not stored: `take_events` would
    acknowledge the batch anyway on the way out, so `on_undeliverable` stops first."""
    async for batch in stream.take_events(settings.batch_max, within=settings.batch_wait_ms / 1000):
        try:
            for event in batch:
                in_context_of(stream, event)
                await handle(event)
            await outbox.delivered()
        except Exception as exc:  # not known to be stored: the batch must be read again
            on_undeliverable(exc)
            raise
        yield


def stop_now(exc: BaseException) -> None:
    """The batch's outputs are not all stored: stop before faust acknowledges its inputs
    (and a commit could follow), so that a restart reads the batch again."""
    log.critical("stopping the worker without acknowledging the batch: %s", exc)
    logging.shutdown()
    os._exit(70)


@dataclass
class StreamApp:
    app: faust.App
    topics: dict[Role, Any]
    intake: Any
    edits: Any
    metrics: ClaimMetrics
    scrubber: Scrubber
    outboxes: dict[str, Outbox]
    on_undeliverable: Callable[[BaseException], None] = stop_now


def _key_text(key: bytes | None) -> str | None:
    return key.decode("utf-8", "replace") if key is not None else None


def faust_app(settings: Settings) -> faust.App:
    """The faust app as the worker configures it (the bench's relay uses the same)."""
    return faust.App(
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
        broker_max_poll_records=settings.max_poll_records,
        producer_acks=-1,
        processing_guarantee="at_least_once",
        stream_wait_empty=True,
    )


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

    async def transmit(topic: str, key: bytes | None, value: bytes) -> Awaitable[Any]:
        # Straight to the producer: the batch waits for its deliveries itself (Outbox).
        return await app.producer.send(topic, key, value, None, None, None)

    # One outbox per agent: each waits for its own batch's deliveries only.
    names = {role: spec.name for role, spec in specs.items()}
    outboxes = {agent: Outbox(names=names, transmit=transmit) for agent in ("intake", "edits")}

    async def dead_letter(letter: DeadLetter, key: bytes | None, agent: str) -> None:
        await outboxes[agent].send("dlq", key=key, value=letter.to_json())
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

    def undeliverable(exc: BaseException) -> None:
        built.on_undeliverable(exc)  # looked up when it happens: tests replace it

    async def intake_one(event: Any) -> None:
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
            await outboxes["intake"].send(
                "enriched", key=outcome.claim.patient_key.encode(), value=outcome.to_json()
            )

    routed: list[ScrubResult] = []  # by the edit agent, counted once per batch

    async def edits_one(event: Any) -> None:
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
            return
        await outboxes["edits"].send(
            outcome.route, key=outcome.claim_id.encode(), value=outcome.to_json()
        )
        routed.append(outcome)
        if envelope is not None and envelope.input_timestamp_ms is not None:
            metrics.end_to_end.observe(max(0.0, time.time() - envelope.input_timestamp_ms / 1000))

    @app.agent(topics["submitted"], concurrency=1)
    async def intake(stream: Any) -> None:
        await codesets_ready()
        async for _ in in_batches(stream, settings, outboxes["intake"], intake_one, undeliverable):
            pass

    @app.agent(topics["enriched"], concurrency=1)
    async def edits(stream: Any) -> None:
        await codesets_ready()
        async for _ in in_batches(stream, settings, outboxes["edits"], edits_one, undeliverable):
            metrics.results(routed)
            routed.clear()

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

    built = StreamApp(
        app=app,
        topics=topics,
        intake=intake,
        edits=edits,
        metrics=metrics,
        scrubber=scrubber,
        outboxes=outboxes,
    )
    return built

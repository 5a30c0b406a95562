"""What each agent does with one message, without faust: the outputs it sends and the
metrics it counts. The agents (`processor.stream.app`) only feed these their events.

intake  claims.submitted (raw bytes) → read + enrich → claims.enriched keyed by patient,
        or claims.dlq with the original bytes
edits   claims.enriched → every edit stage → claims.clean / claims.risk keyed by claim_id,
        or claims.dlq when a stage raises on the claim

An event is anything with `value` (the raw bytes) and `message` (topic, partition, offset,
key, timestamp in seconds), as a faust event has.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from processor.history import HistoryStore
from processor.models import DeadLetter, ScrubResult
from processor.models.envelope import EnrichedEnvelope
from processor.scrubber import Scrubber, Source, output_bytes
from processor.stream.delivery import Outbox
from processor.stream.metrics import ClaimMetrics

log = logging.getLogger("processor.worker")


# The producer's and broker's default limit is 1 MB a message; a value beyond it would be
# refused and stop the worker. Room is left for the key and the record's overhead.
MAX_VALUE_BYTES = 1_000_000 - 16_384


def fits(value: bytes) -> None:
    if len(value) > MAX_VALUE_BYTES:
        raise ValueError(f"output of {len(value)} bytes exceeds the {MAX_VALUE_BYTES} a message")


def _key_text(key: bytes | None) -> str | None:
    return key.decode("utf-8", "replace") if key is not None else None


@dataclass
class ClaimHandlers:
    scrubber: Scrubber
    history: HistoryStore
    metrics: ClaimMetrics
    outboxes: dict[str, Outbox]  # one per agent: each waits for its own batch only
    routed: list[ScrubResult] = field(default_factory=list)  # counted once per batch

    async def dead_letter(self, letter: DeadLetter, key: bytes | None, agent: str) -> None:
        value = letter.to_json()
        if len(value) > MAX_VALUE_BYTES:  # the broker would refuse it, and stop the worker
            letter = letter.model_copy(
                update={
                    "original": "",
                    "error": f"{letter.error}; the original ({len(letter.original) * 3 // 4} "
                    "bytes) is too large to repeat here: read it at its source position",
                }
            )
            value = letter.to_json()
        await self.outboxes[agent].send("dlq", key=key, value=value)
        self.metrics.dead_letter(letter, agent)
        # Position and kind only: the error text and the message could carry PHI.
        log.warning(
            "dead-lettered %s/%s@%s (%s) in %s",
            letter.source.topic,
            letter.source.partition,
            letter.source.offset,
            letter.error_kind,
            agent,
        )

    async def intake(self, event: Any) -> None:
        message = event.message
        source = Source(message.topic, message.partition, message.offset)
        key = _key_text(message.key)
        started = time.perf_counter()
        try:
            outcome = self.scrubber.intake(
                event.value, key=key, source=source, timestamp_ms=int(message.timestamp * 1000)
            )
        except Exception as exc:  # a bug in enrichment must not stop the stream
            outcome = self.scrubber.dead_letter(
                event.value,
                key=key,
                source=source,
                kind="processing",
                error=f"intake: {type(exc).__name__}: {exc}",
            )
        self.metrics.observe_stage("intake", time.perf_counter() - started)
        if not isinstance(outcome, DeadLetter):
            try:
                value = output_bytes(outcome)
                fits(value)
            except Exception as exc:  # an output that cannot be written: dead-letter it
                outcome = self.scrubber.dead_letter(
                    event.value,
                    key=key,
                    source=source,
                    kind="processing",
                    error=f"serialise: {type(exc).__name__}: {exc}",
                )
            else:
                key_bytes = outcome.claim.patient_key.encode("utf-8", "surrogatepass")
                await self.outboxes["intake"].send("enriched", key=key_bytes, value=value)
                return
        await self.dead_letter(outcome, message.key, "intake")

    async def edits(self, event: Any) -> None:
        message = event.message
        outcome: ScrubResult | DeadLetter
        envelope: EnrichedEnvelope | None = None
        value = b""
        try:
            envelope = self.scrubber.reopen(event.value)
            outcome = self.scrubber.evaluate_envelope(envelope, self.history)
            if not isinstance(outcome, DeadLetter):
                value = output_bytes(outcome)
                fits(value)
        except Exception as exc:  # unreadable envelope, an output not written, or a bug
            source = envelope.source if envelope else None
            outcome = self.scrubber.dead_letter(
                base64.b64decode(envelope.original) if envelope else event.value,
                key=None,
                source=Source(source.topic, source.partition, source.offset)
                if source
                else Source(message.topic, message.partition, message.offset),
                kind="processing",
                error=f"edits: {type(exc).__name__}: {exc}",
            )
        if isinstance(outcome, DeadLetter):
            key = envelope.received_key.encode() if envelope and envelope.received_key else None
            await self.dead_letter(outcome, key, "edits")
            return
        await self.outboxes["edits"].send(
            outcome.route, key=outcome.claim_id.encode("utf-8", "surrogatepass"), value=value
        )
        self.routed.append(outcome)
        if envelope is not None and envelope.input_timestamp_ms is not None:
            self.metrics.end_to_end.observe(
                max(0.0, time.time() - envelope.input_timestamp_ms / 1000)
            )

    def count_routed(self) -> None:
        """Per batch: the routed claims into the metrics, in one pass."""
        self.metrics.results(self.routed)
        self.routed.clear()

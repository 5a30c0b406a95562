"""What each agent does with one message, without faust: the outputs it sends and the
metrics it counts. The agents (`processor.stream.app`) only feed these their events.

intake  claims.submitted → claims.enriched keyed by patient: the original bytes unchanged,
        where they came from in record headers; or claims.dlq (no readable patient key)
edits   claims.enriched → `Scrubber.scrub` on the original bytes (read, enrich, every edit
        stage, history, route) → claims.clean / claims.risk keyed by claim_id, or claims.dlq
        with the original bytes

claims.enriched is a repartition topic: it holds the original claims, re-keyed, so that
every claim of one patient meets its history on one partition. The claim is validated
once, on the edit hop, by the same entry the offline `scrub` command runs.

An event is anything with `value` (the raw bytes), `headers` and `message` (topic,
partition, offset, key, timestamp in seconds), as a faust event has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from processor.edits.engine import StageTimer
from processor.history import HistoryStore
from processor.models import DeadLetter, ScrubResult
from processor.scrubber import Scrubber, Source
from processor.stream.delivery import Outbox
from processor.stream.metrics import ClaimMetrics

log = logging.getLogger("processor.worker")

# Record headers of a claims.enriched message: where the claim was read from.
SOURCE_TOPIC = "claims-source-topic"
SOURCE_PARTITION = "claims-source-partition"
SOURCE_OFFSET = "claims-source-offset"
INPUT_TIMESTAMP_MS = "claims-input-timestamp-ms"
RECEIVED_KEY = "claims-received-key"


# One claim in this many has its edit stages timed (claims_stage_duration_seconds).
STAGE_SAMPLE = 16

# The producer's and broker's default limit is 1 MB a message; a value beyond it would be
# refused and stop the worker. Room is left for the key and the record's overhead.
MAX_VALUE_BYTES = 1_000_000 - 16_384


def fits(value: bytes) -> None:
    if len(value) > MAX_VALUE_BYTES:
        raise ValueError(f"output of {len(value)} bytes exceeds the {MAX_VALUE_BYTES} a message")


def _key_text(key: bytes | None) -> str | None:
    return key.decode("utf-8", "replace") if key is not None else None


def origin_headers(message: Any) -> list[tuple[str, bytes]]:
    """The headers the intake hop puts on a claims.enriched record."""
    headers = [
        (SOURCE_TOPIC, message.topic.encode()),
        (SOURCE_PARTITION, b"%d" % message.partition),
        (SOURCE_OFFSET, b"%d" % message.offset),
        (INPUT_TIMESTAMP_MS, b"%d" % int(message.timestamp * 1000)),
    ]
    if message.key is not None:
        headers.append((RECEIVED_KEY, message.key))
    return headers


def read_origin(event: Any) -> tuple[Source, bytes | None, int | None]:
    """(source, received key, input timestamp ms) of a claims.enriched event; a record
    without the headers (not written by the intake hop) is its own source."""
    headers = event.headers
    if type(headers) is not dict and not isinstance(headers, Mapping):
        headers = dict(headers or ())
    message = event.message
    try:
        source = Source(
            headers[SOURCE_TOPIC].decode(),
            int(headers[SOURCE_PARTITION]),
            int(headers[SOURCE_OFFSET]),
        )
        stamp: int | None = int(headers[INPUT_TIMESTAMP_MS])
    except (KeyError, ValueError, UnicodeDecodeError):
        return Source(message.topic, message.partition, message.offset), message.key, None
    return source, headers.get(RECEIVED_KEY), stamp


@dataclass
class ClaimHandlers:
    scrubber: Scrubber
    history: HistoryStore
    metrics: ClaimMetrics
    outboxes: dict[str, Outbox]  # one per agent: each waits for its own batch only
    # Counted once per batch (`count_batch`), not per claim.
    latencies: list[float] = field(default_factory=list)
    # The edit stages of one claim in STAGE_SAMPLE are timed into the metrics (a quantile
    # needs a sample, not every claim; timing each stage costs a clock read and a note).
    stage_timer: StageTimer | None = None
    _claims: int = 0

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
        try:
            patient = self.scrubber.patient_key(
                event.value,
                key=_key_text(message.key),
                source=Source(message.topic, message.partition, message.offset),
            )
        except Exception as exc:  # a bug must not stop the stream
            patient = self.scrubber.dead_letter(
                event.value,
                key=_key_text(message.key),
                source=Source(message.topic, message.partition, message.offset),
                kind="processing",
                error=f"intake: {type(exc).__name__}: {exc}",
            )
        if isinstance(patient, DeadLetter):
            await self.dead_letter(patient, message.key, "intake")
            return
        await self.outboxes["intake"].send(
            "enriched",
            key=patient.encode("utf-8", "surrogatepass"),
            value=event.value,
            headers=origin_headers(message),
        )

    async def edits(self, event: Any) -> None:
        source, key, stamp = read_origin(event)
        if self.stage_timer is not None:
            timed = not self._claims % STAGE_SAMPLE
            self.scrubber.stage_timer = self.stage_timer if timed else None
            self._claims += 1
        outcome: ScrubResult | DeadLetter
        value: bytes | None = None
        try:
            # Never raises for the claim itself; the bytes are known to serialise.
            outcome, value = self.scrubber.scrub_to_bytes(
                event.value, key=_key_text(key), source=source, history=self.history
            )
            if isinstance(outcome, ScrubResult):
                fits(value)  # the broker would refuse it, and stop the worker
        except Exception as exc:  # an output too large to send, or a bug: dead-letter, go on
            outcome = self.scrubber.dead_letter(
                event.value,
                key=_key_text(key),
                source=source,
                kind="processing",
                error=f"edits: {type(exc).__name__}: {exc}",
            )
        if isinstance(outcome, DeadLetter):
            await self.dead_letter(outcome, key, "edits")
            return
        assert value is not None
        await self.outboxes["edits"].send(
            outcome.route, key=outcome.claim_id.encode("utf-8", "surrogatepass"), value=value
        )
        self.metrics.note(outcome)
        if stamp is not None:
            self.latencies.append(time.time() - stamp / 1000)

    def count_batch(self, topic: str, size: int) -> None:
        """Per batch: what was read, the routed claims and their latencies into the
        metrics, each in one pass."""
        self.metrics.batch(topic, size, self.latencies)
        self.latencies.clear()

"""The internal value on claims.enriched: an enriched claim plus what the edit agent needs
to route it and, if a stage fails, to dead-letter the original bytes."""

from __future__ import annotations

from pydantic import BaseModel

from processor.models.outputs import EnrichedClaim, SourcePosition


class EnrichedEnvelope(BaseModel):
    claim: EnrichedClaim
    content_digest: str  # sha256 of the input message bytes (event_id input)
    received_key: str | None
    source: SourcePosition  # where the claim was read from (claims.submitted)
    input_timestamp_ms: int | None  # the input record's timestamp, for end-to-end latency
    original: str  # the input message bytes, base64, for a dead letter if a stage fails

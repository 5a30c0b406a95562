"""The internal value on claims.enriched: an enriched claim plus what the edit agent needs
to route it and, if a stage fails, to dead-letter the original bytes."""

from __future__ import annotations

from pydantic import BaseModel

from processor.models.claim import Claim
from processor.models.outputs import EnrichedClaim, SourcePosition, claim_document, dumps


class ClaimEnvelope(BaseModel):
    """An envelope as the edit agent reads it back: the claim is validated as a claim (its
    lines' `enrichment` arrives as an extra field, which the reader drops: the edit agent
    takes enrichment from its own code sets, the ones its edits consult)."""

    claim: Claim
    content_digest: str  # sha256 of the input message bytes (event_id input)
    received_key: str | None
    source: SourcePosition  # where the claim was read from (claims.submitted)
    input_timestamp_ms: int | None  # the input record's timestamp, for end-to-end latency
    original: str  # the input message bytes, base64, for a dead letter if a stage fails


class EnrichedEnvelope(ClaimEnvelope):
    claim: EnrichedClaim

    def to_json(self) -> bytes:
        """The same document as `model_dump_json()`, each enrichment serialised once."""
        return dumps(
            {
                "claim": claim_document(self.claim),
                "content_digest": self.content_digest,
                "received_key": self.received_key,
                "source": self.source.__dict__,
                "input_timestamp_ms": self.input_timestamp_ms,
                "original": self.original,
            }
        )

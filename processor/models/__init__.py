"""Pydantic models of the input claim event and the processor's outputs (shared/spec)."""

from processor.models.claim import (
    BillingProvider,
    Claim,
    Drug,
    Patient,
    Payer,
    PlanType,
    Provider,
    ServiceLine,
)
from processor.models.outputs import (
    DeadLetter,
    EnrichedClaim,
    EnrichedLine,
    Finding,
    LineEnrichment,
    ScrubResult,
    SourcePosition,
)

__all__ = [
    "BillingProvider",
    "Claim",
    "DeadLetter",
    "Drug",
    "EnrichedClaim",
    "EnrichedLine",
    "Finding",
    "LineEnrichment",
    "Patient",
    "Payer",
    "PlanType",
    "Provider",
    "ScrubResult",
    "ServiceLine",
    "SourcePosition",
]

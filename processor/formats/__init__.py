"""Input formats other than the JSON claim event: X12 837P (with its acknowledgments) and
FHIR R4 `Claim`. Plain Python over the models: nothing here knows of Kafka."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from processor.formats.fhir import FhirError, claim_from_fhir
from processor.models import Claim

__all__ = ["FhirError", "is_interchange", "read_claim_bytes"]

_RESOURCE_TYPE = b'"resourceType"'


def read_claim_bytes(raw: bytes, *, plan_types: Mapping[str, str] | None = None) -> Claim:
    """One message as a claim: a JSON claim event, or a FHIR R4 Claim recognised by its
    `resourceType`. Raises pydantic's ValidationError (not JSON, not a claim event) or
    FhirError (a FHIR resource that is not a readable professional claim)."""
    if _RESOURCE_TYPE in raw:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict) and "resourceType" in document:
            return Claim.model_validate(claim_from_fhir(document, plan_types=plan_types))
    # `Claim.model_validate_json(raw)` without its wrapper's keyword handling (the hot path).
    return Claim.__pydantic_validator__.validate_json(raw)


def is_interchange(head: bytes) -> bool:
    """Whether a file's first bytes are an X12 interchange (ISA, after any whitespace)."""
    return head.lstrip(b" \t\r\n\xef\xbb\xbf").startswith(b"ISA")

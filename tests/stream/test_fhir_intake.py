"""The worker takes a FHIR R4 Claim message (recognised by its resourceType) like a claim
event: read, enriched and re-keyed by patient; its original bytes kept."""

import base64

import orjson

from processor.models.envelope import EnrichedEnvelope
from tests.factories import claim_dict
from tests.formats.test_fhir import _fhir_for
from tests.stream.test_agents import _until_sent, _values, stream  # noqa: F401 (fixture)


async def test_intake_reads_a_fhir_claim_message(stream):  # noqa: F811
    raw = orjson.dumps(_fhir_for(claim_dict()))
    async with stream.intake.test_context() as agent:
        await agent.put(raw, key=b"TEST-0001")
        await _until_sent(stream, 1)
    assert _values(stream, "dlq") == []
    [(key, value)] = _values(stream, "enriched")
    assert key == b"MCR-J15|SYN100000001"
    envelope = EnrichedEnvelope.model_validate_json(value)
    assert envelope.claim.claim_id == "TEST-0001"
    assert base64.b64decode(envelope.original) == raw

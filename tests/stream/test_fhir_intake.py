"""The worker takes a FHIR R4 Claim message (recognised by its resourceType) like a claim
event: the intake hop finds its patient and forwards its original bytes; the edit hop reads
it as a claim."""

import orjson

from processor.models import ScrubResult
from tests.factories import claim_dict
from tests.formats.test_fhir import _fhir_for
from tests.stream.test_agents import _until_sent, _values, stream  # noqa: F401 (fixture)


async def test_intake_rekeys_a_fhir_claim_message_by_patient(stream):  # noqa: F811
    raw = orjson.dumps(_fhir_for(claim_dict()))
    async with stream.intake.test_context() as agent:
        await agent.put(raw, key=b"TEST-0001")
        await _until_sent(stream, 1)
    assert _values(stream, "dlq") == []
    [(key, value)] = _values(stream, "enriched")
    assert key == b"MCR-J15|SYN100000001"
    assert value == raw


async def test_edit_hop_scrubs_a_fhir_claim_message(stream):  # noqa: F811
    raw = orjson.dumps(_fhir_for(claim_dict()))
    async with stream.edits.test_context() as agent:
        await agent.put(raw, key=b"MCR-J15|SYN100000001")
        await _until_sent(stream, 1)
    assert _values(stream, "dlq") == []
    [(key, value)] = _values(stream, "clean") + _values(stream, "risk")
    assert key == b"TEST-0001"
    assert ScrubResult.model_validate_json(value).claim_id == "TEST-0001"

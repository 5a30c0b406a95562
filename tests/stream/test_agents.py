"""The agents through faust's test_context(): no broker; outbound sends are captured."""

import asyncio
import base64
from unittest.mock import AsyncMock

import orjson
import pytest

from processor.models import DeadLetter, ScrubResult
from processor.models.envelope import EnrichedEnvelope
from processor.pipeline import Source
from processor.settings import load_settings
from processor.stream.app import create_app
from processor.topics import load_topics
from tests.factories import claim_bytes, claim_dict, sample_scrubber


@pytest.fixture
async def stream():
    settings = load_settings(web_enabled=False, app_id="agent-tests")
    # No broker here: the code-set releases topic is not watched (the broker tests do).
    built = create_app(settings, sample_scrubber(), load_topics(settings), watch_releases=False)
    app = built.app
    app.loop = asyncio.get_running_loop()
    app.finalize()
    app.conf.store = "memory://"
    app.flow_control.resume()
    sent = {}
    for role in ("enriched", "clean", "risk", "dlq"):
        mock = AsyncMock()
        built.topics[role].send = mock
        sent[role] = mock
    built.sent = sent
    yield built
    sample_scrubber().stage_timer = None


def _values(mock):
    return [(call.kwargs["key"], call.kwargs["value"]) for call in mock.call_args_list]


async def test_intake_enriches_and_rekeys_by_patient(stream):
    async with stream.intake.test_context() as agent:
        await agent.put(claim_bytes(), key=b"TEST-0001")
    [(key, value)] = _values(stream.sent["enriched"])
    assert key == b"MCR-J15|SYN100000001"
    envelope = EnrichedEnvelope.model_validate_json(value)
    assert envelope.received_key == "TEST-0001"
    assert base64.b64decode(envelope.original) == claim_bytes()
    assert envelope.claim.lines[2].enrichment.level2_category.letter == "J"
    assert stream.sent["dlq"].call_count == 0


async def test_intake_dead_letters_unreadable_bytes_and_keeps_going(stream):
    async with stream.intake.test_context() as agent:
        await agent.put(b"\x00garbage", key=b"K-9")
        await agent.put(claim_bytes(), key=b"TEST-0001")
    [(key, value)] = _values(stream.sent["dlq"])
    letter = DeadLetter.model_validate_json(value)
    assert key == b"K-9" and letter.error_kind == "json"
    assert base64.b64decode(letter.original) == b"\x00garbage"
    assert stream.sent["enriched"].call_count == 1
    assert stream.metrics.dead_letters.labels("json", "intake")._value.get() == 1


def _envelope(claim, offset=1):
    raw = claim_bytes(claim)
    envelope = sample_scrubber().intake(
        raw, key=claim["claim_id"], source=Source("t", 0, offset), timestamp_ms=1
    )
    return envelope.model_dump_json().encode()


async def test_edits_route_clean_and_risk_by_claim_id(stream):
    bad = claim_dict(claim_id="BAD-1")
    bad["patient"]["member_id"] = "SYN200000002"  # another patient: no shared history
    bad["lines"][0]["units"] = 0
    async with stream.edits.test_context() as agent:
        await agent.put(_envelope(claim_dict()), key=b"patient")
        await agent.put(_envelope(bad), key=b"patient")
    [(clean_key, clean_value)] = _values(stream.sent["clean"])
    [(risk_key, risk_value)] = _values(stream.sent["risk"])
    assert (
        clean_key == b"TEST-0001" and ScrubResult.model_validate_json(clean_value).route == "clean"
    )
    risk = orjson.loads(risk_value)
    assert risk_key == b"BAD-1" and risk["event_type"] == "claim.denial_risk"
    assert [f["edit_id"] for f in risk["findings"]] == ["UNITS"]
    assert stream.metrics.findings.labels("UNITS", "reject")._value.get() == 1
    assert stream.metrics.routed.labels("clean", "medicare")._value.get() == 1


async def test_edits_dead_letter_an_unreadable_envelope(stream):
    async with stream.edits.test_context() as agent:
        await agent.put(b"{not an envelope", key=b"patient")
        await agent.put(_envelope(claim_dict()), key=b"patient")
    [(_, value)] = _values(stream.sent["dlq"])
    assert DeadLetter.model_validate_json(value).error_kind == "processing"
    assert stream.sent["clean"].call_count == 1


async def test_edits_keep_history_per_patient_in_the_table(stream):
    first = claim_dict(claim_id="ORIG-1")
    again = claim_dict(claim_id="ORIG-1")
    again["lines"][0]["charge"] = "190.00"  # a new message, not a redelivery
    async with stream.edits.test_context() as agent:
        await agent.put(_envelope(first, offset=1), key=b"patient")
        await agent.put(_envelope(first, offset=1), key=b"patient")  # redelivered
        await agent.put(_envelope(again, offset=2), key=b"patient")  # sent again
    clean = [orjson.loads(v) for _, v in _values(stream.sent["clean"])]
    [(_, value)] = _values(stream.sent["risk"])
    # The redelivery is judged as the first delivery was: same findings, same event_id.
    assert len(clean) == 2 and clean[0]["event_id"] == clean[1]["event_id"]
    assert "DUP-CLAIM" in [f["edit_id"] for f in orjson.loads(value)["findings"]]

"""The agents through faust's test_context(): no broker; outbound sends are captured where
they leave for the producer (the Outbox's transmit)."""

import asyncio
import base64

import orjson
import pytest

from processor.models import DeadLetter, ScrubResult
from processor.settings import load_settings
from processor.stream.app import DeliveryFailed, Outbox, create_app
from processor.stream.handlers import origin_headers, read_origin
from processor.stream.topics import load_topics
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
    sent = []
    headers_sent = []
    changelog = []  # the history table's records: sent to a partition of their own

    async def transmit(topic, key, value, headers, partition=None):
        if partition is not None:
            changelog.append((topic, partition, key, value))
        else:
            sent.append((topic, key, value))
            headers_sent.append(headers)
        await asyncio.sleep(0)  # as the producer does: other tasks run meanwhile
        return _done()

    for outbox in built.outboxes.values():
        outbox.transmit = transmit
    built.sent = sent
    built.headers_sent = headers_sent
    built.changelog = changelog
    yield built
    sample_scrubber().stage_timer = None


def _done(exc=None):
    future = asyncio.get_running_loop().create_future()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
    return future


def _values(stream, role):
    name = stream.outboxes["edits"].names[role]
    return [(key, value) for topic, key, value in stream.sent if topic == name]


async def _until_sent(stream, count, timeout=10.0):
    """Batches are handled after `within`: wait until `count` outputs left the agent."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(stream.sent) < count:
        assert asyncio.get_running_loop().time() < deadline, stream.sent
        await asyncio.sleep(0.01)


async def test_intake_rekeys_by_patient_and_forwards_the_original_bytes(stream):
    async with stream.intake.test_context() as agent:
        await agent.put(claim_bytes(), key=b"TEST-0001")
        await _until_sent(stream, 1)
    [(key, value)] = _values(stream, "enriched")
    assert key == b"MCR-J15|SYN100000001"
    assert value == claim_bytes()  # unchanged: the edit hop reads the claim once
    [headers] = stream.headers_sent
    headers = dict(headers)
    assert headers["claims-received-key"] == b"TEST-0001"
    assert headers["claims-source-partition"] == b"0"
    assert int(headers["claims-input-timestamp-ms"]) > 0
    assert _values(stream, "dlq") == []


async def test_intake_dead_letters_a_claim_without_a_patient(stream):
    claim = claim_dict()
    del claim["patient"]
    async with stream.intake.test_context() as agent:
        await agent.put(claim_bytes(claim), key=b"NO-PATIENT")
        await _until_sent(stream, 1)
    [(key, value)] = _values(stream, "dlq")
    letter = DeadLetter.model_validate_json(value)
    assert key == b"NO-PATIENT" and letter.error_kind == "schema"
    assert "patient" in letter.error
    assert base64.b64decode(letter.original) == claim_bytes(claim)


async def test_intake_dead_letters_unreadable_bytes_and_keeps_going(stream):
    async with stream.intake.test_context() as agent:
        await agent.put(b"\x00garbage", key=b"K-9")
        await agent.put(claim_bytes(), key=b"TEST-0001")
        await _until_sent(stream, 2)
    [(key, value)] = _values(stream, "dlq")
    letter = DeadLetter.model_validate_json(value)
    assert key == b"K-9" and letter.error_kind == "json"
    assert base64.b64decode(letter.original) == b"\x00garbage"
    assert len(_values(stream, "enriched")) == 1
    assert stream.metrics.dead_letters.labels("json", "intake")._value.get() == 1


class _Message:
    def __init__(self, key, offset):
        self.topic, self.partition, self.offset = "claims.submitted", 0, offset
        self.key, self.timestamp = key, 1.0


def _enriched(claim, offset=1):
    """A claims.enriched record as the intake hop writes it: (value, headers)."""
    return claim_bytes(claim), origin_headers(_Message(claim["claim_id"].encode(), offset))


async def _put_enriched(agent, claim, offset=1, **kwargs):
    value, headers = _enriched(claim, offset)
    await agent.put(value, key=b"patient", headers=headers, **kwargs)


async def test_edits_route_clean_and_risk_by_claim_id(stream):
    bad = claim_dict(claim_id="BAD-1")
    bad["patient"]["member_id"] = "SYN200000002"  # another patient: no shared history
    bad["lines"][0]["units"] = 0
    async with stream.edits.test_context() as agent:
        await _put_enriched(agent, claim_dict())
        await _put_enriched(agent, bad)
        await _until_sent(stream, 2)
    [(clean_key, clean_value)] = _values(stream, "clean")
    [(risk_key, risk_value)] = _values(stream, "risk")
    assert (
        clean_key == b"TEST-0001" and ScrubResult.model_validate_json(clean_value).route == "clean"
    )
    risk = orjson.loads(risk_value)
    assert risk_key == b"BAD-1" and risk["event_type"] == "claim.denial_risk"
    assert [f["edit_id"] for f in risk["findings"]] == ["UNITS"]
    assert stream.metrics.findings.labels("UNITS", "reject")._value.get() == 1
    assert stream.metrics.routed.labels("clean", "medicare")._value.get() == 1


async def test_edits_dead_letter_a_schema_error_with_the_original_bytes(stream):
    bad = claim_dict(claim_id="NO-LINES")
    bad["lines"] = []
    async with stream.edits.test_context() as agent:
        await _put_enriched(agent, bad, offset=7)
        await _put_enriched(agent, claim_dict())
        await _until_sent(stream, 2)
    [(key, value)] = _values(stream, "dlq")
    letter = DeadLetter.model_validate_json(value)
    assert key == b"NO-LINES" and letter.error_kind == "schema"
    assert base64.b64decode(letter.original) == claim_bytes(bad)
    # The position is the claim's in claims.submitted, from the headers.
    assert (letter.source.topic, letter.source.offset) == ("claims.submitted", 7)
    assert len(_values(stream, "clean")) == 1


async def test_edits_keep_history_per_patient_in_the_table(stream):
    first = claim_dict(claim_id="ORIG-1")
    again = claim_dict(claim_id="ORIG-1")
    again["lines"][0]["charge"] = "190.00"  # a new message, not a redelivery
    async with stream.edits.test_context() as agent:
        await _put_enriched(agent, first, offset=1)
        await _put_enriched(agent, first, offset=1)  # redelivered
        await _put_enriched(agent, again, offset=2)  # sent again
        await _until_sent(stream, 3)
    clean = [orjson.loads(v) for _, v in _values(stream, "clean")]
    [(_, value)] = _values(stream, "risk")
    # The redelivery is judged as the first delivery was: same findings, same event_id.
    assert len(clean) == 2 and clean[0]["event_id"] == clean[1]["event_id"]
    assert "DUP-CLAIM" in [f["edit_id"] for f in orjson.loads(value)["findings"]]


async def test_the_history_is_written_to_the_changelog_once_per_patient_and_batch(stream):
    """The edit hop writes the table's changelog itself, in faust's format (JSON key and
    value on the input's partition), so that faust's recovery reads it back."""
    other = claim_dict(claim_id="OTHER-1")
    other["patient"]["member_id"] = "SYN200000002"
    table = stream.app.tables["patient-history"]
    async with stream.edits.test_context() as agent:
        await _put_enriched(agent, claim_dict(claim_id="A-1"), offset=1, wait=False)
        await _put_enriched(agent, claim_dict(claim_id="A-2"), offset=2, wait=False)
        await _put_enriched(agent, other, offset=3, wait=False)
        await _until_sent(stream, 3)
        await asyncio.sleep(0.1)
    records = {
        orjson.loads(key): (topic, partition, value)
        for topic, partition, key, value in stream.changelog
    }
    assert sorted(records) == ["MCR-J15|SYN100000001", "MCR-J15|SYN200000002"]
    for patient, (topic, partition, value) in records.items():
        assert topic == table.changelog_topic_name and partition == 0
        # what a recovering worker's store would hold: the newest history of the patient
        assert orjson.loads(value) == stream.handlers.history.get(patient)
    assert sorted(orjson.loads(records["MCR-J15|SYN100000001"][2])["claims"]) == ["A-1", "A-2"]
    # the three claims came in one batch: one record per patient, not one per claim
    assert len(stream.changelog) == 2


async def test_a_batch_is_not_handed_back_before_its_outputs_are_stored(stream):
    """The outputs of a batch that the broker will not store stop the worker before faust
    acknowledges the batch (here the stop is recorded instead of exiting)."""
    stopped = []
    stream.on_undeliverable = stopped.append
    outbox = stream.outboxes["edits"]
    outbox.backoff = 0.01

    async def transmit(topic, key, value, headers, partition=None):
        (stream.sent if partition is None else stream.changelog).append((topic, key, value))
        return _done(OSError("broker gone"))

    outbox.transmit = transmit
    async with stream.edits.test_context() as agent:
        await _put_enriched(agent, claim_dict())
        deadline = asyncio.get_running_loop().time() + 10
        while not stopped:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
    [reason] = stopped
    assert isinstance(reason, DeliveryFailed) and "broker gone" in str(reason)
    assert len(stream.sent) == outbox.attempts  # sent, then sent again twice
    assert len(stream.changelog) == outbox.attempts  # and the history it wrote, with it


async def test_outbox_sends_again_what_failed_and_then_succeeds():
    attempts = []

    async def transmit(topic, key, value, headers):
        attempts.append(key)
        fail = key == b"b" and attempts.count(b"b") == 1
        return _done(OSError("leader moved") if fail else None)

    outbox = Outbox(names={"clean": "c", "risk": "r"}, transmit=transmit, backoff=0.0)
    await outbox.send("clean", key=b"a", value=b"1")
    await outbox.send("risk", key=b"b", value=b"2")
    await outbox.delivered()
    assert attempts == [b"a", b"b", b"b"]
    assert outbox.pending == []


async def test_outbox_gives_up_after_its_attempts():
    async def transmit(topic, key, value, headers):
        return _done(OSError("no leader"))

    outbox = Outbox(names={"clean": "c"}, transmit=transmit, attempts=2, backoff=0.0)
    await outbox.send("clean", key=b"a", value=b"1")
    with pytest.raises(DeliveryFailed, match="1 outputs not stored after 2 attempts"):
        await outbox.delivered()


async def test_claims_arriving_while_a_batch_is_handled_each_come_out_once(stream):
    claims = []
    for n in range(40):
        claim = claim_dict(claim_id=f"MANY-{n:03d}")
        claim["patient"]["member_id"] = f"SYN3{n:08d}"
        claims.append(claim)
    async with stream.edits.test_context() as agent:
        for n, claim in enumerate(claims):
            await _put_enriched(agent, claim, offset=n, wait=False)
        await _until_sent(stream, len(claims))
        await asyncio.sleep(0.1)  # anything surplus would show
    routed = [orjson.loads(v)["claim_id"] for _, v in _values(stream, "clean")]
    routed += [orjson.loads(v)["claim_id"] for _, v in _values(stream, "risk")]
    assert sorted(routed) == [c["claim_id"] for c in claims]


async def test_a_send_still_in_flight_when_a_batch_is_delivered_waits_with_the_next():
    gate = asyncio.get_running_loop().create_future()
    b_handed_over = asyncio.Event()

    async def transmit(topic, key, value, headers):
        if key == b"b":
            await b_handed_over.wait()  # the producer is still taking `b`
        return gate if key == b"a" else _done()

    outbox = Outbox(names={"clean": "c"}, transmit=transmit, backoff=0.0)
    await outbox.send("clean", key=b"a", value=b"1")
    late = asyncio.create_task(outbox.send("clean", key=b"b", value=b"2"))
    await asyncio.sleep(0)
    delivering = asyncio.create_task(outbox.delivered())  # the batch of `a`
    await asyncio.sleep(0)
    b_handed_over.set()
    await late
    gate.set_result(None)
    await delivering
    assert [message[1] for _, message in outbox.pending] == [b"b"]


async def test_a_send_the_producer_refuses_stops_the_worker_before_the_batch_is_acknowledged(
    stream,
):
    stopped = []
    stream.on_undeliverable = stopped.append

    async def transmit(topic, key, value, headers):
        raise OSError("message too large")

    stream.outboxes["intake"].transmit = transmit
    async with stream.intake.test_context() as agent:
        await agent.put(claim_bytes(), key=b"TEST-0001")
        deadline = asyncio.get_running_loop().time() + 10
        while not stopped:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
    [reason] = stopped
    assert isinstance(reason, OSError) and "message too large" in str(reason)


def test_a_record_without_origin_headers_is_its_own_source():
    class Event:
        headers = {}
        message = _Message(b"k", 5)

    source, key, stamp = read_origin(Event())
    assert (source.topic, source.offset, key, stamp) == ("claims.submitted", 5, b"k", None)

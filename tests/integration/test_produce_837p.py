"""`produce FILE` with an 837P on a real broker: one claim event per readable claim, keyed by
claim_id; a claim that cannot be read is named and the command exits 1."""

from __future__ import annotations

import asyncio
import io

import orjson
import pytest

from processor.cli import main
from processor.devtools.local_stack import collect
from processor.formats.x12.writer import write_837p
from processor.models import Claim
from processor.settings import load_settings
from processor.stream.topics import load_topics
from tests.factories import claim_dict

pytestmark = pytest.mark.kafka


def test_produce_publishes_each_claim_of_an_interchange_keyed_by_claim_id(
    kafka, topic_prefix, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("CLAIMS_KAFKA_BOOTSTRAP", kafka)
    monkeypatch.setenv("CLAIMS_TOPIC_PREFIX", topic_prefix)
    assert main(["topics", "apply"]) == 0
    buffer = io.StringIO()
    write_837p([Claim.model_validate(claim_dict(claim_id=f"X-{n}")) for n in range(3)], buffer)
    # The second claim's diagnosis qualifier made ICD-9: it cannot be read as a claim event.
    text = buffer.getvalue().replace("HI*ABK:M1711*ABF:E119~", "HI*BK:7150~", 2)
    text = text.replace("HI*BK:7150~", "HI*ABK:M1711*ABF:E119~", 1)
    path = tmp_path / "claims.837"
    path.write_text(text)
    assert main(["produce", str(path)]) == 1
    err = capsys.readouterr().err
    assert "produced 2 messages" in err
    assert "not published: claim X-1 (segment" in err and "BK is ICD-9-CM" in err

    topic = load_topics(load_settings(kafka_bootstrap=kafka, topic_prefix=topic_prefix))[
        "submitted"
    ].name
    collected = asyncio.run(collect(kafka, [topic], 2, 60))
    keys = sorted(record.key for record in collected.records)
    assert keys == [b"X-0", b"X-2"]
    for record in collected.records:
        event = orjson.loads(record.value)
        assert event["claim_id"].encode() == record.key
        assert event["x12"]["clm01"] == event["claim_id"]
        Claim.model_validate(event)

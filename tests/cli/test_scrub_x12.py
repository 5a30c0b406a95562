"""`claims-processor scrub FILE` on an 837P interchange, with --acks."""

from __future__ import annotations

import io

import orjson
import pytest

from processor.cli import main
from processor.formats.x12.writer import write_837p
from processor.models import Claim
from tests.conftest import RAW
from tests.factories import claim_dict
from tests.formats.x12_support import pyx12_errors


def _interchange(tmp_path, documents):
    buffer = io.StringIO()
    write_837p([Claim.model_validate(d) for d in documents], buffer, control=42)
    path = tmp_path / "claims.837"
    path.write_text(buffer.getvalue())
    return path


def test_scrub_recognises_an_interchange_and_writes_one_output_per_claim_with_acks(tmp_path):
    bad = claim_dict(claim_id="BAD-NPI")
    bad["billing_provider"]["npi"] = "1234567890"
    source = _interchange(tmp_path, [claim_dict(claim_id="A-1"), bad, claim_dict(claim_id="A-3")])
    out, acks = tmp_path / "out.jsonl", tmp_path / "acks"
    assert main(["scrub", str(source), "-o", str(out), "--acks", str(acks), "-q"]) == 0
    results = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["claim_id"] for r in results] == ["A-1", "BAD-NPI", "A-3"]
    assert results[0]["claim"]["x12"]["isa13"] == "000000042"
    assert sorted(p.name for p in acks.iterdir()) == [
        "claims.837.000000042.999",
        "claims.837.277ca",
    ]
    ack_999 = (acks / "claims.837.000000042.999").read_text()
    assert "AK9*A*1*1*1~" in ack_999
    ack_277 = (acks / "claims.837.277ca").read_text()
    assert "STC*A7:562:85*" in ack_277 and "QTY*AA*1~" in ack_277
    assert pyx12_errors(ack_999, tmp_path) == [] and pyx12_errors(ack_277, tmp_path) == []


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_scrub_of_an_interchange_with_no_readable_claim_exits_non_zero_and_says_why(
    tmp_path, capsys
):
    source = RAW / "x12-837p-samples-linuxforhealth/004010X098A1/patient-is-subscriber.837.txt"
    acks = tmp_path / "acks"
    assert main(["scrub", str(source), "-o", str(tmp_path / "o"), "--acks", str(acks)]) == 1
    err = capsys.readouterr().err
    assert "GS08 004010X098A1: only 837P 005010X222A1 is read (4010 is not supported)" in err
    ack = next(acks.glob("*.999")).read_text()
    assert "AK9*R*1*1*0*2~" in ack


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_unreadable_claims_are_dead_letters_with_their_segments(tmp_path):
    source = RAW / "x12-837p-samples-imsweb/x12_valid.txt"
    out = tmp_path / "out.jsonl"
    assert main(["scrub", str(source), "-o", str(out), "-q"]) == 0
    first, second = (orjson.loads(line) for line in out.read_bytes().splitlines())
    assert first["event_type"] == "claim.unreadable" and first["received_key"] == "A37YH556"
    assert "HI at segment 21" in first["error"]
    assert first["source"]["offset"] == 22  # the CLM is the file's 22nd segment
    assert second["received_key"] == "A37YH667" and "BK is ICD-9-CM" in second["error"]


def test_not_an_interchange_and_acks_asked_for_is_an_error(tmp_path, capsys):
    source = tmp_path / "claims.jsonl"
    source.write_bytes(orjson.dumps(claim_dict()) + b"\n")
    assert main(["scrub", str(source), "--acks", str(tmp_path / "a")]) == 2
    assert "--acks answers an X12 interchange" in capsys.readouterr().err


def test_scrub_reads_a_pretty_printed_fhir_claim_and_a_bundle(tmp_path):
    from tests.formats.test_fhir import _fhir_for

    resource = _fhir_for(claim_dict())
    single = tmp_path / "claim.json"
    single.write_bytes(orjson.dumps(resource, option=orjson.OPT_INDENT_2))
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(
        orjson.dumps(
            {"resourceType": "Bundle", "type": "collection",
             "entry": [{"resource": resource}, {"resource": resource}]},
            option=orjson.OPT_INDENT_2,
        )
    )  # fmt: skip
    for path, count in ((single, 1), (bundle, 2)):
        out = tmp_path / "out.jsonl"
        assert main(["scrub", str(path), "-o", str(out), "-q"]) == 0
        results = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        assert [r["claim_id"] for r in results] == ["TEST-0001"] * count
        assert results[0]["route"] == "clean"

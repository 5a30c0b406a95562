"""999, TA1 and 277CA as written, judged by pyx12 (an implementation of the X12 maps that
the product does not share), and the statuses they carry."""

from __future__ import annotations

import io
from datetime import datetime

import orjson
import pytest

from processor.formats.x12.ack277 import Ack277Builder
from processor.formats.x12.ack999 import write_999, write_ta1
from processor.formats.x12.tokens import X12Error
from processor.formats.x12.writer import write_837p
from processor.models import Claim, DeadLetter
from tests.factories import claim_dict, sample_scrubber
from tests.formats.x12_support import SAMPLES, pyx12_errors, read

WHEN = datetime(2026, 11, 22, 21, 0)
# pyx12 validates an interchange only with a functional group in it; a TA1-only
# interchange (legal: TA1 stands between ISA and IEA) draws exactly these two complaints.
TA1_ONLY = 'Mandatory loop "Functional Group Header" (GS_LOOP) missing'


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_pyx12_accepts_the_999_and_ta1_written_for_every_sample(path, tmp_path):
    try:
        reader, _, _ = read(path.read_bytes())
    except X12Error:
        return
    for interchange in reader.interchanges:
        ack = write_999(interchange, control=5, when=WHEN)
        if ack is not None:
            assert pyx12_errors(ack, tmp_path) == []
        ta1 = write_ta1(interchange, control=6, when=WHEN)
        if not interchange.accepted:
            assert all(TA1_ONLY in e for e in pyx12_errors(ta1, tmp_path))
        assert f"*{'A' if interchange.accepted else 'R'}*{interchange.ta1_code}~" in ta1


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_999_names_the_segment_element_and_code_of_an_icd9_diagnosis():
    from tests.conftest import RAW

    text = (RAW / "x12-837p-samples-linuxforhealth/005010X222A2/demo.example1.837.txt").read_text()
    reader, _, _ = read(text)
    ack = write_999(reader.interchanges[0], control=5, when=WHEN)
    assert ack is not None
    lines = ack.splitlines()
    ik3 = next(i for i, line in enumerate(lines) if line.startswith("IK3*HI*"))
    assert lines[ik3].endswith("*2300*8~")
    assert lines[ik3 + 1] == "IK4*1:1*1270*7*BK~"
    assert "IK5*E*5~" in lines and "AK9*E*1*1*1~" in lines


def _claims_with_outcomes() -> list[dict]:
    bad_npi = claim_dict(claim_id="BAD-NPI")
    bad_npi["billing_provider"]["npi"] = "1234567890"
    bad_code = claim_dict(claim_id="BAD-CODE")
    bad_code["lines"][1]["procedure_code"] = "2061"
    return [claim_dict(claim_id="CLEAN-1"), bad_npi, bad_code]


def _acks_for(documents: list[dict], tmp_path) -> tuple[str, dict[str, object]]:
    claims = [Claim.model_validate(d) for d in documents]
    buffer = io.StringIO()
    write_837p(claims, buffer)
    builder = Ack277Builder(control=7, when=WHEN)
    outcomes: dict[str, object] = {}
    _, claims_read, ends = read(buffer.getvalue())
    for item in claims_read:
        outcome = sample_scrubber().scrub(orjson.dumps(item.document))
        outcomes[item.claim_id] = outcome
        builder.add(item, outcome)
    for end in ends:
        builder.end_set(end)
    out = io.StringIO()
    assert builder.write_to(out)
    builder.close()
    return out.getvalue(), outcomes


def test_277ca_accepts_clean_claims_and_rejects_with_the_status_of_the_finding(tmp_path):
    text, outcomes = _acks_for(_claims_with_outcomes(), tmp_path)
    assert pyx12_errors(text, tmp_path) == []
    assert outcomes["CLEAN-1"].route == "clean"  # type: ignore[attr-defined]
    statuses = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("TRN*2*") and lines[index + 1].startswith("STC*"):
            statuses[line[6:-1]] = lines[index + 1].split("*")[1]
    assert statuses["CLEAN-1"] == "A2:20"
    assert statuses["BAD-NPI"] == "A7:562:85"
    # A rejected line: the claim is returned (A3:21) and the line says why.
    assert statuses["BAD-CODE"] == "A3:21"
    bad_line = next(i for i, line in enumerate(lines) if line.startswith("SVC*HC:2061"))
    assert lines[bad_line + 1].startswith("STC*A7:454*")
    assert lines[bad_line + 2] == "REF*FJ*2~"


def test_277ca_of_a_large_file_stays_valid_and_counts_every_claim(tmp_path):
    from processor.codesets import load_codesets
    from processor.devtools.generator import ClaimGenerator

    generator = ClaimGenerator(load_codesets(), seed=11, errors=0.5)
    documents = []
    for index in range(1, 121):
        document = generator.claim(index)
        document["received_at"] = "2025-01-06T09:30:00Z"
        documents.append(document)
    valid = []
    for document in documents:
        try:
            Claim.model_validate(document)
        except ValueError:
            continue
        valid.append(document)
    text, outcomes = _acks_for(valid, tmp_path)
    assert pyx12_errors(text, tmp_path) == []
    assert text.count("\nHL*") - text.count("*20*1~") - text.count("*21*1~") - text.count(
        "*19*1~"
    ) == len(outcomes)
    rejected = sum(
        1
        for o in outcomes.values()
        if isinstance(o, DeadLetter) or any(f.disposition == "reject" for f in o.findings)  # type: ignore[attr-defined]
    )
    assert f"QTY*AA*{rejected}~" in text or rejected == 0

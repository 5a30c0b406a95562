import base64

import orjson
import pytest

from processor.edits.base import ActiveEdit, Edit
from processor.models import DeadLetter, ScrubResult
from processor.scrubber import Scrubber, Source
from tests.factories import FIXED_NOW, claim_bytes, claim_dict, sample_scrubber


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"not json", "json"),
        (b'{"claim_id": "A", "truncated": ', "json"),
        (b"\xff\xfe\x00", "encoding"),
        (b"[1, 2]", "schema"),
        (b'{"claim_id": "A"}', "schema"),
        (b"", "json"),
        (None, "json"),
    ],
)
def test_unreadable_messages_become_dead_letters_with_their_bytes(raw, kind):
    letter = sample_scrubber().scrub(raw, key="K-1", source=Source("claims.submitted", 3, 81234))
    assert isinstance(letter, DeadLetter)
    assert letter.error_kind == kind
    assert base64.b64decode(letter.original) == (raw or b"")
    assert (letter.received_key, letter.source.partition, letter.source.offset) == ("K-1", 3, 81234)


def test_dead_letter_error_never_echoes_values():
    claim = claim_dict()
    claim["patient"]["birth_date"] = "SECRET-DOB"
    claim["patient"]["member_id"] = 12345
    letter = sample_scrubber().scrub(claim_bytes(claim))
    assert "patient.birth_date" in letter.error and "patient.member_id" in letter.error
    assert "SECRET" not in letter.error and "12345" not in letter.error


def test_result_carries_enrichment_versions_and_the_input_untouched():
    raw = claim_bytes(claim_dict(x_vendor={"k": [1, 2]}))
    result = sample_scrubber().scrub(raw)
    assert isinstance(result, ScrubResult)
    assert (result.route, result.event_type, result.risk_level) == ("clean", "claim.clean", "none")
    dumped = orjson.loads(result.model_dump_json())
    assert dumped["claim"]["x_vendor"] == {"k": [1, 2]}
    line3 = dumped["claim"]["lines"][2]["enrichment"]
    assert line3["code_system"] == "HCPCS Level II"
    assert line3["level2_category"]["letter"] == "J"
    assert line3["short_descriptor"] == "Ketorolac tromethamine inj"
    assert line3["releases"]["hcpcs"] == "2024-07"
    line2 = dumped["claim"]["lines"][1]["enrichment"]
    assert (line2["global_days"], line2["mue"]["value"], line2["mue"]["mai"]) == ("000", 2, 3)
    assert line2["short_descriptor"] is None  # CPT: no AMA text
    assert result.codeset_versions["icd10cm"] == "FY2025"


def test_dme_supplier_taxonomy_uses_the_dme_mue_table():
    claim = claim_dict()
    claim["billing_provider"]["taxonomy"] = "332B00000X"
    claim["lines"] = [
        {
            "line_number": 1,
            "procedure_code": "E0114",
            "modifiers": ["NU"],
            "units": 1,
            "charge": "65",
            "service_date": "2024-11-18",
            "diagnosis_pointers": [1],
        }
    ]
    result = sample_scrubber().scrub(claim_bytes(claim))
    assert result.claim.lines[0].enrichment.mue.table == "dme_supplier"


def test_same_message_same_event_id():
    first = sample_scrubber().scrub(claim_bytes())
    second = sample_scrubber().scrub(claim_bytes())
    assert first.event_id == second.event_id
    assert (
        sample_scrubber().scrub(claim_bytes(claim_dict(claim_id="OTHER"))).event_id
        != first.event_id
    )


def test_a_stage_that_raises_dead_letters_the_claim_with_the_original_bytes():
    def explode(ctx, params):
        raise KeyError("boom")
        yield

    base = sample_scrubber()
    profile = base.ruleset.for_plan_type("medicare")
    broken = ActiveEdit(
        spec=profile.edits[0].spec, edit=Edit(spec=profile.edits[0].spec, check=explode)
    )
    object.__setattr__(profile, "stages", (("format", (broken,)),))  # this profile only
    try:
        raw = claim_bytes()
        letter = base.scrub(raw, key="TEST-0001")
    finally:
        del profile.__dict__["stages"]
    assert isinstance(letter, DeadLetter) and letter.error_kind == "processing"
    assert "stage format" in letter.error and "KeyError" in letter.error
    assert base64.b64decode(letter.original) == raw
    assert isinstance(base.scrub(claim_bytes()), ScrubResult)


def test_the_clock_sets_processed_at():
    scrubber = Scrubber(
        sample_scrubber().codesets, sample_scrubber().ruleset, clock=lambda: FIXED_NOW
    )
    assert scrubber.scrub(claim_bytes()).processed_at == FIXED_NOW

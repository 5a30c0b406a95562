"""The 837P reader against the published samples, a hand-checked claim and broken input."""

from __future__ import annotations

import re

import pytest

from processor.formats.x12.ack999 import write_999
from processor.formats.x12.tokens import X12Error
from processor.models import Claim
from tests.conftest import RAW
from tests.formats.x12_support import SAMPLES, read

LFH = RAW / "x12-837p-samples-linuxforhealth" / "005010X222A2"
IMS = RAW / "x12-837p-samples-imsweb"


def _with_icd10(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_is_read_or_rejected_with_a_reason_naming_the_segment(path, tmp_path):
    from datetime import datetime

    try:
        reader, claims, _ = read(path.read_bytes())
    except X12Error as exc:
        # No interchange header at all: nothing to acknowledge, a clear error instead.
        assert "ISA" in str(exc)
        return
    assert reader.interchanges
    for claim in claims:
        if claim.error is not None:
            assert re.match(r"[A-Z0-9]{2,3} at segment \d+ of transaction set", claim.error)
    for interchange in reader.interchanges:
        if not interchange.accepted:
            assert interchange.reasons
            continue
        ack = write_999(interchange, control=1, when=datetime(2026, 1, 1))
        for group in interchange.groups:
            if group.group_codes:
                assert group.reasons and ack is not None and "AK9*R" in ack
            for report in group.sets:
                if report.status == "R":
                    assert report.reasons or report.notes
                for note in report.notes:
                    assert f"IK3*{note.segment_id[:3] or 'UNK'}*{note.position}*" in ack


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_icd9_is_rejected_naming_the_hi_segment_and_qualifier():
    _, claims, _ = read((IMS / "x12_valid.txt").read_bytes())
    assert [c.claim_id for c in claims] == ["A37YH556", "A37YH667"]
    error = claims[0].error
    assert error is not None
    assert error.startswith("HI at segment 21 of transaction set 987654 (loop 2300)")
    assert "BK is ICD-9-CM" in error


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_4010_is_rejected_as_an_unsupported_version():
    reader, claims, _ = read(
        (
            RAW / "x12-837p-samples-linuxforhealth/004010X098A1/patient-is-subscriber.837.txt"
        ).read_bytes()
    )
    assert claims == []
    group = reader.interchanges[0].groups[0]
    assert group.status == "R" and group.group_codes == ["2"]
    assert "4010 is not supported" in group.reasons[0]


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_body_using_another_component_separator_than_isa16_is_not_guessed():
    # ISA16 says ':' while the claim uses '>' (CLM05 11>B>1): other parsers read it silently.
    _, claims, _ = read((LFH / "demo.example11.837.txt").read_bytes())
    assert claims[0].error is not None
    assert "CLM05-1: holds '>', not the component separator ':' that ISA16 declares" in (
        claims[0].error
    )


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_a2_label_is_read_with_a_warning_and_a_drug_claim_maps_field_by_field():
    text = (LFH / "demo.drug.example10.1.837.txt").read_text()
    text = _with_icd10(text, "HI*BK:03591", "HI*ABK:J029")
    reader, claims, ends = read(text)
    assert reader.warnings == ["GS06 1: 005010X222A2 label read as 005010X222A1"]
    (read_claim,) = claims
    assert read_claim.error is None
    claim = Claim.model_validate(read_claim.document)
    assert claim.claim_id == "CLMNO12345"
    assert claim.received_at is not None and claim.received_at.isoformat() == (
        "2004-08-01T12:00:00+00:00"
    )
    assert (claim.payer.payer_id, claim.payer.plan_type, claim.payer.name) == (
        "PLANID12345",
        "commercial",
        "R&R Health Plan",
    )
    assert (claim.billing_provider.npi, claim.billing_provider.tax_id) == (
        "1234567893",
        "587654321",
    )
    assert claim.rendering_provider is not None
    assert (claim.rendering_provider.npi, claim.rendering_provider.taxonomy) == (
        "1122333341",
        "208D00000X",
    )
    assert (claim.patient.member_id, str(claim.patient.birth_date), claim.patient.sex) == (
        "MBRID12345",
        "1943-05-01",
        "M",
    )
    assert claim.place_of_service == "11" and claim.frequency_code == "1"
    assert claim.diagnoses == ["J029"]
    first, second = claim.lines
    assert (first.procedure_code, str(first.charge), str(first.units)) == ("90782", "50.00", "1.00")
    assert (first.place_of_service, first.diagnosis_pointers, str(first.service_date)) == (
        "11",
        [1],
        "2004-07-11",
    )
    assert second.drug is not None
    assert (second.drug.ndc, str(second.drug.quantity), second.drug.unit) == (
        "00026063512",
        "10.00",
        "ML",
    )
    assert read_claim.document["x12"] == {
        "isa13": "000000907",
        "gs06": "1",
        "st02": "0711",
        "clm01": "CLMNO12345",
        "segment": 18,  # ST is 1; CLM is the 18th segment of the set
        "total_charge": "103.37",
    }
    assert ends[0].transaction.status == "A"


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_patient_loop_and_other_payer_loops_never_replace_subscriber_or_payer():
    text = (LFH / "demo.cob.example3.A.837.txt").read_text()
    text = _with_icd10(text, "HI*BK:4779*BF:2724*BF:2780*BF:53081", "HI*ABK:J302*ABF:E785")
    _, claims, _ = read(text)
    (read_claim,) = claims
    assert read_claim.error is None
    claim = Claim.model_validate(read_claim.document)
    # 2320/2330 carry NM1*IL T55TY666 (the other subscriber): not this claim's member.
    assert claim.patient.member_id == "111223333"
    assert claim.payer.payer_id == "999996666"
    # The claim sits under a 2000C patient: DMG from 2010CA, not the subscriber's.
    assert (str(claim.patient.birth_date), claim.patient.sex) == ("1973-05-01", "M")
    assert read_claim.patient_name == ("SMITH", "TED")
    assert [line.procedure_code for line in claim.lines] == ["99213", "90782", "J3301"]
    assert claim.lines[0].diagnosis_pointers == [1, 2, 3, 4]


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_plan_type_from_sbr09_and_a_payer_setting():
    from processor.formats.x12.reader import Reader837, ReadOptions

    text = (LFH / "demo.drug.example10.1.837.txt").read_text()
    text = _with_icd10(text, "HI*BK:03591", "HI*ABK:J029")
    import io

    for sbr09, plan in (("MB", "medicare"), ("MC", "medicaid"), ("16", "medicare_advantage")):
        changed = text.replace("******CI~", f"******{sbr09}~")
        (claim,) = [c for c in Reader837(io.BytesIO(changed.encode())) if hasattr(c, "document")]
        assert claim.document["payer"]["plan_type"] == plan  # type: ignore[union-attr]
    options = ReadOptions(plan_types={"PLANID12345": "medicaid"})
    (claim,) = [c for c in Reader837(io.BytesIO(text.encode()), options) if hasattr(c, "document")]
    assert claim.document["payer"]["plan_type"] == "medicaid"  # type: ignore[union-attr]


# -- broken input ---------------------------------------------------------------------------


def _valid_icd10() -> str:
    text = (LFH / "demo.drug.example10.1.837.txt").read_text()
    return _with_icd10(text, "HI*BK:03591", "HI*ABK:J029")


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_wrong_se_count_rejects_the_set():
    _, _, ends = read(_valid_icd10().replace("SE*31*0711", "SE*30*0711"))
    assert ends[0].transaction.status == "R"
    assert ends[0].transaction.set_codes == ["4"]
    assert "SE01 says 30 segments, the transaction set has 31" in ends[0].transaction.reasons


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_wrong_group_and_interchange_counts_are_reported():
    text = _valid_icd10().replace("GE*1*1", "GE*2*1").replace("IEA*1*000000907", "IEA*1*9")
    reader, _, _ = read(text)
    interchange = reader.interchanges[0]
    assert interchange.ta1_code == "001"
    assert interchange.groups[0].group_codes == ["5"]


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.99])
def test_truncated_file_closes_what_is_open_and_says_so(cut):
    data = _valid_icd10().encode()
    cut_data = data[: int(len(data) * cut)]
    reader, _, ends = read(cut_data)
    interchange = reader.interchanges[0]
    assert interchange.ta1_code == "023"
    assert "the file ends before IEA" in interchange.reasons
    (end,) = ends
    if b"\nSE*" not in cut_data:  # the set was open when the file ended
        assert end.transaction.status == "R"
        assert "2" in end.transaction.set_codes


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_no_isa_is_a_clear_error():
    with pytest.raises(X12Error, match="does not start with an ISA"):
        read((IMS / "x12_no_isa_line.txt").read_bytes())


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_isa_with_a_field_of_the_wrong_width_gets_a_ta1_reason():
    reader, claims, _ = read((IMS / "x12_bad_first_line.txt").read_bytes())
    assert claims == []
    assert reader.interchanges[0].ta1_code == "011"
    assert reader.interchanges[0].reasons == ["ISA02 is 9 characters, the standard fixes 10"]


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_unrecognised_segment_ids_are_noted():
    _, _, ends = read((IMS / "x12_bad_segment_identifier.txt").read_bytes())
    notes = [(n.segment_id, n.code) for n in ends[0].transaction.notes]
    assert ("", "1") in notes and ("Nd4", "1") in notes


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_trailing_content_after_iea_is_a_warning_not_a_lost_file():
    reader, claims, ends = read(_valid_icd10() + "\nthis is not an interchange\n")
    assert [c.error for c in claims] == [None]
    assert ends[0].transaction.status == "A"
    assert "the rest of the file is not read" in reader.warnings[-1]

import pytest

from tests.factories import claim_dict, findings_of


@pytest.mark.parametrize(
    ("pointers", "fires"), [([], True), ([3], True), ([0], True), ([1, 2], False), ([2], False)]
)
def test_pointer_must_point_at_a_diagnosis(pointers, fires):
    claim = claim_dict()  # two diagnoses
    claim["lines"][0]["diagnosis_pointers"] = pointers
    found = findings_of(claim, "DX-POINTER")
    assert bool(found) is fires
    if fires:
        assert found[0].line_number == 1 and found[0].rarc == ["M76"]
        assert "1 to 2" in found[0].fix


# -- each diagnosis edit alone (processor.edits.testing) --------------------------------------
from processor.edits.testing import claim, line, run_edit  # noqa: E402

MALE = {"patient": {"sex": "M"}}
ALONE = [
    ("DX-INVALID", "icd10cm.csv: M17.11 billable", claim(line("99214")), 0),
    ("DX-INVALID", "icd10cm.csv: M17.1 is a header", claim(line("99214"), diagnoses=["M17.1"]), 1),
    ("DX-INVALID", "Q99.999 is not in the sample", claim(line("99214"), diagnoses=["Q99.999"]), 1),
    ("DX-EXTERNAL-FIRST", "W01 first", claim(line("99214"), diagnoses=["W01.0XXA", "M17.11"]), 1),
    ("DX-EXTERNAL-FIRST", "W01 second", claim(line("99214"), diagnoses=["M17.11", "W01.0XXA"]), 0),
    (
        "DX-MANIFESTATION-FIRST",
        "icd10cm.csv: G63 manifestation",
        claim(line("99214"), diagnoses=["G63", "E11.9"]),
        1,
    ),
    ("DX-MANIFESTATION-FIRST", "G63 second", claim(line("99214"), diagnoses=["E11.9", "G63"]), 0),
    (
        "SEX-CONFLICT",
        "N40.0 (male) for a female patient",
        claim(line("99214"), diagnoses=["N40.0"]),
        1,
    ),
    ("SEX-CONFLICT", "Q0091 (female) for a male patient", claim(line("Q0091"), **MALE), 1),
    ("SEX-CONFLICT", "M17.11 for either", claim(line("99214"), **MALE), 0),
    ("AGE-CONFLICT", "O80 for a patient of 76", claim(line("99214"), diagnoses=["O80"]), 1),
    (
        "AGE-CONFLICT",
        "O80 for a patient of 30",
        claim(line("99214"), diagnoses=["O80"], patient={"birth_date": "1994-01-01"}),
        0,
    ),
]


@pytest.mark.parametrize(("edit_id", "fact", "data", "count"), ALONE, ids=[c[1] for c in ALONE])
def test_edit_alone(edit_id, fact, data, count):
    assert len(run_edit(edit_id, data)) == count

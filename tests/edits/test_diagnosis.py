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


# -- CMS Medicare Code Editor attributes (the sample carries MCE v43.1 rows of its codes) -------
# Each case names the MCE fact it relies on (processor/codesets/sample/mce.csv).
from datetime import date, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from processor.codesets import CodeSets, load_codesets  # noqa: E402
from processor.profiles import load_ruleset  # noqa: E402
from processor.scrubber import Scrubber  # noqa: E402
from tests.factories import FIXED_NOW, claim_bytes  # noqa: E402


def dx_claim(
    diagnoses: list[str], dos: str = "2024-11-18", birth: str = "1960-01-01", sex: str = "F"
) -> dict[str, Any]:
    claim = claim_dict(diagnoses=diagnoses, received_at=f"{dos}T12:00:00Z")
    claim["patient"] = {**claim["patient"], "birth_date": birth, "sex": sex}
    claim["lines"] = [dict(claim["lines"][0], service_date=dos, diagnosis_pointers=[1])]
    return claim


def born_years_before(dos: str, years: int, days_more: int = 0) -> str:
    on = date.fromisoformat(dos)
    return (on.replace(year=on.year - years) - timedelta(days=days_more)).isoformat()


@pytest.mark.parametrize(
    ("age", "fires"),
    [(0, False), (1, True)],
    ids=["A33 newborn (age 0 only) at 0", "A33 newborn (age 0 only) at 1"],
)
def test_tetanus_neonatorum_is_newborn_only(age, fires):
    dos = "2024-11-18"
    found = findings_of(dx_claim(["A33"], dos, born_years_before(dos, age)), "AGE-CONFLICT")
    assert bool(found) is fires
    if fires:
        assert found[0].evidence["age_group"] == "newborn"
        assert found[0].evidence["age_range"] == [0, 0]
        assert "newborn age group (ages 0-0)" in found[0].message


def test_z38_liveborn_is_newborn_only():
    # MCE: Z38.00 flag newborn from 2015-10-01.
    dos = "2024-11-18"
    assert (
        findings_of(dx_claim(["Z38.00"], dos, born_years_before(dos, 0, 3)), "AGE-CONFLICT") == []
    )
    [f] = findings_of(dx_claim(["Z38.00"], dos, born_years_before(dos, 2)), "AGE-CONFLICT")
    assert f.carc == "9" and f.evidence["mce"]["flags"] == ["newborn"]


@pytest.mark.parametrize(("age", "fires"), [(8, True), (9, False), (64, False), (65, True)])
def test_maternity_ages_9_to_64(age, fires):
    # MCE: O80 flag maternity; age range maternity 9-64 from 2019-10-01 (inclusive).
    dos = "2024-11-18"
    found = findings_of(dx_claim(["O80"], dos, born_years_before(dos, age)), "AGE-CONFLICT")
    assert bool(found) is fires
    if fires:
        assert found[0].evidence["age_range"] == [9, 64]


def test_maternity_range_was_12_to_55_until_fy2019():
    # MCE age ranges: maternity 12-55 until 2019-09-30, 9-64 from 2019-10-01.
    dos = "2019-09-30"
    [f] = findings_of(dx_claim(["O80"], dos, born_years_before(dos, 60)), "AGE-CONFLICT")
    assert f.evidence["age_range"] == [12, 55]
    later = "2019-10-01"
    assert findings_of(dx_claim(["O80"], later, born_years_before(later, 60)), "AGE-CONFLICT") == []


def test_perinatal_p_codes_have_no_age_edit_since_fy2017():
    # MCE: P07.30 newborn until 2016-09-30, no flag from 2016-10-01.
    assert findings_of(dx_claim(["P07.30"], "2016-09-30", "2010-01-01"), "AGE-CONFLICT")
    assert findings_of(dx_claim(["P07.30"], "2016-10-01", "2010-01-01"), "AGE-CONFLICT") == []


@pytest.mark.parametrize(
    ("dos", "profile", "fires"),
    [
        ("2024-09-30", "medicare", True),  # CMS's last day with sex flags
        ("2024-10-01", "medicare", False),  # FY2025: CMS stopped the sex edit
        ("2024-10-01", "commercial", True),  # profile keeps CMS's FY2024 lists
    ],
)
def test_female_only_diagnosis_on_a_male_patient(dos, profile, fires):
    # MCE: D25.0 (uterine leiomyoma) flag female 2015-10-01 to 2024-09-30, none after.
    claim = dx_claim(["D25.0"], dos, sex="M")
    claim["payer"] = {"payer_id": "P", "plan_type": profile}
    found = findings_of(claim, "SEX-CONFLICT")
    assert bool(found) is fires
    if fires:
        assert found[0].carc == "10" and "female" in found[0].message
        assert ("policy" in found[0].evidence) is (dos > "2024-09-30")


def test_heart_failure_first_is_not_a_manifestation():
    # MCE: I50.20 carries no manifestation flag (its category's "code first" note is a
    # sequencing instruction, not a manifestation).
    assert findings_of(dx_claim(["I50.20"]), "DX-MANIFESTATION-FIRST") == []


def test_dementia_in_other_diseases_first_is_flagged():
    # MCE: F02.80 flag manifestation; 2024-11-18 is in FY2025.
    [f] = findings_of(dx_claim(["F02.80", "G30.9"]), "DX-MANIFESTATION-FIRST")
    assert (
        f.evidence["mce"]["release"] == "MCE v43.1-sample"
        and "taken_from_nearest" not in f.evidence["mce"]
    )
    assert findings_of(dx_claim(["G30.9", "F02.80"]), "DX-MANIFESTATION-FIRST") == []


def test_external_cause_first_from_its_flag():
    # MCE: W19.XXXA flag ecodepdx.
    assert findings_of(dx_claim(["W19.XXXA", "S72.001A"]), "DX-EXTERNAL-FIRST")
    assert findings_of(dx_claim(["S72.001A", "W19.XXXA"]), "DX-EXTERNAL-FIRST") == []


def test_a_date_past_the_mce_takes_the_nearest_period_and_says_so():
    # The sample MCE covers to 2026-09-30; G63 manifestation since 2015-10-01.
    claim = dx_claim(["F02.80", "G30.9"], dos="2026-11-02")
    [f] = findings_of(claim, "DX-MANIFESTATION-FIRST")
    assert "taken_from_nearest" in f.evidence["mce"]


@pytest.mark.parametrize(
    "edit_id", ["AGE-CONFLICT", "SEX-CONFLICT", "DX-MANIFESTATION-FIRST", "DX-EXTERNAL-FIRST"]
)
def test_no_mce_loaded_is_an_info_finding_not_a_silent_pass(edit_id):
    codesets = load_codesets()
    without = CodeSets([r for r in codesets.all_releases() if r.info.kind != "mce"])
    scrubber = Scrubber(without, load_ruleset(), clock=lambda: FIXED_NOW)
    result = scrubber.scrub(claim_bytes(dx_claim(["F02.80"], dos="2024-09-02", sex="M")))
    [f] = [f for f in result.findings if f.edit_id == edit_id]
    assert f.disposition == "info" and f.carc is None and f.group_code is None
    assert "Medicare Code Editor" in f.message and "not judged" in f.message


def test_diagnosis_validity_without_an_icd10cm_release_uses_the_mce():
    # The sample's ICD-10-CM release starts 2024-10-01; on 2023-05-01 the MCE's dates judge:
    # J45.909 valid from 2015-10-01; E11 (a header) is not among the MCE's codes.
    assert findings_of(dx_claim(["J45.909"], "2023-05-01"), "DX-INVALID") == []
    [f] = findings_of(dx_claim(["E11"], "2023-05-01"), "DX-INVALID")
    assert "MCE" in f.message


# -- each diagnosis edit alone (processor.edits.testing) --------------------------------------
from processor.edits.testing import claim, line, run_edit  # noqa: E402

MALE = {"patient": {"sex": "M"}}
ALONE = [
    ("DX-INVALID", "icd10cm.csv: M17.11 billable", claim(line("99214")), 0),
    ("DX-INVALID", "icd10cm.csv: M17.1 is a header", claim(line("99214"), diagnoses=["M17.1"]), 1),
    ("DX-INVALID", "Q99.999 is not in the sample", claim(line("99214"), diagnoses=["Q99.999"]), 1),
    (
        "DX-EXTERNAL-FIRST",
        "mce.csv: W19 first",
        claim(line("99214"), diagnoses=["W19.XXXA", "M17.11"]),
        1,
    ),
    ("DX-EXTERNAL-FIRST", "W19 second", claim(line("99214"), diagnoses=["M17.11", "W19.XXXA"]), 0),
    (
        "DX-MANIFESTATION-FIRST",
        "icd10cm.csv: G63 manifestation",
        claim(line("99214"), diagnoses=["G63", "E11.9"]),
        1,
    ),
    ("DX-MANIFESTATION-FIRST", "G63 second", claim(line("99214"), diagnoses=["E11.9", "G63"]), 0),
    (
        "SEX-CONFLICT",
        "N40.0 (male) for a female patient after FY2024: Medicare has no sex edit",
        claim(line("99214"), diagnoses=["N40.0"]),
        0,
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

"""Every edit of edits.md, firing and not firing, on the real CMS code sets (the store built
from ../shared/codesets/raw). Each case names the fact of the file it relies on.

Dates of service are 2024-10-15 unless a case needs another release: ICD-10-CM FY2025,
HCPCS Level II July 2024, NCCI PTP 2024 Q3, MUE 2024-07-01, PFS July 2024 are in force."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from processor.edits import testing
from processor.profiles import load_ruleset
from processor.scrubber import Scrubber
from tests.factories import FIXED_NOW

DOS = "2024-10-15"
BASE: dict[str, Any] = {
    "claim_id": "REAL-1",
    "received_at": "2024-10-20T10:00:00Z",
    "payer": {"payer_id": "MCR-J15", "plan_type": "medicare"},
    "billing_provider": {"npi": "1234567893", "taxonomy": "207Q00000X"},
    "patient": {"member_id": "SYN1", "birth_date": "1958-05-01", "sex": "F"},
    "place_of_service": "11",
    "diagnoses": ["M17.11"],
    "lines": [],
}


# The shared claim builders, on this module's base claim and date of service.
line = functools.partial(testing.line, dos=DOS)
claim = functools.partial(testing.claim, base=BASE)


@pytest.fixture(scope="module")
def scrub(cms_store) -> Callable[..., Any]:
    _, _, codesets = cms_store
    scrubber = Scrubber(codesets, load_ruleset(), clock=lambda: FIXED_NOW)

    def run(data: dict[str, Any], edit_id: str) -> list[Any]:
        result = scrubber.scrub(orjson.dumps(data))
        assert result.event_type != "claim.unreadable", result
        return [f for f in result.findings if f.edit_id == edit_id]

    return run


def medicaid(**kw: Any) -> dict[str, Any]:
    return {"payer": {"payer_id": "MCD-OH", "plan_type": "medicaid"}, **kw}


def commercial() -> dict[str, Any]:
    return {"payer": {"payer_id": "COM", "plan_type": "commercial"}}


# (edit, the fact it relies on, claim, how many findings)
CASES = [
    # -- code validity ------------------------------------------------------------------------
    (
        "CODE-INACTIVE",
        "hcpcs_level2_2024-07.csv: J1030 terminated 2024-03-31",
        claim(line("J1030", "JZ")),
        1,
    ),
    ("CODE-INACTIVE", "hcpcs_level2_2024-07.csv: J1885 active", claim(line("J1885", "JZ")), 0),
    ("CODE-INACTIVE", "99999 is in neither RBCS nor the PFS file", claim(line("99999")), 1),
    ("CODE-INACTIVE", "rbcs: 99214 added 1992-01-01", claim(line("99214")), 0),
    ("CAT-II", "3074F is CPT Category II (format ####F)", claim(line("3074F", charge="0.00")), 1),
    (
        "MCR-COVERAGE",
        "hcpcs_level2_2024-07.csv: A0021 coverage code I",
        claim(line("A0021", "RH")),
        1,
    ),
    (
        "MCR-COVERAGE",
        "A0021 coverage I, but the commercial profile turns the edit off",
        claim(line("A0021", "RH"), **commercial()),
        0,
    ),
    ("MCR-COVERAGE", "pfs_rvu_2024-07.csv: 0469T status N", claim(line("0469T")), 1),
    (
        "MCR-COVERAGE",
        "pfs_rvu_2024-07.csv: 36415 status X, paid under the lab fee schedule",
        claim(line("36415")),
        0,
    ),
    ("MCR-COVERAGE", "0469T status N, with GA (ABN on file)", claim(line("0469T", "GA")), 0),
    ("PFS-BUNDLED", "pfs_rvu_2024-07.csv: 99070 status B", claim(line("99070")), 1),
    ("PFS-BUNDLED", "99070 status B, medicaid profile: off", claim(line("99070"), **medicaid()), 0),
    (
        "NOC-DETAIL",
        "hcpcs_level2_noc_codes_2024-07.csv: J3490 is NOC; no description, no NDC",
        claim(line("J3490", "JZ")),
        1,
    ),
    (
        "NOC-DETAIL",
        "J3490 with description and NDC",
        claim(
            line(
                "J3490",
                "JZ",
                description="ketorolac 15 mg",
                drug={"ndc": "00409-3795-01", "quantity": 1, "unit": "ML"},
            )
        ),
        0,
    ),
    # -- diagnosis ---------------------------------------------------------------------------
    (
        "DX-INVALID",
        "icd10cm FY2025: E11 is a header (billable 0)",
        claim(line("99213"), diagnoses=["E11"]),
        1,
    ),
    ("DX-INVALID", "icd10cm FY2025: E11.9 billable", claim(line("99213"), diagnoses=["E11.9"]), 0),
    (
        "DX-INVALID",
        "icd10cm FY2025: Q99.9X is not a code",
        claim(line("99213"), diagnoses=["Q99.9X"]),
        1,
    ),
    (
        "DX-INVALID",
        "MCE v43.1: J45.909 valid from 2015-10-01 (FY2023: no ICD-10-CM code list in force)",
        claim(
            line("99213", dos="2023-03-01"),
            diagnoses=["J45.909"],
            received_at="2023-03-02T00:00:00Z",
        ),
        0,
    ),
    (
        "DX-INVALID",
        "MCE v43.1: U07.1 (COVID-19) starts 2020-04-01; not valid on 2019-12-01",
        claim(
            line("99213", dos="2019-12-01"), diagnoses=["U07.1"], received_at="2019-12-02T00:00:00Z"
        ),
        1,
    ),
    (
        "DX-EXTERNAL-FIRST",
        "MCE v43.1: W19.XXXA flag ecodepdx, first",
        claim(line("99213"), diagnoses=["W19.XXXA", "S72.001A"]),
        1,
    ),
    (
        "DX-EXTERNAL-FIRST",
        "W19.XXXA listed second",
        claim(line("99213"), diagnoses=["S72.001A", "W19.XXXA"]),
        0,
    ),
    (
        "DX-MANIFESTATION-FIRST",
        "MCE v43.1: G63 flag manifestation",
        claim(
            line("99213", dos="2025-05-01"),
            diagnoses=["G63", "E11.42"],
            received_at="2025-05-02T00:00:00Z",
        ),
        1,
    ),
    (
        "DX-MANIFESTATION-FIRST",
        "MCE v43.1: F02.80 flag manifestation, 2024-11-18 (FY2025 has no tabular file)",
        claim(
            line("99213", dos="2024-11-18"),
            diagnoses=["F02.80", "G30.9"],
            received_at="2024-11-20T00:00:00Z",
        ),
        1,
    ),
    (
        "DX-MANIFESTATION-FIRST",
        "MCE v43.1: I50.20 no manifestation flag (its category has a code-first note)",
        claim(line("99213"), diagnoses=["I50.20"]),
        0,
    ),
    (
        "DX-MANIFESTATION-FIRST",
        "G63 after its underlying disease E11.42",
        claim(
            line("99213", dos="2025-05-01"),
            diagnoses=["E11.42", "G63"],
            received_at="2025-05-02T00:00:00Z",
        ),
        0,
    ),
    (
        "SEX-CONFLICT",
        "MCE v43.1: N40.0 male to 2024-09-30; female patient on 2024-09-15",
        claim(line("99213", dos="2024-09-15"), diagnoses=["N40.0"]),
        1,
    ),
    (
        "SEX-CONFLICT",
        "N40.0 on a female patient on 2024-10-15: CMS has no sex edit from FY2025",
        claim(line("99213"), diagnoses=["N40.0"]),
        0,
    ),
    (
        "SEX-CONFLICT",
        "N40.0 on a female patient on 2024-10-15, commercial: CMS's FY2024 lists kept",
        claim(line("99213"), diagnoses=["N40.0"], **commercial()),
        1,
    ),
    (
        "SEX-CONFLICT",
        "N40.0 on a male patient",
        claim(line("99213", dos="2024-09-15"), diagnoses=["N40.0"], patient={"sex": "M"}),
        0,
    ),
    (
        "SEX-CONFLICT",
        "55700 (male genital system 54000-55899) on a female patient",
        claim(line("55700")),
        1,
    ),
    (
        "SEX-CONFLICT",
        "Q0091 (screening Pap collection) on a male patient",
        claim(line("Q0091"), patient={"sex": "M"}),
        1,
    ),
    (
        "AGE-CONFLICT",
        "MCE v43.1: Z38.00 newborn (age 0) on a 66-year-old",
        claim(line("99213"), diagnoses=["Z38.00"]),
        1,
    ),
    (
        "AGE-CONFLICT",
        "MCE v43.1: O80 maternity (9-64) on a 66-year-old",
        claim(line("99213"), diagnoses=["O80"]),
        1,
    ),
    (
        "AGE-CONFLICT",
        "O80 on a 30-year-old",
        claim(line("99213"), diagnoses=["O80"], patient={"birth_date": "1994-01-01"}),
        0,
    ),
    (
        "AGE-CONFLICT",
        "MCE v43.1: P07.30 newborn only to 2016-09-30; a 66-year-old in 2024",
        claim(line("99213"), diagnoses=["P07.30"]),
        0,
    ),
    # -- modifiers ---------------------------------------------------------------------------
    ("MOD-UNKNOWN", "hcpcs_modifiers.csv: no modifier ZZ", claim(line("99213", "ZZ")), 1),
    ("MOD-UNKNOWN", "hcpcs_modifiers.csv: 25 is a CPT modifier", claim(line("99213", "25")), 0),
    (
        "MOD-UNKNOWN",
        "RH is an ambulance origin/destination pair on A0427",
        claim(line("A0427", "RH", "QM")),
        0,
    ),
    (
        "MOD-LATERALITY",
        "L1832 (knee orthosis, L1600-L3999) without RT/LT",
        claim(line("L1832"), referring_provider={"npi": "1234567893"}),
        1,
    ),
    (
        "MOD-LATERALITY",
        "L1832-RT",
        claim(line("L1832", "RT"), referring_provider={"npi": "1234567893"}),
        0,
    ),
    ("MOD-LATERALITY", "RT and LT on one line", claim(line("20610", "RT", "LT")), 1),
    ("MOD-LATERALITY", "50 with RT", claim(line("20610", "50", "RT")), 1),
    (
        "DME-PURCHASE-RENTAL",
        "hcpcs_level2_2024-07.csv: E0601 pricing 36 (capped rental), no NU/RR/UE",
        claim(line("E0601"), referring_provider={"npi": "1234567893"}),
        1,
    ),
    (
        "DME-PURCHASE-RENTAL",
        "E0601-RR without KH/KI/KJ",
        claim(line("E0601", "RR"), referring_provider={"npi": "1234567893"}),
        1,
    ),
    (
        "DME-PURCHASE-RENTAL",
        "E0601-RR-KH",
        claim(line("E0601", "RR", "KH"), referring_provider={"npi": "1234567893"}),
        0,
    ),
    (
        "EM-MOD25",
        "pfs_rvu_2024-07.csv: 11042 global 000; 99214 without 25",
        claim(line("99214"), line("11042")),
        1,
    ),
    ("EM-MOD25", "17000 global 010; 99214-25", claim(line("99214", "25"), line("17000")), 0),
    (
        "AMB-ORIGIN-DEST",
        "A0427 (A0425-A0436) without an origin/destination pair",
        claim(line("A0427")),
        1,
    ),
    ("AMB-ORIGIN-DEST", "A0427-RH", claim(line("A0427", "RH")), 0),
    (
        "MOD-PCTC",
        "pfs_rvu_2024-07.csv: 99214 PC/TC 0 does not take 26",
        claim(line("99214", "26")),
        1,
    ),
    ("MOD-PCTC", "71046 PC/TC 1 takes 26", claim(line("71046", "26")), 0),
    (
        "MOD-PCTC",
        "93000 PC/TC 4 (global test only) does not take TC",
        claim(line("93000", "TC")),
        1,
    ),
    # -- NCCI, MUE, add-on -------------------------------------------------------------------
    (
        "NCCI-PTP",
        "ncci_ptp 2024Q3: 20611/20610 active, indicator 1; no modifier",
        claim(line("20611"), line("20610")),
        1,
    ),
    (
        "NCCI-PTP",
        "20611/20610 indicator 1, XS on the column-2 line",
        claim(line("20611"), line("20610", "XS")),
        0,
    ),
    (
        "NCCI-PTP",
        "29881/64483 indicator 0: 59 does not bypass",
        claim(line("29881", "RT"), line("64483", "59")),
        1,
    ),
    (
        "NCCI-PTP",
        "20610/99214 indicator 1: 25 on the E/M line bypasses",
        claim(line("20610"), line("99214", "25")),
        0,
    ),
    (
        "NCCI-PTP",
        "20610/99214 indicator 1: 25 on the procedure line does not",
        claim(line("20610", "25"), line("99214")),
        1,
    ),
    (
        "NCCI-PTP",
        "17000/11042 deleted 2019-03-31 (the reverse 11042/17000 is active: one finding)",
        claim(line("17000"), line("11042")),
        1,
    ),
    (
        "NCCI-PTP",
        "20611/20610 for different rendering providers",
        claim(line("20611"), line("20610", rendering_provider={"npi": "1245319599"})),
        0,
    ),
    (
        "MUE-LINE",
        "ncci_mue_practitioner: A0425 MUE 250, MAI 1",
        claim(line("A0425", "RH", units=251)),
        1,
    ),
    ("MUE-LINE", "A0425 250 units", claim(line("A0425", "RH", units=250)), 0),
    (
        "MUE-DAY",
        "ncci_mue_practitioner: 20610 MUE 2, MAI 3 (3 lines of 1 unit)",
        claim(line("20610", "RT"), line("20610", "LT"), line("20610", "59")),
        3,
    ),
    ("MUE-DAY", "20610 two lines", claim(line("20610", "RT"), line("20610", "LT")), 0),
    ("MUE-ZERO", "ncci_mue_practitioner: 99070 MUE 0", claim(line("99070")), 1),
    ("ADDON-PRIMARY", "ncci_addon_codes: 99292 (type 1) needs 99291", claim(line("99292")), 1),
    ("ADDON-PRIMARY", "99292 with 99291", claim(line("99291"), line("99292")), 0),
    ("ADDON-PRIMARY", "ncci_addon_codes: 0054T type 2 (CCCCC): alone", claim(line("0054T")), 1),
    ("ADDON-PRIMARY", "0054T with a primary procedure", claim(line("20610"), line("0054T")), 0),
    (
        "ADDON-PRIMARY",
        "ncci_addon_codes: 37252 lists 200 primaries; 36223 is past the 50 the enrichment shows",
        claim(line("36223"), line("37252")),
        0,
    ),
    # -- drugs, supplies, DME -----------------------------------------------------------------
    (
        "NDC-REQUIRED",
        "J1885 without an NDC, medicaid profile",
        claim(line("J1885"), **medicaid()),
        1,
    ),
    (
        "NDC-REQUIRED",
        "J1885 without an NDC, medicare profile (CMS does not require it)",
        claim(line("J1885", "JZ")),
        0,
    ),
    (
        "NDC-FORMAT",
        "NDC 123 is not 11 digits",
        claim(line("J1885", "JZ", drug={"ndc": "123", "quantity": 1, "unit": "ML"})),
        1,
    ),
    (
        "NDC-FORMAT",
        "4-4-2 NDC padded to 5-4-2; quantity 0; unit XX",
        claim(line("J1885", "JZ", drug={"ndc": "0409-3795-01", "quantity": 0, "unit": "XX"})),
        2,
    ),
    ("DRUG-ADMIN-NO-DRUG", "96372 with no drug line", claim(line("96372")), 1),
    ("DRUG-ADMIN-NO-DRUG", "96372 with J1885", claim(line("96372"), line("J1885", "JZ")), 0),
    ("SUPPLY-CPT", "99070 under medicare", claim(line("99070")), 1),
    ("SUPPLY-CPT", "99070 under a commercial payer", claim(line("99070"), **commercial()), 0),
    ("DME-ORDERING", "E0114 without an ordering provider", claim(line("E0114", "NU")), 1),
    (
        "DME-ORDERING",
        "E0114 with one",
        claim(line("E0114", "NU"), referring_provider={"npi": "1234567893"}),
        0,
    ),
    (
        "TIMELY-FILING",
        "received 366 days after the DOS (medicare 365)",
        claim(line("99213"), received_at="2025-10-16T00:00:00Z"),
        1,
    ),
    (
        "TIMELY-FILING",
        "received 365 days after",
        claim(line("99213"), received_at="2025-10-15T00:00:00Z"),
        0,
    ),
    (
        "TIMELY-FILING",
        "181 days, commercial limit 180",
        claim(line("99213"), received_at="2025-04-14T00:00:00Z", **commercial()),
        1,
    ),
]


@pytest.mark.parametrize(
    ("edit_id", "fact", "data", "count"), CASES, ids=[f"{c[0]}:{c[1][:50]}" for c in CASES]
)
def test_edit(scrub, edit_id, fact, data, count):
    assert len(scrub(data, edit_id)) == count, fact


def test_drug_wastage_on_asp_drugs(scrub):
    # January 2026 ASP payment-limit file: J9035 separately payable (10 MG).
    day = {"dos": "2026-02-02"}
    received = {"received_at": "2026-02-03T00:00:00Z"}
    ndc = {"drug": {"ndc": "50242-0060-01", "quantity": 4, "unit": "ML"}}
    [f] = scrub(claim(line("J9035", units=10, **day, **ndc), **received), "DRUG-WASTAGE")
    assert f.disposition == "review" and "without JW or JZ" in f.message
    assert (
        scrub(claim(line("J9035", "JZ", units=10, **day, **ndc), **received), "DRUG-WASTAGE") == []
    )
    assert (
        len(
            scrub(
                claim(line("J9035", "JW", "JZ", units=10, **day, **ndc), **received), "DRUG-WASTAGE"
            )
        )
        == 1
    )
    assert (
        scrub(
            claim(line("J9035", units=10, **day, **ndc), **received, **commercial()), "DRUG-WASTAGE"
        )
        == []
    )


def test_drug_wastage_before_every_asp_file_takes_the_nearest(scrub):
    # The first ASP payment-limit file here is October 2025 (J9035 10 MG, separately
    # payable); no file covers 2024-11-18, so the nearest one judges and the evidence says so.
    data = claim(line("J9035", units=10, dos="2024-11-18"), received_at="2024-11-20T00:00:00Z")
    [f] = scrub(data, "DRUG-WASTAGE")
    assert f.disposition == "review" and f.evidence["release"] == "2025-10"
    assert "2024-11-18" in f.evidence["taken_from_nearest"]


def test_mue_day_appealability_follows_the_mai(scrub):
    # ncci_mue_practitioner: 99202 MUE 1 MAI 2 (policy: not appealable); 20610 MAI 3.
    policy = scrub(claim(line("99202"), line("99202", "76")), "MUE-DAY")
    clinical = scrub(
        claim(line("20610", "RT"), line("20610", "LT"), line("20610", "59")), "MUE-DAY"
    )
    assert policy and all(not f.appealable for f in policy) and "MAI 2" in policy[0].message
    assert clinical and all(f.appealable for f in clinical)
    assert clinical[0].evidence["release"] == "2024-07-01"


def test_dme_supplier_uses_the_dme_mue_table(scrub):
    # ncci_mue_dme_supplier: E0114 MUE 1 MAI 2; billing taxonomy 332B00000X is a DME supplier.
    data = claim(
        line("E0114", "NU", units=2),
        referring_provider={"npi": "1234567893"},
        billing_provider={"taxonomy": "332B00000X"},
    )
    [f] = scrub(data, "MUE-DAY")
    assert f.evidence["table"] == "dme_supplier" and f.evidence["mue"] == 1


def test_ptp_finding_names_the_pair_and_the_release(scrub):
    [f] = scrub(claim(line("20611"), line("20610")), "NCCI-PTP")
    assert (f.line_number, f.carc, f.evidence["column1"], f.evidence["column2"]) == (
        2,
        "236",
        "20611",
        "20610",
    )
    assert f.evidence["release"] == "2024Q3" and "XS" in f.fix


def test_inactive_code_carries_the_level2_rarc(scrub):
    [f] = scrub(claim(line("J1030", "JZ")), "CODE-INACTIVE")
    assert f.rarc == ["M20"] and "terminated" in f.message and "2024-07" in f.message


def test_sex_conflict_codes(scrub):
    found = scrub(claim(line("55700", dos="2024-09-15"), diagnoses=["N40.0"]), "SEX-CONFLICT")
    assert sorted(f.carc for f in found) == ["10", "7"]

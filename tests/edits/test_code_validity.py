"""Code-validity edits alone, on the sample code sets (processor/codesets/sample)."""

import pytest

from processor.edits.testing import claim, line, run_edit

# (edit, the sample's fact the case relies on, claim, findings)
CASES = [
    ("STALE-CODESETS", "sample releases valid to 2024-12-31", claim(line("99214")), 0),
    (
        "STALE-CODESETS",
        "2025-01-15 is past every quarterly sample release",
        claim(line("99214", dos="2025-01-15"), received_at="2025-01-20T00:00:00Z"),
        1,
    ),
    ("CODE-INACTIVE", "hcpcs.csv: J1030 terminated 2024-03-31", claim(line("J1030", "JZ")), 1),
    ("CODE-INACTIVE", "hcpcs.csv: J1885 active", claim(line("J1885", "JZ")), 0),
    ("CODE-INACTIVE", "99999 is in neither cpt.csv nor pfs.csv", claim(line("99999")), 1),
    ("CODE-INACTIVE", "ZZ123 is not a code shape: PROC-FORMAT's", claim(line("ZZ123")), 0),
    ("CAT-II", "3074F is CPT Category II", claim(line("3074F", charge="0.00")), 1),
    ("CAT-II", "99214 is CPT Level I", claim(line("99214")), 0),
    ("MCR-COVERAGE", "hcpcs.csv: A0021 coverage code I", claim(line("A0021", "RH")), 1),
    ("MCR-COVERAGE", "A0021 coverage I, GA on the line", claim(line("A0021", "RH", "GA")), 0),
    ("MCR-COVERAGE", "pfs.csv: 36415 status X, a lab code", claim(line("36415")), 0),
    ("MCR-COVERAGE", "pfs.csv: 99214 status A", claim(line("99214")), 0),
    ("PFS-BUNDLED", "pfs.csv: 99070 status B", claim(line("99070")), 1),
    ("PFS-BUNDLED", "pfs.csv: A4550 status B", claim(line("A4550")), 1),
    ("PFS-BUNDLED", "pfs.csv: 99214 status A", claim(line("99214")), 0),
    ("NOC-DETAIL", "hcpcs.csv: J3490 is NOC; no description, no NDC", claim(line("J3490")), 1),
    (
        "NOC-DETAIL",
        "J3490 NOC, described and with its NDC",
        claim(
            line(
                "J3490",
                description="ceftriaxone 1 g",
                drug={"ndc": "00409-3795-01", "quantity": 1, "unit": "UN"},
            )
        ),
        0,
    ),
    ("NOC-DETAIL", "hcpcs.csv: E1399 is NOC; no description", claim(line("E1399", "NU")), 1),
    ("NOC-DETAIL", "hcpcs.csv: J1885 is not NOC", claim(line("J1885")), 0),
]


@pytest.mark.parametrize(("edit_id", "fact", "data", "count"), CASES, ids=[c[1] for c in CASES])
def test_edit(edit_id, fact, data, count):
    assert len(run_edit(edit_id, data)) == count


def test_inactive_level2_code_carries_m20():
    [finding] = run_edit("CODE-INACTIVE", claim(line("J1030", "JZ")))
    assert finding.rarc == ["M20"] and "terminated" in finding.message


def test_category_ii_with_a_charge_says_so():
    [finding] = run_edit("CAT-II", claim(line("3074F", charge="25.00")))
    assert "charge of 25.00" in finding.message and finding.disposition == "info"


def test_coverage_carc_follows_the_code():
    [finding] = run_edit("MCR-COVERAGE", claim(line("A0021", "RH")))
    assert finding.carc == "204" and finding.group_code == "PR"


def test_noc_drug_without_ndc_carries_m119():
    [finding] = run_edit("NOC-DETAIL", claim(line("J3490")))
    assert finding.rarc == ["M119"] and "description or NDC" in finding.message

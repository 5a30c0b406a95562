"""Drug, supply and DME edits alone, on the sample code sets."""

import pytest

from processor.edits.testing import claim, line, run_edit

NDC = {"ndc": "00409-3795-01", "quantity": 1, "unit": "ML"}
MEDICAID = {"payer": {"plan_type": "medicaid"}}
ORDERING = {"referring_provider": {"npi": "1234567893"}}

CASES = [
    (
        "NDC-REQUIRED",
        "medicaid requires NDCs; J1885 without",
        claim(line("J1885", "JZ"), **MEDICAID),
        1,
    ),
    ("NDC-REQUIRED", "J1885 with its NDC", claim(line("J1885", "JZ", drug=NDC), **MEDICAID), 0),
    ("NDC-REQUIRED", "the medicare profile does not require NDCs", claim(line("J1885", "JZ")), 0),
    ("NDC-REQUIRED", "99214 is not a drug", claim(line("99214"), **MEDICAID), 0),
    ("NDC-FORMAT", "a well-formed NDC", claim(line("J1885", drug=NDC)), 0),
    ("NDC-FORMAT", "NDC of 3 digits", claim(line("J1885", drug={**NDC, "ndc": "123"})), 1),
    ("NDC-FORMAT", "unit XX", claim(line("J1885", drug={**NDC, "unit": "XX"})), 1),
    ("NDC-FORMAT", "no NDC at all", claim(line("J1885")), 0),
    ("DRUG-ADMIN-NO-DRUG", "96372 with no drug line", claim(line("96372")), 1),
    ("DRUG-ADMIN-NO-DRUG", "96372 with J1885 that day", claim(line("96372"), line("J1885")), 0),
    (
        "DRUG-ADMIN-NO-DRUG",
        "96372 with J1885 on another day",
        claim(line("96372"), line("J1885", dos="2024-11-17")),
        1,
    ),
    ("SUPPLY-CPT", "99070 supplies", claim(line("99070")), 1),
    ("SUPPLY-CPT", "A4550 is a Level II supply code", claim(line("A4550")), 0),
    ("DME-ORDERING", "E0114 with no referring provider", claim(line("E0114", "NU")), 1),
    ("DME-ORDERING", "E0114 with one", claim(line("E0114", "NU"), **ORDERING), 0),
    ("DME-ORDERING", "99214 is not an ordered item", claim(line("99214")), 0),
]


@pytest.mark.parametrize(("edit_id", "fact", "data", "count"), CASES, ids=[c[1] for c in CASES])
def test_edit(edit_id, fact, data, count):
    assert len(run_edit(edit_id, data)) == count


def test_ndc_format_names_each_problem():
    bad = {"ndc": "12", "quantity": 1, "unit": "XX"}
    found = run_edit("NDC-FORMAT", claim(line("J1885", drug=bad)))
    assert [("11 digits" in f.message, "unit" in f.message) for f in found] == [
        (True, False),
        (False, True),
    ]


def test_ndc_requirement_is_a_parameter():
    assert run_edit("NDC-REQUIRED", claim(line("J1885")), parameters={"required": True})

"""Modifier edits alone, on the sample code sets."""

import pytest

from processor.codesets import CodeSets, load_codesets
from processor.edits.testing import claim, line, run_edit
from processor.profiles import load_ruleset
from processor.scrubber import Scrubber
from tests.factories import FIXED_NOW, claim_bytes, claim_dict

CASES = [
    ("MOD-UNKNOWN", "ZZ is not in modifiers.csv", claim(line("99214", "ZZ")), 1),
    ("MOD-UNKNOWN", "modifiers.csv: 59", claim(line("99214", "59")), 0),
    ("MOD-UNKNOWN", "RH on an ambulance code is origin/destination", claim(line("A0425", "RH")), 0),
    ("MOD-LATERALITY", "L3908 (limb orthotic) without RT/LT", claim(line("L3908", "NU")), 1),
    ("MOD-LATERALITY", "L3908 with RT", claim(line("L3908", "NU", "RT")), 0),
    ("MOD-LATERALITY", "RT and LT on one line", claim(line("20610", "RT", "LT")), 1),
    ("MOD-LATERALITY", "50 with RT", claim(line("20610", "50", "RT")), 1),
    ("DME-PURCHASE-RENTAL", "hcpcs.csv: E0114 pricing 32, no NU/RR/UE", claim(line("E0114")), 1),
    ("DME-PURCHASE-RENTAL", "E0114 with NU", claim(line("E0114", "NU")), 0),
    ("DME-PURCHASE-RENTAL", "E0601 pricing 36, RR without KH/KI/KJ", claim(line("E0601", "RR")), 1),
    ("DME-PURCHASE-RENTAL", "E0601 RR KH", claim(line("E0601", "RR", "KH")), 0),
    ("DRUG-WASTAGE", "asp_pricing.csv: J1885 priced; no JW/JZ", claim(line("J1885")), 1),
    ("DRUG-WASTAGE", "J1885 with JZ", claim(line("J1885", "JZ")), 0),
    ("DRUG-WASTAGE", "J1885 with JW and JZ", claim(line("J1885", "JW", "JZ")), 1),
    ("DRUG-WASTAGE", "J3490 has no ASP price", claim(line("J3490")), 0),
    (
        "EM-MOD25",
        "pfs.csv: 20610 global 000, E/M without 25",
        claim(line("99214"), line("20610")),
        1,
    ),
    ("EM-MOD25", "E/M with 25", claim(line("99214", "25"), line("20610")), 0),
    (
        "EM-MOD25",
        "the procedure on another day",
        claim(line("99214"), line("20610", dos="2024-11-17")),
        0,
    ),
    ("AMB-ORIGIN-DEST", "A0425 without origin/destination", claim(line("A0425")), 1),
    ("AMB-ORIGIN-DEST", "A0425 RH", claim(line("A0425", "RH")), 0),
    ("MOD-PCTC", "pfs.csv: 93000 PC/TC 4, with 26", claim(line("93000", "26")), 1),
    ("MOD-PCTC", "pfs.csv: 71046 PC/TC 1, with 26", claim(line("71046", "26")), 0),
    ("MOD-PCTC", "pfs.csv: 97110 PC/TC 7, with TC", claim(line("97110", "TC")), 1),
]


@pytest.mark.parametrize(("edit_id", "fact", "data", "count"), CASES, ids=[c[1] for c in CASES])
def test_edit(edit_id, fact, data, count):
    assert len(run_edit(edit_id, data)) == count


def test_em_25_names_the_procedure_and_its_global():
    [finding] = run_edit("EM-MOD25", claim(line("99214"), line("20610")))
    assert finding.line_number == 1 and "20610 (global 000 days, line 2)" in finding.message


def test_drug_wastage_without_any_asp_file_is_not_judged():
    # J1885 without JW/JZ, with no ASP payment-limit file loaded at all.
    codesets = load_codesets()
    without = CodeSets([r for r in codesets.all_releases() if r.info.kind != "asp_pricing"])
    scrubber = Scrubber(without, load_ruleset(), clock=lambda: FIXED_NOW)
    claim = claim_dict()
    claim["lines"][2]["modifiers"] = []
    result = scrubber.scrub(claim_bytes(claim))
    [f] = [f for f in result.findings if f.edit_id == "DRUG-WASTAGE"]
    assert f.disposition == "info" and f.line_number == 3 and "asp_pricing" in f.message

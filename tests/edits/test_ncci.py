"""NCCI PTP, MUE and add-on edits alone, on the sample code sets (MUE-LINE on the sample
with a per-line MUE added: the sample's MUE rows are all per day)."""

import pytest

from processor.codesets.model import MueValue
from processor.edits.testing import claim, line, run_edit, sample_with

CASES = [
    ("NCCI-PTP", "ncci_ptp.csv: 20610/96372 indicator 1", claim(line("20610"), line("96372")), 1),
    (
        "NCCI-PTP",
        "20610/96372 with 59 on the column-2 line",
        claim(line("20610"), line("96372", "59")),
        0,
    ),
    (
        "NCCI-PTP",
        "29881/64483 indicator 0: 59 does not bypass",
        claim(line("29881"), line("64483", "59")),
        1,
    ),
    (
        "NCCI-PTP",
        "20610/96372 by two rendering providers",
        claim(line("20610"), line("96372", rendering_provider={"npi": "1245319599"})),
        0,
    ),
    ("NCCI-PTP", "one line", claim(line("20610")), 0),
    ("MUE-DAY", "mue_practitioner.csv: 99214 2 per day (MAI 3)", claim(line("99214", units=3)), 1),
    ("MUE-DAY", "99214 2 units", claim(line("99214", units=2)), 0),
    (
        "MUE-DAY",
        "99214 2 + 1 units on two lines",
        claim(line("99214", units=2), line("99214")),
        2,
    ),
    ("MUE-ZERO", "mue_practitioner.csv: E0114 MUE 0", claim(line("E0114", "NU")), 1),
    ("MUE-ZERO", "99214 MUE 2", claim(line("99214")), 0),
    ("ADDON-PRIMARY", "add_on.csv: 99292 needs 99291", claim(line("99292")), 1),
    ("ADDON-PRIMARY", "99292 with 99291", claim(line("99291"), line("99292")), 0),
    ("ADDON-PRIMARY", "add_on.csv: 0054T takes any primary", claim(line("0054T")), 1),
    ("ADDON-PRIMARY", "0054T with 20610", claim(line("20610"), line("0054T")), 0),
]


@pytest.mark.parametrize(("edit_id", "fact", "data", "count"), CASES, ids=[c[1] for c in CASES])
def test_edit(edit_id, fact, data, count):
    assert len(run_edit(edit_id, data)) == count


def test_mue_day_appealability_follows_the_mai():
    [policy] = run_edit("MUE-DAY", claim(line("99291", units=2)))  # MAI 2
    [clinical] = run_edit("MUE-DAY", claim(line("99214", units=3)))  # MAI 3
    assert (policy.appealable, clinical.appealable) == (False, True)


@pytest.mark.parametrize(("units", "fires"), [(2, False), (3, True)])
def test_mue_line_on_a_per_line_mue(units, fires):
    codesets = sample_with("mue_practitioner", {"97110": MueValue("97110", 2, 1)})
    found = run_edit("MUE-LINE", claim(line("97110", units=units)), codesets=codesets)
    assert bool(found) is fires
    if fires:
        assert found[0].rarc == ["N362"] and "MUE of 2 per line" in found[0].message

"""Every PTP pair and every MUE row of the CMS files is found by lookup."""

from __future__ import annotations

import csv
import gzip
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.codesets.cms.importers.base import parse_date

RELEASE_DAY = date(2024, 7, 1)  # the 2024 Q3 files' effective date


@pytest.fixture(scope="module")
def ptp_rows(raw):
    path = raw / "northstar-cms-2024q3" / "ncci_ptp_practitioner_2024-07-01.csv.gz"
    with gzip.open(path, "rt", newline="") as handle:
        return [(r[0], r[1], r[2], r[3]) for r in list(csv.reader(handle))[1:]]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_ptp_row_is_found(cms_store, ptp_rows, data):
    _, _, codesets = cms_store
    index = data.draw(st.integers(0, len(ptp_rows) - 1))
    column1, column2, deletion, indicator = ptp_rows[index]
    release = codesets.release_for("ncci_ptp", RELEASE_DAY)
    stored = {
        (r.deletion_date, r.modifier_indicator) for r in release.entries.rows(column1, column2)
    }
    assert (parse_date(deletion), indicator) in stored
    if deletion == "*":
        assert codesets.ptp(column1, column2, RELEASE_DAY).value.modifier_indicator == indicator


def test_every_mue_row_is_found(raw, cms_store):
    _, _, codesets = cms_store
    for name, dme in (
        ("ncci_mue_practitioner_2024-07-01.csv", False),
        ("ncci_mue_dme_supplier_2024-07-01.csv", True),
    ):
        with (raw / "northstar-cms-2024q3" / name).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            found = codesets.mue(row["hcpcs_code"], RELEASE_DAY, dme_supplier=dme).value
            assert (found.value, found.mai) == (int(row["mue_units"]), int(row["mue_mai"])), row

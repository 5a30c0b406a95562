"""The code-set interface: which release answers for a date, and what it says then.
Facts below are the sample release's, taken from the CMS files it was written from
(HCPCS Level II July 2024: J1030 terminated 2024-03-31; NCCI PTP 2024 Q3: 17000/11042
deleted 2019-03-31, 20611/20610 active with modifier indicator 1)."""

from datetime import date

import pytest

from processor.codesets import CodeSetRelease, CodeSets, ProcedureCode, ReleaseInfo, load_codesets
from processor.codesets.ptp import PtpTable


@pytest.fixture(scope="module")
def sample():
    return load_codesets()


def test_terminated_code_is_active_before_and_terminated_after(sample):
    found = sample.hcpcs("J1030", date(2024, 11, 1))
    assert found.value is not None and found.release.release_id == "2024-07"
    assert found.value.status_on(date(2024, 3, 31)) == "active"
    assert found.value.status_on(date(2024, 4, 1)) == "terminated"


def test_code_not_yet_added():
    code = ProcedureCode("A4271", add_date=date(2024, 4, 1), term_date=None)
    assert code.status_on(date(2024, 3, 31)) == "not_yet_effective"
    assert code.status_on(date(2024, 4, 1)) == "active"


def test_deleted_ptp_pair_is_not_applied_after_its_deletion(sample):
    assert sample.ptp("17000", "11042", date(2024, 11, 1)).value is None
    assert sample.ptp("17000", "11042", date(2024, 11, 1)).release.release_id == "2024Q3"
    active = sample.ptp("20611", "20610", date(2024, 11, 1)).value
    assert active is not None and active.modifier_indicator == "1"


def test_ptp_picks_the_row_in_force_when_a_pair_has_history(sample):
    # G0008/90471 in the 2024 Q3 file: indicator 0 deleted 2000-12-31, indicator 1 deleted
    # 2005-03-31. Asked of a release that covers those years, each date gets its own row.
    rows = sample.release_for("ncci_ptp", date(2024, 11, 1)).entries.rows("G0008", "90471")
    assert len(rows) == 2
    info = ReleaseInfo("ncci_ptp", "2024Q3", date(1996, 1, 1), None, "test", "0")
    codesets = CodeSets([CodeSetRelease(info, PtpTable.from_edits(rows))])
    assert codesets.ptp("G0008", "90471", date(2000, 6, 1)).value.modifier_indicator == "0"
    assert codesets.ptp("G0008", "90471", date(2003, 6, 1)).value.modifier_indicator == "1"
    assert codesets.ptp("G0008", "90471", date(2005, 4, 1)).value is None


def test_diagnosis_lookup_accepts_dotted_and_undotted(sample):
    dotted = sample.diagnosis("E11.9", date(2024, 11, 1))
    plain = sample.diagnosis("e119", date(2024, 11, 1))
    assert dotted.value == plain.value and dotted.value.billable
    assert sample.diagnosis("E11", date(2024, 11, 1)).value.billable is False
    # FY2025 starts 2024-10-01: no ICD-10-CM release of the sample covers the day before.
    assert sample.diagnosis("E11.9", date(2024, 9, 30)).release is None


def _release(kind, release_id, start, **entries):
    info = ReleaseInfo(kind, release_id, start, None, "test", "0")
    return CodeSetRelease(info, dict(entries))


def test_release_periods_follow_from_the_next_release():
    a = ProcedureCode("A0001", None, None, short_descriptor="old")
    b = ProcedureCode("A0001", None, None, short_descriptor="new")
    codesets = CodeSets(
        [
            _release("hcpcs", "2024-10", date(2024, 10, 1), A0001=b),
            _release("hcpcs", "2024-07", date(2024, 7, 1), A0001=a),
        ]
    )
    first = codesets.release_for("hcpcs", date(2024, 9, 30))
    assert first.info.release_id == "2024-07" and first.info.effective_end == date(2024, 9, 30)
    assert codesets.hcpcs("A0001", date(2024, 10, 1)).value.short_descriptor == "new"
    # Past the newest release: the newest answers, and says it has no end.
    late = codesets.hcpcs("A0001", date(2026, 1, 1))
    assert late.release.release_id == "2024-10" and late.release.effective_end is None
    assert codesets.release_for("hcpcs", date(2024, 6, 30)) is None
    assert codesets.versions_for([date(2024, 9, 30), date(2024, 10, 2)]) == {
        "hcpcs": "2024-07+2024-10"
    }

"""The CMS Medicare Code Editor importer, and the diagnosis edits against every flagged row of
CMS's own MCE table (../shared/codesets/raw/cms-mce-v43.1: skipped, saying so, without it)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from processor.codesets import CodeSets, load_codesets
from processor.codesets.cms.importers import ImportError_, detect
from processor.codesets.cms.store_builder import build_store
from processor.edits import ClaimContext, load_catalogue
from processor.edits.diagnosis import age_on
from tests.conftest import RAW

MCE_DIR = RAW / "cms-mce-v43.1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

MASTER = "code\tstart_date\tend_date\tflags\nA33\t20151001\t\tnewborn\nA34\t20151001\t20240930\tfemale,maternity\nA34\t20241001\t\tmaternity\nU071\t20200401\t\t\n"
AGES = "age_group\tstart_age\tend_age\tstart_date\tend_date\nAdult\t15\t124\t19840301\t\nMaternity\t12\t55\t19840301\t20190930\nMaternity\t9\t64\t20191001\t\nNewborn\t0\t0\t19840301\t\nPediatric\t0\t17\t19840301\t\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


# -- the importer ---------------------------------------------------------------------------------
def test_recognised_by_content_not_name(tmp_path):
    master = write(tmp_path / "cms-mce-v44.0", "table-one.txt", MASTER)
    ages = write(tmp_path / "cms-mce-v44.0", "table-two.txt", AGES)
    assert detect(master).name == "CMS MCE ICD-10-CM diagnosis master"
    assert detect(ages).name == "CMS MCE age ranges"
    [imported] = detect(master).read(master)
    assert (imported.kind, imported.release_id, imported.effective_start) == (
        "mce",
        "v44.0",
        date(2015, 10, 1),
    )
    assert imported.valid_until == date(2025, 9, 30)  # A34's last row starts in FY2025
    a34 = imported.entries["A34"]
    assert a34.row_on(date(2024, 9, 30)).flags == ("female", "maternity")
    assert a34.row_on(date(2024, 10, 1)).flags == ("maternity",)
    assert imported.entries["U071"].row_on(date(2020, 3, 31)) is None


def test_build_merges_the_two_tables_and_a_newer_version_takes_over(tmp_path):
    source = tmp_path / "raw"
    write(source / "cms-mce-v43.1", "i10dx_master.tsv", MASTER)
    write(source / "cms-mce-v43.1", "age_ranges.tsv", AGES)
    newer = MASTER.replace(
        "A33\t20151001\t\tnewborn", "A33\t20151001\t\tnewborn\nZ999\t20261001\t\t"
    )
    write(source / "cms-mce-v44.0", "i10dx_master.tsv", newer)
    write(source / "cms-mce-v44.0", "age_ranges.tsv", AGES)
    build_store(source, tmp_path / "store")
    codesets = load_codesets(tmp_path / "store")
    on = date(2024, 1, 1)
    assert codesets.mce("A33", on).release.release_id == "v44.0"  # same start, later period
    assert codesets.mce("A33", on).release.nominal_end() == date(2027, 9, 30)
    [maternity] = [
        r for r in codesets.mce_age_ranges(on).value if r.group == "maternity" and r.covers(on)
    ]
    assert (maternity.low, maternity.high) == (9, 64)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            MASTER + "A35\t2015-10-01\t\t\n",
            "i10dx_master.tsv:6: '2015-10-01' is not a yyyyMMdd date",
        ),
        (MASTER + "A.35\t20151001\t\t\n", "i10dx_master.tsv:6: 'A.35'"),
        (MASTER + "A35\t20151001\n", "i10dx_master.tsv:6: expected 4 tab-separated fields"),
        (MASTER + "A35\t20151001\t20140101\t\n", "i10dx_master.tsv:6: end 2014-01-01 before start"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, text, error):
    path = write(tmp_path / "cms-mce-v1", "i10dx_master.tsv", text)
    with pytest.raises(ImportError_, match=error.replace(".", r"\.")):
        list(detect(path).read(path))


def test_a_table_without_a_version_in_its_name_says_so(tmp_path):
    path = write(tmp_path / "mce", "i10dx_master.tsv", MASTER)
    with pytest.raises(ImportError_, match="no MCE version"):
        list(detect(path).read(path))


# -- CMS's own table -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mce(tmp_path_factory) -> CodeSets:
    if not MCE_DIR.is_dir():
        pytest.skip(f"CMS's MCE tables are not at {MCE_DIR} (set CLAIMS_CMS_RAW to the raw folder)")
    out = tmp_path_factory.mktemp("mce-store")
    build_store(MCE_DIR, out)
    return load_codesets(out)


def rows() -> list[tuple[str, date, date | None, set[str]]]:
    with (MCE_DIR / "i10dx_master.tsv").open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [
            (
                r["code"],
                datetime.strptime(r["start_date"], "%Y%m%d").date(),
                datetime.strptime(r["end_date"], "%Y%m%d").date() if r["end_date"] else None,
                {f for f in r["flags"].split(",") if f},
            )
            for r in reader
        ]


def flags_on(codesets: CodeSets, on: date) -> Counter[str]:
    release = codesets.release_for("mce", on)
    counts: Counter[str] = Counter()
    for key, entry in release.entries.items():
        if key.startswith("#"):
            continue
        row = entry.row_on(on)
        if row is not None:
            counts.update(row.flags)
    return counts


def test_flag_counts_match_source_md(mce):
    # SOURCE.md: codes valid on 2025-10-01 by flag; sex flags on 2024-09-30 and none after.
    counts = flags_on(mce, date(2025, 10, 1))
    assert (counts["newborn"], counts["pediatric"], counts["maternity"], counts["adult"]) == (
        42,
        125,
        2543,
        856,
    )
    assert (counts["manifestation"], counts["ecodepdx"], counts["unacceptable"]) == (
        422,
        7461,
        2657,
    )
    assert counts["female"] == counts["male"] == 0
    last = flags_on(mce, date(2024, 9, 30))
    assert (last["female"], last["male"]) == (3431, 529)
    assert mce.mce("I5020", date(2025, 1, 1)).value.row_on(date(2025, 1, 1)).flags == ()


def context(
    codesets: CodeSets, code: str, on: date, *, sex: str = "F", age: int = 40
) -> ClaimContext:
    birth = (
        on.replace(year=on.year - age)
        if not (on.month == 2 and on.day == 29)
        else on.replace(year=on.year - age, day=28)
    )
    assert age_on(birth, on) == age
    line = SimpleNamespace(line_number=1, procedure_code="99213", service_date=on)
    claim: Any = SimpleNamespace(
        diagnoses=[code], patient=SimpleNamespace(sex=sex, birth_date=birth), lines=[line]
    )
    return ClaimContext(claim, codesets, NOW)


CATALOGUE = load_catalogue()


def fires(edit_id: str, ctx: ClaimContext) -> bool:
    edit = CATALOGUE[edit_id]
    hits = list(edit.check(ctx, edit.spec.parameters))
    assert not any(h.not_judged for h in hits)
    return bool(hits)


AGES_ON = {"newborn": (0, 0), "pediatric": (0, 17), "maternity": (9, 64), "adult": (15, 124)}


def test_every_flagged_row_of_the_mce_agrees_with_the_edits(mce):
    """For every MCE row, on its first and last day: manifestation and external cause first
    fire exactly on the rows so flagged; the age edit fires just outside each age group's
    range and not inside all of them; the sex edit (to 2024-09-30) fires on the other sex
    exactly for the flagged rows; DX-INVALID accepts the code (no ICD-10-CM list here)."""
    checked = Counter()
    for code, start, end, flags in rows():
        for on in {start, end or date(2026, 9, 30)}:
            ctx = context(mce, code, on)
            assert fires("DX-MANIFESTATION-FIRST", ctx) is ("manifestation" in flags), (code, on)
            assert fires("DX-EXTERNAL-FIRST", ctx) is ("ecodepdx" in flags), (code, on)
            assert not fires("DX-INVALID", ctx), (code, on)
            groups = [g for g in AGES_ON if g in flags]
            ranges = {**AGES_ON, "maternity": (12, 55)} if on < date(2019, 10, 1) else AGES_ON
            low = max((ranges[g][0] for g in groups), default=0)
            high = min((ranges[g][1] for g in groups), default=124)
            if low <= high:
                assert not fires("AGE-CONFLICT", context(mce, code, on, age=low)), (code, on)
                assert not fires("AGE-CONFLICT", context(mce, code, on, age=high)), (code, on)
            for group in groups:
                g_low, g_high = ranges[group]
                assert fires("AGE-CONFLICT", context(mce, code, on, age=g_high + 1)), (
                    code,
                    on,
                    group,
                )
                if g_low > 0:
                    assert fires("AGE-CONFLICT", context(mce, code, on, age=g_low - 1)), (code, on)
            if on <= date(2024, 9, 30):
                for sex, other in (("M", "female"), ("F", "male")):
                    expected = other in flags
                    assert fires("SEX-CONFLICT", context(mce, code, on, sex=sex)) is expected, (
                        code,
                        on,
                    )
            checked.update(flags or {"no flag"})
    assert checked["manifestation"] and checked["female"] and checked["newborn"]


def test_a_code_is_invalid_the_day_before_its_first_row(mce):
    # U07.1 (COVID-19) starts 2020-04-01 in the MCE.
    before = context(mce, "U07.1", date(2020, 3, 31))
    assert fires("DX-INVALID", before)
    assert not fires("DX-INVALID", context(mce, "U07.1", date(2020, 4, 1)))
    assert date(2020, 3, 31) + timedelta(days=1) == date(2020, 4, 1)

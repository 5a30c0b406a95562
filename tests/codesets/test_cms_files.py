"""Importers and lookups against the real CMS files. Each test names the file and the fact
it relies on; counts are the ones each folder's SOURCE.md gives."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from processor.codesets.cms.importers import detect
from processor.codesets.cms.importers.hcpcs import _read_anweb_txt, _read_anweb_xlsx


def _imported(path):
    importer = detect(path)
    assert importer is not None, f"{path.name} not recognised"
    return list(importer.read(path))


def _one(items, kind):
    [found] = [i for i in items if i.kind == kind]
    return found


# -- HCPCS Level II ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("folder", "name", "codes", "modifiers", "terminated", "start"),
    [
        (
            "2026-jan-quarterly",
            "HCPC2026_JAN_ANWEB_01122026.txt",
            8623,
            383,
            1300,
            date(2026, 1, 1),
        ),
        ("2020-annual", "HCPC2020_ANWEB_w_disclaimer.txt", 6710, 369, 605, date(2020, 1, 1)),
        ("2019-annual", "HCPC2019_CONTR_ANWEB.txt", 6440, 360, 506, date(2019, 1, 1)),
        ("2018-annual", "HCPC2018_CONTR_ANWEB_disc.txt", 6205, 354, 460, date(2018, 1, 1)),
        ("2017-annual", "HCPC17_CONTR_ANWEB.txt", 6155, 343, 526, date(2017, 1, 1)),
    ],
)
def test_anweb_counts_match_source_md(raw, folder, name, codes, modifiers, terminated, start):
    items = list(_read_anweb_txt(raw / "cms-hcpcs-level2" / folder / name))
    hcpcs = _one(items, "hcpcs")
    assert len(hcpcs.entries) == codes
    assert len(_one(items, "hcpcs_modifiers").entries) == modifiers
    assert sum(1 for c in hcpcs.entries.values() if c.term_date) == terminated
    assert hcpcs.effective_start == start


def test_anweb_text_and_workbook_twins_agree(raw):
    folder = raw / "cms-hcpcs-level2" / "2026-jan-quarterly"
    text = _one(list(_read_anweb_txt(folder / "HCPC2026_JAN_ANWEB_01122026.txt")), "hcpcs").entries
    book = _one(
        list(_read_anweb_xlsx(folder / "HCPC2026_JAN_ANWEB_01122026.xlsx")), "hcpcs"
    ).entries
    assert text.keys() == book.keys()
    # J0013 (esketamine nasal spray) was added 2026-01-01 (SOURCE.md).
    assert text["J0013"].add_date == book["J0013"].add_date == date(2026, 1, 1)
    assert text["J0013"].action_code == "A"


def test_terminated_level2_code_valid_the_day_before_not_after(cms_store):
    # HCPC2026_JAN_ANWEB: A4397 (irrigation supply) has TERM DT 20211231.
    _, _, codesets = cms_store
    found = codesets.hcpcs("A4397", date(2026, 2, 1))
    assert found.release.release_id == "2026-01"
    assert found.value.status_on(date(2021, 12, 31)) == "active"
    assert found.value.status_on(date(2022, 1, 1)) == "terminated"
    # hcpcs_level2_2024-07.csv: J1030 terminated 2024-03-31.
    j1030 = codesets.hcpcs("J1030", date(2024, 8, 1)).value
    assert (
        j1030.status_on(date(2024, 3, 31)) == "active"
        and j1030.status_on(date(2024, 4, 1)) == "terminated"
    )


def test_release_in_force_by_date_of_service(cms_store):
    _, _, codesets = cms_store
    assert codesets.hcpcs("J3301", date(2020, 5, 1)).release.release_id == "2020-04"
    assert codesets.hcpcs("J3301", date(2020, 12, 31)).release.release_id == "2020-10"
    assert codesets.hcpcs("J3301", date(2024, 8, 1)).release.release_id == "2024-07"
    assert codesets.hcpcs("J3301", date(2026, 3, 1)).release.release_id == "2026-01"
    # Before the first release of a kind there is none.
    assert codesets.hcpcs("J3301", date(2016, 12, 31)).release is None


def test_noc_lists(raw, cms_store):
    # hcpcs_level2_noc_codes_2024-07.csv: 161 rows (SOURCE.md), J3490 among them.
    items = _imported(raw / "northstar-cms-2024q3" / "hcpcs_level2_noc_codes_2024-07.csv")
    assert "J3490" in _one(items, "hcpcs_noc").entries
    _, _, codesets = cms_store
    assert codesets.noc("J3490", date(2026, 2, 1)).value is not None  # NOC_codes_JAN2026.xlsx
    assert codesets.noc("J1885", date(2026, 2, 1)).value is None


# -- ICD-10-CM ----------------------------------------------------------------------------------
def test_icd10cm_billable_then_header(cms_store):
    # SOURCE.md: R10.2 was billable in FY2025 and became a header in the April 2026 update.
    _, _, codesets = cms_store
    before = codesets.diagnosis("R10.2", date(2025, 6, 1))
    after = codesets.diagnosis("R10.2", date(2026, 5, 1))
    assert (before.release.release_id, before.value.billable) == ("FY2025-04", True)
    assert (after.release.release_id, after.value.billable) == ("FY2026-04", False)


def test_icd10cm_counts(raw):
    flat = _one(
        _imported(raw / "icd10cm/fy2025-apr2025/icd10cm_apr2025_codes_flat.tsv"), "icd10cm"
    ).entries
    assert len(flat) == 97584 and sum(c.billable for c in flat.values()) == 74260
    flat26 = _one(
        _imported(raw / "icd10cm/fy2026-apr2026/icd10cm_apr2026_codes_flat.tsv"), "icd10cm"
    ).entries
    assert len(flat26) == 98186 and sum(c.billable for c in flat26.values()) == 74719
    order21 = _one(_imported(raw / "icd10cm/fy2021-jan2021/icd10cm-order-Jan-2021.txt"), "icd10cm")
    assert len(order21.entries) == 95358 and order21.release_id == "FY2021-01"
    codes = _one(
        _imported(raw / "icd10cm/fy2025-apr2025/code-list-April-2025.txt"), "icd10cm"
    ).entries
    # The code list's leaves are the flat table's billable codes.
    assert {c for c, v in codes.items() if v.billable} == {c for c, v in flat.items() if v.billable}


def test_tabular_code_first_marks_manifestations(raw, cms_store):
    tabular = _one(
        _imported(raw / "icd10cm/fy2025-apr2025/icd10cm-tabular-April-2025.xml"), "icd10cm"
    )
    # G63 "Polyneuropathy in diseases classified elsewhere" carries a codeFirst note; E11.9 none.
    assert tabular.entries["G63"].manifestation and not tabular.entries["E119"].manifestation
    _, _, codesets = cms_store
    merged = codesets.diagnosis("G63", date(2025, 5, 1)).value
    assert merged.manifestation and merged.billable and merged.description


# -- NCCI PTP ------------------------------------------------------------------------------------
def test_ptp_deleted_pair_not_applied_today_active_pair_applied(cms_store):
    _, _, codesets = cms_store
    # ncci_ptp_practitioner_2024-07-01: 0001A/0591T deleted 20231231; 20611/20610 active, indicator 1.
    assert codesets.ptp("0001A", "0591T", date(2024, 11, 1)).value is None
    active = codesets.ptp("20611", "20610", date(2024, 11, 1))
    assert active.value.modifier_indicator == "1" and active.release.release_id == "2024Q3"


def test_raw_ptp_file_keeps_effective_dates(raw):
    # ccipra-v322r0-f1 (2026 Q3 excerpt): 0001A/0591T effective 20220101, deleted 20231231.
    [release] = _imported(raw / "cms-2026-raw-excerpts-biller" / "ccipra-v322r0-f1.excerpt.txt")
    assert (release.kind, release.release_id, release.effective_start) == (
        "ncci_ptp",
        "2026Q3",
        date(2026, 7, 1),
    )
    from processor.codesets.ptp import PtpTable

    table = PtpTable.from_rows(release.entries)
    assert len(table) == 36
    [row] = table.rows("0001A", "0591T")
    assert (row.effective_date, row.deletion_date, row.modifier_indicator) == (
        date(2022, 1, 1),
        date(2023, 12, 31),
        "1",
    )


def test_excerpts_are_listed_but_never_in_force(cms_store):
    _, _, codesets = cms_store
    assert {r.info.release_id for r in codesets.partial} == {"2026Q3", "2026-07-01", "FY2026"}
    # FY2026 base is only an excerpt: October 2025 dates use the newest full release before it.
    assert codesets.diagnosis("E11.9", date(2025, 11, 1)).release.release_id == "FY2025-04"


def test_ptp_row_counts_and_every_row_stored(raw, cms_store):
    [release] = _imported(raw / "northstar-cms-2024q3" / "ncci_ptp_practitioner_2024-07-01.csv.gz")
    rows = list(release.entries)
    assert len(rows) == 2546017  # SOURCE.md
    assert sum(1 for _, value in rows if (value >> 4) & 0xFFFFF == 0) == 1669820  # active
    assert Counter(value & 0xF for _, value in rows) == {1: 1707611, 0: 739553, 9: 98853}
    # Every row of the file is in the stored table (one exact duplicate row, 88108/88162
    # deleted 1996-01-01 indicator 9, is stored once).
    _, _, codesets = cms_store
    table = codesets.release_for("ncci_ptp", date(2024, 7, 1)).entries
    assert set(rows) == set(zip(table.keys, table.values, strict=True))
    assert len(table) == 2546016


# -- MUE, add-on, fee schedule, drugs -------------------------------------------------------------
def test_mue_values_and_tables(raw, cms_store):
    prac = _one(
        _imported(raw / "northstar-cms-2024q3/ncci_mue_practitioner_2024-07-01.csv"),
        "mue_practitioner",
    )
    assert len(prac.entries) == 14677
    assert Counter(v.mai for v in prac.entries.values()) == {1: 41, 2: 5157, 3: 9479}
    dme = _one(
        _imported(raw / "northstar-cms-2024q3/ncci_mue_dme_supplier_2024-07-01.csv"),
        "mue_dme_supplier",
    )
    assert len(dme.entries) == 2928
    _, _, codesets = cms_store
    # First rows of the practitioner file: 0001U 1 unit MAI 2; 0002M 1 unit MAI 3.
    assert codesets.mue("0001U", date(2024, 8, 1)).value[1:] == (1, 2)
    assert codesets.mue("0002M", date(2024, 8, 1)).value[1:] == (1, 3)
    raw_mue = _one(
        _imported(
            raw
            / "cms-2026-raw-excerpts-biller/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
        ),
        "mue_practitioner",
    )
    assert raw_mue.entries["0002M"][1:] == (1, 3) and len(raw_mue.entries) == 21


def test_add_on_codes(raw):
    [release] = _imported(raw / "northstar-cms-2024q3/ncci_addon_codes_2024-06-03.csv")
    # SOURCE.md: 7,465 rows; CCCCC means any primary. 0054T is type 2 with any primary;
    # 49327 is type 3: listed primaries (38120 ...) and CCCCC beside them.
    entries = release.entries
    assert (
        entries["0054T"].edit_type,
        entries["0054T"].primaries,
        entries["0054T"].any_primary,
    ) == (2, (), True)
    assert "38120" in entries["49327"].primaries and entries["49327"].any_primary
    assert entries["0071U"].primaries == ("0070U",) and not entries["0071U"].any_primary
    assert sum(len(a.primaries) + a.any_primary for a in entries.values()) == 7465
    by_type = Counter()
    for a in entries.values():
        by_type[a.edit_type] += len(a.primaries) + a.any_primary
    assert by_type == {1: 6860, 2: 36, 3: 569}


def test_fee_schedule_indicators(raw, cms_store):
    rvu25 = _one(
        _imported(raw / "cms-pfs-rvu-2025a/PPRRVU25_JAN_cpt-descriptors-removed.csv"), "pfs"
    )
    assert (rvu25.release_id, rvu25.effective_start) == ("2025-01", date(2025, 1, 1))
    assert rvu25.entries["A0021"][1:] == ("I", "9", "XXX", "9")
    _, _, codesets = cms_store
    # pfs_rvu_2024-07: 20610 status A, PC/TC 0, global 000, bilateral 1; 99070 status B.
    assert codesets.fee_schedule("20610", date(2024, 8, 1)).value[1:] == ("A", "0", "000", "1")
    assert codesets.fee_schedule("99070", date(2024, 8, 1)).value.status == "B"


def test_asp_pricing_and_crosswalk(raw, cms_store):
    price = _one(
        _imported(
            raw / "cms-asp-partb-drugs/January_2026_Medicare_Part_B_Payment_Limit_File_121725.csv"
        ),
        "asp_pricing",
    )
    assert len(price.entries) == 877 and price.effective_start == date(2026, 1, 1)
    assert price.entries["J9035"].dosage == "10 MG"
    cross = _one(
        _imported(raw / "cms-asp-partb-drugs/January_2026_ASP_NDC-HCPCS_Crosswalk_121725.csv"),
        "asp_crosswalk",
    )
    assert len(cross.entries) == 843 and sum(len(v) for v in cross.entries.values()) == 7125
    _, _, codesets = cms_store
    oct25 = codesets.asp_price("J9035", date(2025, 11, 1))
    assert oct25.release.release_id == "2025-10"
    avastin = [
        x for x in codesets.ndc_crosswalk("J9035", date(2026, 2, 1)).value if x.ndc == "50242006001"
    ]
    assert avastin and avastin[0].bill_units == "10"


def test_place_of_service_and_rbcs(cms_store):
    _, _, codesets = cms_store
    assert codesets.place_of_service("11", date(2024, 1, 1)).value.name == "Office"
    assert codesets.place_of_service("98", date(2024, 1, 1)).value is None
    assert codesets.rbcs("20610", date(2024, 1, 1)).value.family == "Joint Injection"
    assert codesets.cpt("99214", date(2024, 1, 1)).value.add_date == date(1992, 1, 1)


# -- the build -----------------------------------------------------------------------------------
def test_build_finds_every_format_by_content(cms_store):
    _, report, _ = cms_store
    kinds = {e["kind"] for e in report.releases}
    assert kinds == {
        "hcpcs",
        "hcpcs_noc",
        "hcpcs_modifiers",
        "modifiers",
        "cpt",
        "rbcs",
        "pfs",
        "icd10cm",
        "ncci_ptp",
        "mue_practitioner",
        "mue_dme_supplier",
        "add_on",
        "place_of_service",
        "asp_pricing",
        "asp_crosswalk",
        "mce",
    }
    skipped = {s["file"] for s in report.skipped}
    assert not any(name.endswith(("ANWEB.txt", ".csv.gz")) for name in skipped)
    assert all(e["sources"] and len(e["sources"][0]["sha256"]) == 64 for e in report.releases)


def test_enrichment_from_the_real_tables(cms_store):
    """A scrub against the full store: each line's enrichment comes from the releases in
    force on its date of service (files named in each assertion)."""
    import orjson

    from processor.profiles import load_ruleset
    from processor.scrubber import Scrubber
    from tests.factories import claim_dict

    _, _, codesets = cms_store
    claim = claim_dict(received_at="2026-02-10T00:00:00Z", diagnoses=["C18.9"])
    claim["lines"] = [
        {
            "line_number": 1,
            "procedure_code": "J9035",
            "units": 10,
            "charge": "900.00",
            "service_date": "2026-02-02",
            "diagnosis_pointers": [1],
            "modifiers": ["JZ"],
            "drug": {"ndc": "50242-0060-01", "quantity": 4, "unit": "ML"},
        },
        {
            "line_number": 2,
            "procedure_code": "96413",
            "units": 1,
            "charge": "300.00",
            "service_date": "2026-02-02",
            "diagnosis_pointers": [1],
        },
    ]
    result = Scrubber(codesets, load_ruleset()).scrub(orjson.dumps(claim))
    drug = result.claim.lines[0].enrichment
    # HCPC2026_JAN_ANWEB: J9035 is a Level II drug code; the January 2026 ASP files give its
    # dosage (10 MG) and Avastin 50242-0060-01 as 10 billing units.
    assert (drug.code_system, drug.level2_category.letter, drug.status) == (
        "HCPCS Level II",
        "J",
        "active",
    )
    assert (drug.drug.dosage, drug.drug.ndc_in_crosswalk, drug.drug.ndc_bill_units) == (
        "10 MG",
        True,
        "10",
    )
    assert drug.releases["hcpcs"] == "2026-01" and drug.releases["asp_pricing"] == "2026-01"
    chemo = result.claim.lines[1].enrichment
    # PPRRVU25_JAN (the newest fee schedule before 2026): 96413 status A, global XXX; RBCS
    # classifies it; CPT numbers only, never a descriptor.
    assert (chemo.code_system, chemo.pfs_status, chemo.global_days) == ("CPT Level I", "A", "XXX")
    assert chemo.short_descriptor is None and chemo.rbcs is not None
    assert result.codeset_versions["icd10cm"] == "FY2025-04"

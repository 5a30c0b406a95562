"""Reference tables: CMS place-of-service codes, RBCS (BETOS) classification, and the ASP
drug pricing file with its NDC-HCPCS crosswalk."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from processor.codesets.cms.importers.base import Imported, Importer, ImportError_, parse_date
from processor.codesets.model import (
    AspPrice,
    NdcCrosswalk,
    PlaceOfService,
    ProcedureCode,
    RbcsClass,
)

_CPT = re.compile(r"^[0-9]{4}[0-9FTUM]$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}


def _detect_pos(path: Path, first: bytes) -> bool:
    return first.startswith(b"pos_code,pos_type,pos_name")


def _read_pos(path: Path) -> Iterator[Imported]:
    with path.open(newline="", encoding="utf-8") as handle:
        entries = {
            r["pos_code"].zfill(2): PlaceOfService(r["pos_code"].zfill(2), r["pos_name"].strip())
            for r in csv.DictReader(handle)
            if not r["pos_name"].strip().lower().startswith("unassigned")
        }
    # The CMS list carries no release date; codes are added rarely and never reused.
    yield Imported(
        "place_of_service",
        "current",
        date(2000, 1, 1),
        entries,
        [path],
        note="undated list; in force for every date",
    )


def _detect_rbcs(path: Path, first: bytes) -> bool:
    return first.startswith(b"hcpcs_code,rbcs_procedure,rbcs_category")


def _read_rbcs(path: Path) -> Iterator[Imported]:
    classes: dict[str, RbcsClass] = {}
    classified_on: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            # A code classified more than once keeps its latest classification.
            code, effective = row["hcpcs_code"], row["rbcs_date_effective"]
            if classified_on.get(code, "") > effective:
                continue
            classified_on[code] = effective
            classes[code] = RbcsClass(
                row["hcpcs_code"],
                row["rbcs_category"],
                row["rbcs_subcategory"],
                row["rbcs_family"],
                parse_date(row["hcpcs_date_added"]),
                parse_date(row["hcpcs_date_ended"]),
            )
    newest = max((c.add_date for c in classes.values() if c.add_date), default=date(2000, 1, 1))
    release_id = f"rbcs-{newest:%Y-%m}"
    # Every code carries its own add and end dates, so one release answers for all dates.
    yield Imported("rbcs", release_id, date(1900, 1, 1), classes, [path])
    cpt = {
        code: ProcedureCode(code, c.add_date, c.end_date)
        for code, c in classes.items()
        if _CPT.match(code)
    }
    yield Imported(
        "cpt",
        release_id,
        date(1900, 1, 1),
        cpt,
        [path],
        note="CPT code numbers with add/end dates from RBCS; no descriptors",
    )


def _asp_period(path: Path, text: str) -> date:
    m = re.search(r"Effective (\w+) (\d{1,2}), (20\d\d)", text)
    if m is None or m[1].lower() not in _MONTHS:
        raise ImportError_(f"{path}: no 'Effective <Month> <day>, <year>' line in the preamble")
    return date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))


def _csv_after_header(path: Path, first_cell: re.Pattern[str]) -> tuple[str, list[list[str]]]:
    with path.open(newline="", encoding="latin-1") as handle:
        rows = list(csv.reader(handle))
    header = next((i for i, r in enumerate(rows) if r and first_cell.match(r[0])), None)
    if header is None:
        raise ImportError_(f"{path}: no header row")
    preamble = " ".join(" ".join(r) for r in rows[:header])
    return preamble, rows[header:]


def _detect_asp_price(path: Path, first: bytes) -> bool:
    return b"Payment Allowance Limits for Medicare Part B Drugs" in first or (
        b"HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit" in first
    )


def _read_asp_price(path: Path) -> Iterator[Imported]:
    preamble, rows = _csv_after_header(path, re.compile(r"^HCPCS Code$"))
    start = _asp_period(path, preamble)
    entries = {
        r[0].strip(): AspPrice(r[0].strip(), r[2].strip(), r[3].strip())
        for r in rows[1:]
        if len(r) > 3 and r[0].strip()
    }
    yield Imported("asp_pricing", f"{start:%Y-%m}", start, entries, [path])


def _detect_asp_crosswalk(path: Path, first: bytes) -> bool:
    return b"ASP NDC - HCPCS Crosswalk" in first or b"ASP NDC-HCPCS Crosswalk" in first


def _read_asp_crosswalk(path: Path) -> Iterator[Imported]:
    preamble, rows = _csv_after_header(path, re.compile(r"^_?\d{4}_CODE$"))
    start = _asp_period(path, preamble)
    entries: dict[str, tuple[NdcCrosswalk, ...]] = {}
    for row in rows[1:]:
        if len(row) < 10 or not row[0].strip():
            continue
        code, ndc = row[0].strip(), row[3].replace("-", "").strip()
        item = NdcCrosswalk(code, ndc, row[5].strip(), row[8].strip(), row[4].strip())
        entries[code] = (*entries.get(code, ()), item)
    yield Imported("asp_crosswalk", f"{start:%Y-%m}", start, entries, [path])


IMPORTERS = [
    Importer("place-of-service codes", _detect_pos, _read_pos),
    Importer("RBCS classification", _detect_rbcs, _read_rbcs),
    Importer("ASP payment limits", _detect_asp_price, _read_asp_price),
    Importer("ASP NDC-HCPCS crosswalk", _detect_asp_crosswalk, _read_asp_crosswalk),
]

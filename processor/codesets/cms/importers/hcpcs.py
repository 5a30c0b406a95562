"""HCPCS Level II: the CMS alpha-numeric (ANWEB) release as fixed-width text and as its
xlsx twin, the tidied CSV, the NOC code lists, and the modifier table."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from processor.codesets.cms.importers.base import (
    Imported,
    Importer,
    ImportError_,
    date_in_name,
    parse_date,
    release_date_in_name,
    text_lines,
    xlsx_rows,
    year_in_name,
)
from processor.codesets.model import Modifier, ProcedureCode

# Fixed-width record layout (1-based, inclusive), identical 2017-2026 (record-layout/*.txt).
_FIELDS = {
    "HCPC": (1, 5),
    "RECID": (11, 11),
    "LONG DESCRIPTION": (12, 91),
    "SHORT DESCRIPTION": (92, 119),
    "PRICE1": (120, 121),
    "COV": (230, 230),
    "BETOS": (257, 259),
    "ADD DT": (269, 276),
    "ACT EFF DT": (277, 284),
    "TERM DT": (285, 292),
    "ACTION CD": (293, 293),
}


def _fixed(line: str) -> dict[str, str]:
    return {name: line[a - 1 : b].strip() for name, (a, b) in _FIELDS.items()}


def _is_anweb_line(line: str) -> bool:
    return len(line) >= 293 and line[10:11] in "3478" and line[5:10].isdigit()


def _detect_anweb_txt(path: Path, first: bytes) -> bool:
    lines = first.decode("latin-1").splitlines()
    return path.suffix.lower() == ".txt" and sum(_is_anweb_line(x) for x in lines) >= 3


def _detect_anweb_xlsx(path: Path, first: bytes) -> bool:
    text = first.decode("utf-8", "replace")
    if "HCPC\tSEQNUM\tRECID" in text:
        return True
    # Workbooks whose header sits below a disclaimer block longer than the detection head.
    return (
        path.suffix == ".xlsx"
        and "anweb" in path.name.lower()
        and "Transaction" not in path.name
        and "Corrections" not in path.name
    )


def _records(
    rows: Iterable[dict[str, Any]],
) -> tuple[dict[str, ProcedureCode], dict[str, Modifier], Counter[date]]:
    codes: dict[str, dict[str, Any]] = {}
    modifiers: dict[str, Modifier] = {}
    change_dates: Counter[date] = Counter()
    current: dict[str, Any] | None = None
    for row in rows:
        recid = str(row.get("RECID") or "").strip()
        code = str(row.get("HCPC") or "").strip()
        if recid == "3":
            current = dict(row, HCPC=code)
            codes[code] = current
            if str(row.get("ACTION CD") or "").strip() not in ("", "N"):
                effective = parse_date(row.get("ACT EFF DT"))
                if effective is not None:
                    change_dates[effective] += 1
        elif recid == "4" and current is not None and code == current["HCPC"]:
            current["LONG DESCRIPTION"] = (
                f"{current['LONG DESCRIPTION']} {row.get('LONG DESCRIPTION') or ''}".strip()
            )
        elif recid == "7":
            modifiers[code] = Modifier(code=code, kind="HCPCS")
            current = None
    procedures = {
        code: ProcedureCode(
            code=code,
            add_date=parse_date(r.get("ADD DT")),
            term_date=parse_date(r.get("TERM DT")),
            short_descriptor=str(r.get("SHORT DESCRIPTION") or "").strip() or None,
            coverage_code=str(r.get("COV") or "").strip() or None,
            pricing_indicator=str(r.get("PRICE1") or "").strip() or None,
            betos=str(r.get("BETOS") or "").strip() or None,
            action_code=str(r.get("ACTION CD") or "").strip() or None,
        )
        for code, r in codes.items()
    }
    return procedures, modifiers, change_dates


def _releases(path: Path, rows: Iterable[dict[str, Any]]) -> Iterator[Imported]:
    procedures, modifiers, change_dates = _records(rows)
    if not procedures:
        raise ImportError_(f"{path}: no HCPCS procedure records (RECID 3)")
    # A release is in force from the date its changes take effect: the most common action
    # effective date among the codes it added, changed or terminated.
    if change_dates:
        start = change_dates.most_common(1)[0][0]
    else:
        start = date_in_name(path) or date(year_in_name(path) or 1900, 1, 1)
    release_id = f"{start:%Y-%m}"
    yield Imported("hcpcs", release_id, start, procedures, [path])
    if modifiers:
        yield Imported(
            "hcpcs_modifiers",
            release_id,
            start,
            modifiers,
            [path],
            note="HCPCS Level II modifiers (CPT modifiers are not in this file)",
        )


def _read_anweb_txt(path: Path) -> Iterator[Imported]:
    rows = (_fixed(line) for _, line in text_lines(path, "latin-1") if _is_anweb_line(line))
    yield from _releases(path, rows)


def _read_anweb_xlsx(path: Path) -> Iterator[Imported]:
    header, data = xlsx_rows(path, ["HCPC", "RECID", "ADD DT"])
    rows = (dict(zip(header, row, strict=False)) for row in data)
    yield from _releases(path, rows)


# -- the tidied CSV (one row per code, ISO dates) -----------------------------------------------
def _detect_tidy(path: Path, first: bytes) -> bool:
    return first.startswith(b"hcpcs_code,long_description,short_description,price,")


def _read_tidy(path: Path) -> Iterator[Imported]:
    start = release_date_in_name(path)
    entries = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            entries[row["hcpcs_code"]] = ProcedureCode(
                code=row["hcpcs_code"],
                add_date=parse_date(row["date_added"]),
                term_date=parse_date(row["date_term"]),
                short_descriptor=row["short_description"] or None,
                coverage_code=row["cov"] or None,
                pricing_indicator=row["price"] or None,
                betos=row["betos"] or None,
                action_code=row["action"] or None,
            )
    yield Imported("hcpcs", f"{start:%Y-%m}", start, entries, [path])


# -- NOC code lists ------------------------------------------------------------------------------
def _noc_release(path: Path, codes: Iterable[tuple[str, Any, Any]]) -> Imported:
    start = date_in_name(path) or date(year_in_name(path) or 1900, 1, 1)
    entries = {}
    for code, added, terminated in codes:
        code = code.strip()
        if len(code) == 5:
            entries[code] = ProcedureCode(code, parse_date(added), parse_date(terminated), noc=True)
    return Imported("hcpcs_noc", f"{start:%Y-%m}", start, entries, [path])


def _detect_noc_csv(path: Path, first: bytes) -> bool:
    return first.startswith(b"hcpcs,long_description,add_date,term_date")


def _read_noc_csv(path: Path) -> Iterator[Imported]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [(r["hcpcs"], r["add_date"], r["term_date"]) for r in csv.DictReader(handle)]
    yield _noc_release(path, rows)


def _detect_noc_txt(path: Path, first: bytes) -> bool:
    text = first.decode("latin-1")
    return (
        path.suffix == ".txt"
        and text.startswith("HCPCS")
        and "ADD DATE" in text
        and "TERM DATE" in text
    )


def _read_noc_txt(path: Path) -> Iterator[Imported]:
    rows = []
    for number, line in text_lines(path, "latin-1"):
        if number == 1 or not line.strip():
            continue
        code = line[:5]
        dates = line[11:].split()
        dated = [d for d in dates if len(d) == 8 and d.isdigit()]
        if dated:  # continuation lines carry no dates
            rows.append((code, dated[0], dated[1] if len(dated) > 1 else None))
    yield _noc_release(path, rows)


def _detect_noc_xlsx(path: Path, first: bytes) -> bool:
    return b"NOC CODES" in first or ("noc" in path.name.lower() and path.suffix == ".xlsx")


def _read_noc_xlsx(path: Path) -> Iterator[Imported]:
    header, data = xlsx_rows(path, ["HCPCS", "ADD DATE"])
    index = {name: i for i, name in enumerate(header)}
    rows = [
        (
            str(r[index["HCPCS"]] or ""),
            r[index["ADD DATE"]],
            r[index.get("TERM DATE", -1)] if "TERM DATE" in index else None,
        )
        for r in data
        if r and r[index["HCPCS"]]
    ]
    yield _noc_release(path, rows)


# -- modifiers (CPT and Level II) ------------------------------------------------------------------
def _detect_modifiers(path: Path, first: bytes) -> bool:
    return first.startswith(b"mod_code,mod_type,mod_category")


def _read_modifiers(path: Path) -> Iterator[Imported]:
    with path.open(newline="", encoding="utf-8") as handle:
        entries = {
            r["mod_code"]: Modifier(r["mod_code"], "CPT" if r["mod_type"] == "CPT" else "HCPCS")
            for r in csv.DictReader(handle)
        }
    year = year_in_name(path) or 2024
    yield Imported(
        "modifiers",
        f"{year}",
        date(year, 1, 1),
        entries,
        [path],
        note="CPT and HCPCS modifiers; the list carries no dates, the year is its release",
    )


IMPORTERS = [
    Importer("HCPCS ANWEB fixed-width", _detect_anweb_txt, _read_anweb_txt),
    Importer("HCPCS ANWEB workbook", _detect_anweb_xlsx, _read_anweb_xlsx),
    Importer("HCPCS tidied CSV", _detect_tidy, _read_tidy),
    Importer("HCPCS NOC CSV", _detect_noc_csv, _read_noc_csv),
    Importer("HCPCS NOC text", _detect_noc_txt, _read_noc_txt),
    Importer("HCPCS NOC workbook", _detect_noc_xlsx, _read_noc_xlsx),
    Importer("modifiers CSV", _detect_modifiers, _read_modifiers),
]

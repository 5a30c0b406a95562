"""Physician fee schedule RVU files: status, PC/TC, global days and bilateral indicators,
from the CMS PPRRVU CSV (preamble, wrapped header) or the tidied CSV."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from processor.codesets.cms.importers.base import (
    Imported,
    Importer,
    ImportError_,
    release_date_in_name,
)
from processor.codesets.model import FeeScheduleIndicators

_MONTHS = ["january", "april", "july", "october"]


def _detect_tidy(path: Path, first: bytes) -> bool:
    return first.startswith(b"hcpcs_code,mod,status,pctc,glob,")


def _read_tidy(path: Path) -> Iterator[Imported]:
    start = release_date_in_name(path)
    entries = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["mod"]:
                continue  # 26/TC/53 rows: the base row carries the code's indicators
            entries[row["hcpcs_code"]] = FeeScheduleIndicators(
                row["hcpcs_code"], row["status"], row["pctc"], row["glob"], row["bilat_surg"]
            )
    yield Imported("pfs", f"{start:%Y-%m}", start, entries, [path])


def _detect_cms(path: Path, first: bytes) -> bool:
    return b"National Physician Fee Schedule Relative Value File" in first


def _read_cms(path: Path) -> Iterator[Imported]:
    with path.open(newline="", encoding="latin-1") as handle:
        rows = list(csv.reader(handle))
    title = " ".join(" ".join(r) for r in rows[:3])
    m = re.search(
        r"(20\d\d) National Physician Fee Schedule Relative Value File (\w+) Release", title
    )
    if m is None or m[2].lower() not in _MONTHS:
        raise ImportError_(f"{path}: no '<year> ... Relative Value File <month> Release' title")
    start = date(int(m[1]), 3 * _MONTHS.index(m[2].lower()) + 1, 1)
    header = next((i for i, r in enumerate(rows) if r[:2] == ["HCPCS", "MOD"]), None)
    if header is None:
        raise ImportError_(f"{path}: no HCPCS,MOD header row")
    # Columns by position in the wrapped header: status 3, PC/TC 13, global 14, bilateral 19.
    entries = {}
    for number, row in enumerate(rows[header + 1 :], start=header + 2):
        if not row or not row[0].strip(" \x1a"):  # \x1a: the DOS end-of-file mark CMS leaves
            continue
        if len(row) < 20:
            continue
        if row[1].strip():
            continue
        code = row[0].strip()
        if len(code) != 5:
            raise ImportError_(f"{path}:{number}: HCPCS {code!r} is not 5 characters")
        entries[code] = FeeScheduleIndicators(
            code, row[3].strip(), row[13].strip(), row[14].strip(), row[19].strip()
        )
    yield Imported("pfs", f"{start:%Y-%m}", start, entries, [path])


IMPORTERS = [
    Importer("PFS RVU tidied CSV", _detect_tidy, _read_tidy),
    Importer("PFS RVU CMS file", _detect_cms, _read_cms),
]

"""NCCI: PTP practitioner edits (the raw CMS tab-delimited files and the tidied CSV), MUE
practitioner and DME-supplier tables (raw CMS CSV and tidied), add-on code edits."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from processor.codesets.cms.importers.base import (
    Imported,
    Importer,
    ImportError_,
    parse_date,
    release_date_in_name,
    text_lines,
)
from processor.codesets.model import AddOnCode, CodeSetKind, MueValue
from processor.codesets.ptp import PtpRow, ptp_row

_CODE = re.compile(r"^[0-9A-Z]{5}$")


def _quarter_id(start: date) -> str:
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


# -- PTP ---------------------------------------------------------------------------------------
def _detect_ptp_tidy(path: Path, first: bytes) -> bool:
    return first.startswith(b"column_1,column_2,deletion_date,modifier_indicator")


def _read_ptp_tidy(path: Path) -> Iterator[Imported]:
    start = release_date_in_name(path)

    def rows() -> Iterator[PtpRow]:
        for number, line in text_lines(path):
            if number == 1 or not line:
                continue
            parts = line.split(",", 4)
            try:
                yield ptp_row(parts[0], parts[1], None, parse_date(parts[2]), parts[3])
            except (ValueError, IndexError) as exc:
                raise ImportError_(f"{path}:{number}: {exc}") from None

    yield Imported("ncci_ptp", _quarter_id(start), start, rows(), [path])


def _detect_ptp_raw(path: Path, first: bytes) -> bool:
    rows = [line.split("\t") for line in first.decode("latin-1").splitlines()]
    data = [r for r in rows if len(r) >= 6 and _CODE.match(r[0]) and _CODE.match(r[1])]
    return len(data) >= 3 and any("Column 2" in "\t".join(r) for r in rows)


def _raw_release(path: Path) -> tuple[str, date]:
    # CMS names the quarterly files ccipra-v<major><minor>r<revision>: major 30 is 2024,
    # minor 0-3 the quarter (v302 = 2024 Q3, v322 = 2026 Q3).
    if m := re.search(r"v(\d\d)(\d)r\d", path.name):
        year, quarter = 1994 + int(m[1]), int(m[2]) + 1
        return f"{year}Q{quarter}", date(year, 3 * quarter - 2, 1)
    start = release_date_in_name(path)
    return _quarter_id(start), start


def _read_ptp_raw(path: Path) -> Iterator[Imported]:
    release_id, start = _raw_release(path)

    def rows() -> Iterator[PtpRow]:
        for number, line in text_lines(path, "latin-1"):
            parts = line.split("\t")
            if len(parts) < 6 or not _CODE.match(parts[0]) or not _CODE.match(parts[1]):
                continue  # the notice and the wrapped header
            try:
                yield ptp_row(
                    parts[0], parts[1], parse_date(parts[3]), parse_date(parts[4]), parts[5].strip()
                )
            except ValueError as exc:
                raise ImportError_(f"{path}:{number}: {exc}") from None

    yield Imported("ncci_ptp", release_id, start, rows(), [path])


# -- MUE ---------------------------------------------------------------------------------------
def _mue_value(path: Path, number: int, code: str, units: str, mai: str) -> MueValue:
    mai = mai.strip()[:1]
    if not units.strip().isdigit() or mai not in ("1", "2", "3"):
        raise ImportError_(f"{path}:{number}: MUE value {units!r} / MAI {mai!r} not understood")
    return MueValue(code, int(units), int(mai))


def _detect_mue_tidy(path: Path, first: bytes) -> bool:
    return first.startswith(b"hcpcs_code,mue_units,mue_mai")


def _read_mue_tidy(path: Path) -> Iterator[Imported]:
    start = release_date_in_name(path)
    tables: dict[str, dict[str, MueValue]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            kind = "mue_dme_supplier" if "DME" in row["mue_service"].upper() else "mue_practitioner"
            tables.setdefault(kind, {})[row["hcpcs_code"]] = _mue_value(
                path, number, row["hcpcs_code"], row["mue_units"], row["mue_mai"]
            )
    for kind, entries in tables.items():
        yield Imported(kind, f"{start:%Y-%m-%d}", start, entries, [path])  # type: ignore[arg-type]


def _detect_mue_raw(path: Path, first: bytes) -> bool:
    text = first.decode("latin-1")
    return "MUE Values" in text and "MUE Adjudication Indicator" in text


def _read_mue_raw(path: Path) -> Iterator[Imported]:
    start = release_date_in_name(path)
    text = path.read_text(encoding="latin-1")
    rows = list(csv.reader(io.StringIO(text)))
    header_index = next(
        (i for i, r in enumerate(rows) if len(r) >= 3 and "MUE Values" in r[1]), None
    )
    if header_index is None:
        raise ImportError_(f"{path}: no MUE header row")
    kind: CodeSetKind = (
        "mue_dme_supplier" if "DME" in rows[header_index][1].upper() else "mue_practitioner"
    )
    entries = {}
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if len(row) >= 3 and _CODE.match(row[0].strip()):
            entries[row[0].strip()] = _mue_value(path, offset, row[0].strip(), row[1], row[2])
    yield Imported(kind, f"{start:%Y-%m-%d}", start, entries, [path])


# -- add-on codes --------------------------------------------------------------------------------
def _detect_aoc(path: Path, first: bytes) -> bool:
    return first.startswith(b"primary_code,add_on_code,aoc_edit_type")


def _read_aoc(path: Path) -> Iterator[Imported]:
    start = release_date_in_name(path)
    primaries: dict[str, set[str]] = {}
    types: dict[str, int] = {}
    any_primary: set[str] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                kind = int(row["aoc_edit_type"])
            except ValueError:
                raise ImportError_(f"{path}:{number}: edit type {row['aoc_edit_type']!r}") from None
            code = row["add_on_code"]
            types[code] = kind
            chosen = primaries.setdefault(code, set())
            if row["primary_code"] == "CCCCC":  # CMS writes CCCCC for "any primary"
                any_primary.add(code)
            else:
                chosen.add(row["primary_code"])
    entries = {
        code: AddOnCode(code, types[code], tuple(sorted(p)), code in any_primary)
        for code, p in primaries.items()
    }
    yield Imported("add_on", f"{start:%Y-%m-%d}", start, entries, [path])


IMPORTERS = [
    Importer("NCCI PTP tidied CSV", _detect_ptp_tidy, _read_ptp_tidy),
    Importer("NCCI PTP CMS file", _detect_ptp_raw, _read_ptp_raw),
    Importer("MUE tidied CSV", _detect_mue_tidy, _read_mue_tidy),
    Importer("MUE CMS file", _detect_mue_raw, _read_mue_raw),
    Importer("NCCI add-on codes", _detect_aoc, _read_aoc),
]

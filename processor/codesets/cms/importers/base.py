"""What every importer produces, and the helpers they share."""

from __future__ import annotations

import gzip
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from processor.codesets.model import CodeSetKind

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}


class ImportError_(ValueError):
    """A file that looked like a known format but could not be read; names file and line."""


@dataclass
class Imported:
    """One release read from one file. `entries` is a dict keyed by code, or for ncci_ptp
    an iterable of packed rows (see processor.codesets.ptp)."""

    kind: CodeSetKind
    release_id: str
    effective_start: date
    entries: Any
    sources: list[Path] = field(default_factory=list)
    note: str = ""
    valid_until: date | None = None  # the end of the period the source says it covers


@dataclass(frozen=True)
class Importer:
    name: str
    detect: Callable[[Path, bytes], bool]  # the file and its first bytes (decompressed)
    read: Callable[[Path], Iterable[Imported]]


def head(path: Path, size: int = 8192) -> bytes:
    """The first bytes of a file, decompressed for .gz; for .xlsx the first sheet's first
    rows as tab-separated text (so that detection reads content, not names)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    if path.suffix == ".xlsx":
        return _xlsx_head(path)
    with path.open("rb") as handle:
        return handle.read(size)


# CMS workbooks carry print headers openpyxl cannot parse (it warns while reading rows);
# the cells are unaffected.
warnings.filterwarnings("ignore", message="Cannot parse header or footer", category=UserWarning)


def _open_workbook(path: Path) -> Any:
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _xlsx_head(path: Path, rows: int = 12) -> bytes:
    try:
        book = _open_workbook(path)
    except (zipfile.BadZipFile, OSError, KeyError):
        return b""
    try:
        sheet = book.worksheets[0]
        lines = []
        for _, row in zip(range(rows), sheet.iter_rows(values_only=True), strict=False):
            lines.append("\t".join("" if c is None else str(c) for c in row))
        return "\n".join(lines).encode()
    finally:
        book.close()


def xlsx_rows(path: Path, header_has: Iterable[str]) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
    """(header, data rows) of the first sheet, the header being the first row that has every
    name in `header_has` (CMS workbooks put disclaimers above it)."""
    wanted = set(header_has)
    book = _open_workbook(path)
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    for row in rows:
        names = [str(c).strip() if c is not None else "" for c in row]
        if wanted <= set(names):
            return names, rows
    book.close()
    raise ImportError_(f"{path}: no header row with {sorted(wanted)}")


def parse_date(value: Any) -> date | None:
    """YYYYMMDD, YYYY-MM-DD, a datetime, or empty; '*' and 99991231 mean none."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    text = str(value).strip()
    if not text or text in ("*", "99991231", "9999-12-31"):
        return None
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


def date_in_name(path: Path) -> date | None:
    """A date the file's name carries: 2024-07-01, 2024-07, Eff_07-01-2026, Jan-2021,
    April-1-2026, JAN2026, apr2025, 2026_JAN."""
    name = path.name.lower()
    if m := re.search(r"(20\d\d)-(\d\d)-(\d\d)", name):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.search(r"(\d\d)-(\d\d)-(20\d\d)", name):
        return date(int(m[3]), int(m[1]), int(m[2]))
    if m := re.search(r"(20\d\d)-(\d\d)(?!\d)", name):
        return date(int(m[1]), int(m[2]), 1)
    month_year = re.search(r"([a-z]{3})[a-z]*[-_]?(?:\d{1,2}-)?(20\d\d)", name)
    if month_year and month_year[1] in _MONTHS:
        return date(int(month_year[2]), _MONTHS[month_year[1]], 1)
    if (m := re.search(r"(20\d\d)_([a-z]{3})", name)) and m[2] in _MONTHS:
        return date(int(m[1]), _MONTHS[m[2]], 1)
    if m := re.search(r"(20\d\d)_(\d\d)_", name):
        return date(int(m[1]), int(m[2]), 1)
    return None


def release_date_in_name(path: Path) -> date:
    """The release date the file's name carries, or an error that says so."""
    found = date_in_name(path)
    if found is None:
        raise ImportError_(
            f"{path}: the release date is not in the file name (e.g. _2024-07-01, _2024-07, Eff_07-01-2026)"
        )
    return found


def year_in_name(path: Path) -> int | None:
    if m := re.search(r"(?<!\d)(20\d\d)(?!\d)", path.name):
        return int(m[1])
    if m := re.search(r"HCPC(\d\d)_", path.name, re.I):
        return 2000 + int(m[1])
    return None


def text_lines(path: Path, encoding: str = "utf-8") -> Iterable[tuple[int, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding=encoding, errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip("\r\n")

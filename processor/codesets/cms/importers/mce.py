"""CMS Medicare Code Editor (MCE) ICD-10-CM tables, as tab-separated text: the diagnosis
master (`code, start_date, end_date, flags`) and the age ranges (`age_group, start_age,
end_age, start_date, end_date`), each recognised by its header.

The MCE is cumulative: one version carries every fiscal year since ICD-10-CM began
(2015-10-01), each code with its date rows. So a release is in force from 2015-10-01 and
was published up to the end of the newest fiscal year its rows start in; a newer version
(the same start, a later end) takes its place. The release id is the version the folder or
file name carries (`cms-mce-v43.1` -> `v43.1`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from processor.codesets.cms.importers.base import Imported, Importer, ImportError_, text_lines
from processor.codesets.model import MCE_AGE_GROUPS, MceAgeRange, MceRow, mce_table

ICD10_START = date(2015, 10, 1)  # ICD-10-CM took effect; no MCE ICD-10 row starts earlier
_MASTER_HEADER = "code\tstart_date\tend_date\tflags"
_AGES_HEADER = "age_group\tstart_age\tend_age\tstart_date\tend_date"
_CODE = re.compile(r"^[A-Z][0-9A-Z]{2,6}$")
_DATE = re.compile(r"^\d{8}$")


def version_of(path: Path) -> str:
    """The MCE version in the file's or its folder's name: `v43.1`."""
    for name in (path.name, path.parent.name):
        if m := re.search(r"(?<![a-z])v(\d+(?:\.\d+)*)", name.lower()):
            return f"v{m[1]}"
    raise ImportError_(f"{path}: no MCE version in the file or folder name (e.g. cms-mce-v43.1/)")


def _date(path: Path, number: int, text: str, *, empty_ok: bool) -> date | None:
    text = text.strip()
    if not text and empty_ok:
        return None
    if not _DATE.match(text):
        raise ImportError_(f"{path}:{number}: {text!r} is not a yyyyMMdd date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ImportError_(f"{path}:{number}: {text!r} is not a date") from None


def _fiscal_year_end(on: date) -> date:
    return date(on.year + (1 if on.month >= 10 else 0), 9, 30)


def _detect_master(path: Path, first: bytes) -> bool:
    return first.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1") == _MASTER_HEADER


def _read_master(path: Path) -> Iterator[Imported]:
    release_id = version_of(path)
    rows: list[tuple[str, MceRow]] = []
    newest = ICD10_START
    for number, line in text_lines(path, "latin-1"):
        if number == 1 or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise ImportError_(
                f"{path}:{number}: expected 4 tab-separated fields, got {len(fields)}"
            )
        code, start_text, end_text, flag_text = fields
        if not _CODE.match(code):
            raise ImportError_(f"{path}:{number}: {code!r} is not an ICD-10-CM code without a dot")
        start = _date(path, number, start_text, empty_ok=False)
        assert start is not None
        end = _date(path, number, end_text, empty_ok=True)
        if end is not None and end < start:
            raise ImportError_(f"{path}:{number}: end {end} before start {start}")
        flags = tuple(sorted({f.strip().lower() for f in flag_text.split(",") if f.strip()}))
        rows.append((code, MceRow(start, end, flags)))
        newest = max(newest, start)
    if not rows:
        raise ImportError_(f"{path}: no rows below the header")
    imported = Imported(
        "mce", release_id, ICD10_START, mce_table(rows, []), [path], note="MCE diagnosis master"
    )
    imported.valid_until = _fiscal_year_end(newest)
    yield imported


def _detect_ages(path: Path, first: bytes) -> bool:
    return first.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1") == _AGES_HEADER


def _read_ages(path: Path) -> Iterator[Imported]:
    release_id = version_of(path)
    ages: list[MceAgeRange] = []
    for number, line in text_lines(path, "latin-1"):
        if number == 1 or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            raise ImportError_(
                f"{path}:{number}: expected 5 tab-separated fields, got {len(fields)}"
            )
        group = fields[0].strip().lower()
        if group not in MCE_AGE_GROUPS:
            raise ImportError_(
                f"{path}:{number}: age group {fields[0]!r} is not one of {', '.join(MCE_AGE_GROUPS)}"
            )
        if not (fields[1].strip().isdigit() and fields[2].strip().isdigit()):
            raise ImportError_(
                f"{path}:{number}: ages {fields[1]!r}, {fields[2]!r} are not whole numbers"
            )
        start = _date(path, number, fields[3], empty_ok=False)
        assert start is not None
        end = _date(path, number, fields[4], empty_ok=True)
        ages.append(MceAgeRange(group, int(fields[1]), int(fields[2]), start, end))
    missing = set(MCE_AGE_GROUPS) - {a.group for a in ages}
    if missing:
        raise ImportError_(f"{path}: no age range for {', '.join(sorted(missing))}")
    yield Imported(
        "mce", release_id, ICD10_START, mce_table([], ages), [path], note="MCE age ranges"
    )


IMPORTERS = [
    Importer("CMS MCE ICD-10-CM diagnosis master", _detect_master, _read_master),
    Importer("CMS MCE age ranges", _detect_ages, _read_ages),
]

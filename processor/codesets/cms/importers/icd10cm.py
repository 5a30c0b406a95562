"""ICD-10-CM: CMS/NCHS order files, code lists, the tabular XML (its "code first" notes are
recorded in DiagnosisCode.manifestation; they are sequencing instructions, and the edits take
manifestation status from CMS's Medicare Code Editor instead) and flat TSV tables.

Releases follow the fiscal year (October 1) with mid-year updates: a file for "April 2025"
is release FY2025-04 in force from 2025-04-01; an October or year-only file is the base
release FY<year> from October 1 of the year before.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from processor.codesets.cms.importers.base import (
    Imported,
    Importer,
    ImportError_,
    date_in_name,
    text_lines,
)
from processor.codesets.model import DiagnosisCode

_ORDER_LINE = re.compile(r"^\d{5} [A-Z0-9]{3,7} *[01] ")


def release_for(path: Path, fy_hint: int | None = None) -> tuple[str, date]:
    """(release id, effective start) from the file's name."""
    name = path.name.lower()
    stamp = date_in_name(path)
    fy = None
    if m := re.search(r"fy(20\d\d)", name) or re.search(r"fy(20\d\d)", str(path.parent).lower()):
        fy = int(m[1])
    if (
        stamp is not None
        and stamp.month != 10
        and ("jan" in name or "apr" in name or "jul" in name)
    ):
        fiscal = stamp.year + 1 if stamp.month >= 10 else stamp.year
        return f"FY{fiscal}-{stamp.month:02d}", stamp
    if fy is None:
        if stamp is not None:
            fy = stamp.year + 1 if stamp.month >= 10 else stamp.year
        elif m := re.search(r"(?<!\d)(20\d\d)(?!\d)", name):
            fy = int(m[1])
        else:
            fy = fy_hint
    if fy is None:
        raise ImportError_(f"{path}: no release year or fiscal year in the file name")
    return f"FY{fy}", date(fy - 1, 10, 1)


def _release(path: Path, entries: dict[str, DiagnosisCode]) -> Imported:
    release_id, start = release_for(path)
    return Imported("icd10cm", release_id, start, entries, [path])


# -- order file (fixed width: order 1-5, code 7-13, billable 15, short 17-76, long 78-) --------
def _detect_order(path: Path, first: bytes) -> bool:
    lines = first.decode("latin-1").splitlines()[:5]
    return bool(lines) and all(_ORDER_LINE.match(line) for line in lines if line)


def _read_order(path: Path) -> Iterator[Imported]:
    entries = {}
    for number, line in text_lines(path, "latin-1"):
        if not line.strip():
            continue
        if not _ORDER_LINE.match(line):
            raise ImportError_(f"{path}:{number}: not an order-file line")
        code = line[6:13].strip()
        entries[code] = DiagnosisCode(
            code, line[14] == "1", False, line[77:].strip() or line[16:76].strip()
        )
    yield _release(path, entries)


# -- TSV tables ---------------------------------------------------------------------------------
def _detect_tsv(path: Path, first: bytes) -> bool:
    return (
        first.startswith(b"order\tcode\tcode_dotted\t") and b"billable" in first.split(b"\n", 1)[0]
    )


def _read_tsv(path: Path) -> Iterator[Imported]:
    entries = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("level") in ("chapter", "block"):
                continue
            code = row["code"]
            description = row.get("long_description") or row.get("description") or ""
            entries[code] = DiagnosisCode(code, row["billable"] == "1", False, description)
    yield _release(path, entries)


# -- code list (one item a line; a code is billable when nothing below it is listed) -------------
def _detect_code_list(path: Path, first: bytes) -> bool:
    lines = first.decode("latin-1").splitlines()[:4]
    return path.suffix == ".txt" and len(lines) >= 3 and lines[0].strip() == "1" and "-" in lines[1]


def _read_code_list(path: Path) -> Iterator[Imported]:
    codes = [line.strip() for _, line in text_lines(path) if line.strip()]
    codes = [c for c in codes if not c.isdigit() and "-" not in c]
    ordered = sorted(set(codes))
    entries = {}
    for index, code in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else ""
        entries[code] = DiagnosisCode(code, not following.startswith(code), False, "")
    yield _release(path, entries)


# -- tabular XML ----------------------------------------------------------------------------------
def _detect_tabular(path: Path, first: bytes) -> bool:
    return b"<ICD10CM.tabular" in first


def _read_tabular(path: Path) -> Iterator[Imported]:
    entries: dict[str, DiagnosisCode] = {}

    def walk(element: ET.Element, inherited_code_first: bool) -> None:
        for diag in element.findall("diag"):
            name = (diag.findtext("name") or "").replace(".", "").strip()
            code_first = inherited_code_first or diag.find("codeFirst") is not None
            children = diag.findall("diag")
            entries[name] = DiagnosisCode(
                name, not children, code_first, (diag.findtext("desc") or "").strip()
            )
            walk(diag, code_first)

    try:
        root = ET.parse(path).getroot()  # noqa: S314
    except ET.ParseError as exc:
        raise ImportError_(f"{path}: {exc}") from None
    for chapter in root.iter("chapter"):
        for section in chapter.findall("section"):
            walk(section, False)
    # Seventh-character extensions are not <diag> elements; the order file or code list of
    # the same release carries them (the build merges the files of one release).
    yield Imported(
        "icd10cm", *release_for(path), entries, [path], note="tabular: manifestation flags"
    )


IMPORTERS = [
    Importer("ICD-10-CM order file", _detect_order, _read_order),
    Importer("ICD-10-CM TSV", _detect_tsv, _read_tsv),
    Importer("ICD-10-CM code list", _detect_code_list, _read_code_list),
    Importer("ICD-10-CM tabular XML", _detect_tabular, _read_tabular),
]


def merge(a: DiagnosisCode, b: DiagnosisCode) -> DiagnosisCode:
    """Two files of one release: a code is a manifestation if either says so; the
    description is the first non-empty one; billable is the first file's."""
    return DiagnosisCode(
        a.code, a.billable, a.manifestation or b.manifestation, a.description or b.description
    )

"""Reads a code-set directory in the project's own layout: `releases.toml` naming one CSV
file per release (see processor/codesets/sample/). The shipped sample uses it; so can a
user who keeps small custom code sets. Errors name the file, the line and the reason."""

from __future__ import annotations

import csv
import hashlib
import tomllib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from processor.codesets.model import (
    MCE_AGE_GROUPS,
    AddOnCode,
    AspPrice,
    CodeSetKind,
    CodeSetRelease,
    DiagnosisCode,
    FeeScheduleIndicators,
    MceAgeRange,
    MceRow,
    Modifier,
    MueValue,
    PlaceOfService,
    ProcedureCode,
    PtpEdit,
    ReleaseInfo,
    mce_table,
)
from processor.codesets.ptp import PtpTable
from processor.codesets.store import CodeSets
from processor.codesets.store_files import MANIFEST as STORE_MANIFEST
from processor.codesets.store_files import StoreError, load_release, read_manifest
from processor.collector import collector_paused

SAMPLE_DIR = Path(__file__).with_name("sample")
MANIFEST = "releases.toml"


class CodeSetError(ValueError):
    """A code-set file that cannot be read; the message names the file and line."""


def _date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO date: {value!r}") from None


def _flag(value: str) -> bool:
    value = value.strip().upper()
    if value not in ("Y", "N"):
        raise ValueError(f"expected Y or N, got {value!r}")
    return value == "Y"


def _required(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise ValueError(f"column {column!r} is empty")
    return value


def _hcpcs(row: dict[str, str]) -> ProcedureCode:
    return ProcedureCode(
        code=_required(row, "code"),
        add_date=_date(row.get("add_date", "")),
        term_date=_date(row.get("term_date", "")),
        short_descriptor=(row.get("short_descriptor") or "").strip() or None,
        coverage_code=(row.get("coverage_code") or "").strip() or None,
        pricing_indicator=(row.get("pricing_indicator") or "").strip() or None,
        betos=(row.get("betos") or "").strip() or None,
        noc=_flag(row.get("noc") or "N"),
    )


def _cpt(row: dict[str, str]) -> ProcedureCode:
    # No descriptor column on purpose: CPT descriptors are AMA-licensed.
    return ProcedureCode(
        code=_required(row, "code"),
        add_date=_date(row.get("add_date", "")),
        term_date=_date(row.get("term_date", "")),
    )


def _pfs(row: dict[str, str]) -> FeeScheduleIndicators:
    return FeeScheduleIndicators(
        code=_required(row, "code"),
        status=_required(row, "status"),
        pc_tc=_required(row, "pc_tc"),
        global_days=_required(row, "global_days"),
        bilateral=_required(row, "bilateral"),
    )


def _icd(row: dict[str, str]) -> DiagnosisCode:
    return DiagnosisCode(
        code=_required(row, "code").replace(".", "").upper(),
        billable=_flag(_required(row, "billable")),
        manifestation=_flag(row.get("manifestation") or "N"),
        description=(row.get("description") or "").strip(),
    )


def _mue(row: dict[str, str]) -> MueValue:
    value, mai = _required(row, "value"), _required(row, "mai")
    if not value.isdigit() or mai not in ("1", "2", "3"):
        raise ValueError(f"MUE value must be a whole number and MAI 1, 2 or 3: {value!r}, {mai!r}")
    return MueValue(code=_required(row, "code"), value=int(value), mai=int(mai))


def _ptp(row: dict[str, str]) -> PtpEdit:
    indicator = _required(row, "modifier_indicator")
    if indicator not in ("0", "1", "9"):
        raise ValueError(f"modifier_indicator must be 0, 1 or 9, got {indicator!r}")
    return PtpEdit(
        column1=_required(row, "column1"),
        column2=_required(row, "column2"),
        deletion_date=_date(row.get("deletion_date", "")),
        modifier_indicator=indicator,
    )


def _add_on(row: dict[str, str]) -> AddOnCode:
    kind = _required(row, "edit_type")
    if kind not in ("1", "2", "3"):
        raise ValueError(f"edit_type must be 1, 2 or 3, got {kind!r}")
    primaries = tuple(p for p in (row.get("primaries") or "").split("|") if p)
    return AddOnCode(
        _required(row, "code"), int(kind), primaries, _flag(row.get("any_primary") or "N")
    )


def _asp(row: dict[str, str]) -> AspPrice:
    return AspPrice(
        _required(row, "code"), _required(row, "dosage"), _required(row, "payment_limit")
    )


def _modifier(row: dict[str, str]) -> Modifier:
    return Modifier(code=_required(row, "code"), kind=(row.get("kind") or "").strip())


def _pos(row: dict[str, str]) -> PlaceOfService:
    return PlaceOfService(
        code=_required(row, "code").zfill(2), name=(row.get("name") or "").strip()
    )


def _mce_row(row: dict[str, str]) -> tuple[str, MceRow]:
    start = _date(_required(row, "start_date"))
    assert start is not None
    flags = tuple(
        sorted({f.strip().lower() for f in (row.get("flags") or "").split("|") if f.strip()})
    )
    code = _required(row, "code").replace(".", "").upper()
    return code, MceRow(start, _date(row.get("end_date") or ""), flags)


def _mce_age(row: dict[str, str]) -> MceAgeRange:
    group = _required(row, "age_group").lower()
    if group not in MCE_AGE_GROUPS:
        raise ValueError(f"age_group must be one of {', '.join(MCE_AGE_GROUPS)}, got {group!r}")
    start = _date(_required(row, "start_date"))
    assert start is not None
    low, high = _required(row, "start_age"), _required(row, "end_age")
    if not (low.isdigit() and high.isdigit()):
        raise ValueError(f"ages must be whole numbers: {low!r}, {high!r}")
    return MceAgeRange(group, int(low), int(high), start, _date(row.get("end_date") or ""))


def _read_mce(
    directory: Path, spec: dict[str, object], where: str, path: Path
) -> dict[str, object]:
    """The MCE: `file` holds code, start_date, end_date, flags (separated by |), one row per
    period; `age_ranges` the file of age_group, start_age, end_age, start_date, end_date."""
    rows: list[tuple[str, MceRow]] = []
    for line_no, row in _rows(path):
        try:
            rows.append(_mce_row(row))
        except ValueError as exc:
            raise CodeSetError(f"{path}:{line_no}: {exc}") from None
    ages: list[MceAgeRange] = []
    if "age_ranges" in spec:
        age_path = directory / str(spec["age_ranges"])
        if not age_path.is_file():
            raise CodeSetError(f"{where}: file {age_path} does not exist")
        for line_no, row in _rows(age_path):
            try:
                ages.append(_mce_age(row))
            except ValueError as exc:
                raise CodeSetError(f"{age_path}:{line_no}: {exc}") from None
    return dict(mce_table(rows, ages))


_READERS: dict[CodeSetKind, Callable[[dict[str, str]], object]] = {
    "hcpcs": _hcpcs,
    "cpt": _cpt,
    "pfs": _pfs,
    "icd10cm": _icd,
    "ncci_ptp": _ptp,
    "mue_practitioner": _mue,
    "mue_dme_supplier": _mue,
    "modifiers": _modifier,
    "place_of_service": _pos,
    "add_on": _add_on,
    "asp_pricing": _asp,
    "mce": _mce_age,  # read by _read_mce
}  # the other kinds come from the CMS importers (processor.codesets.cms.importers)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, row


def _read_release(directory: Path, spec: dict[str, object], index: int) -> CodeSetRelease:
    where = f"{directory / MANIFEST}: release #{index + 1}"
    kind = spec.get("kind")
    if kind not in _READERS:
        raise CodeSetError(f"{where}: kind {kind!r} is not one of {', '.join(_READERS)}")
    for key in ("release_id", "effective_start", "file"):
        if key not in spec:
            raise CodeSetError(f"{where}: missing {key!r}")
    start = spec["effective_start"]
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            raise CodeSetError(f"{where}: effective_start {start!r} is not an ISO date") from None
    if not isinstance(start, date):
        raise CodeSetError(f"{where}: effective_start must be a date")
    path = directory / str(spec["file"])
    if not path.is_file():
        raise CodeSetError(f"{where}: file {path} does not exist")
    valid_until = spec.get("valid_until")
    if isinstance(valid_until, str):
        valid_until = date.fromisoformat(valid_until)
    info = ReleaseInfo(
        valid_until=valid_until if isinstance(valid_until, date) else None,
        kind=kind,
        release_id=str(spec["release_id"]),
        effective_start=start,
        effective_end=None,
        source=path.name,
        checksum=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    if kind == "mce":
        return CodeSetRelease(info=info, entries=_read_mce(directory, spec, where, path))
    read = _READERS[kind]
    entries: dict[str, object] = {}
    ptp_rows: list[PtpEdit] = []
    for line_no, row in _rows(path):
        try:
            entry = read(row)
        except ValueError as exc:
            raise CodeSetError(f"{path}:{line_no}: {exc}") from None
        if isinstance(entry, PtpEdit):
            ptp_rows.append(entry)
        else:
            entries[entry.code] = entry  # type: ignore[attr-defined]
    if kind == "ncci_ptp":
        return CodeSetRelease(info=info, entries=PtpTable.from_edits(ptp_rows))
    return CodeSetRelease(info=info, entries=entries)


def load_codesets(directory: Path | str | None = None) -> CodeSets:
    """Load code sets: a store built by `codesets build` (manifest.json), a directory in
    the sample layout (releases.toml), or by default the shipped sample release."""
    root = Path(directory) if directory is not None else SAMPLE_DIR
    if (root / STORE_MANIFEST).is_file():
        return load_store(root)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise CodeSetError(
            f"{root}: neither {STORE_MANIFEST} (a store from `codesets build`) nor {MANIFEST}"
        )
    try:
        document = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CodeSetError(f"{manifest}: {exc}") from None
    specs = document.get("release")
    if not isinstance(specs, list) or not specs:
        raise CodeSetError(f"{manifest}: no [[release]] entries")
    return CodeSets(_read_release(root, spec, i) for i, spec in enumerate(specs))


def load_store(store: Path, *, verify: bool = True) -> CodeSets:
    try:
        manifest = read_manifest(store)
        with collector_paused():
            return CodeSets(
                load_release(store, entry, verify=verify) for entry in manifest["releases"]
            )
    except StoreError as exc:
        raise CodeSetError(str(exc)) from None

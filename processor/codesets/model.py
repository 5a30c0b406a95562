"""Code-set facts and releases: the interface every importer produces.

A release is one published version of one kind of code set (HCPCS Level II July 2024,
ICD-10-CM FY2025, NCCI PTP 2024 Q3 ...). It is in force from its effective start until the
next release of the same kind starts. Inside a release, a code has its own add and
termination dates, and a PTP edit its deletion date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Generic, Literal, NamedTuple, TypeVar, get_args

CodeSetKind = Literal[
    "hcpcs",
    "hcpcs_noc",
    "cpt",
    "rbcs",
    "pfs",
    "icd10cm",
    "ncci_ptp",
    "mue_practitioner",
    "mue_dme_supplier",
    "add_on",
    "modifiers",
    "hcpcs_modifiers",
    "place_of_service",
    "asp_pricing",
    "asp_crosswalk",
    "mce",
]
CODESET_KINDS: tuple[CodeSetKind, ...] = get_args(CodeSetKind)


# Kinds CMS publishes every quarter; the others are lists without a period (RBCS carries
# its own dates, place-of-service and modifier lists are undated).
_CADENCE_MONTHS = {
    "hcpcs": 3,
    "hcpcs_noc": 3,
    "hcpcs_modifiers": 3,
    "pfs": 3,
    "ncci_ptp": 3,
    "mue_practitioner": 3,
    "mue_dme_supplier": 3,
    "add_on": 3,
    "asp_pricing": 3,
    "asp_crosswalk": 3,
}


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    kind: CodeSetKind
    release_id: str
    effective_start: date
    effective_end: date | None  # the day before the next release of the kind starts
    source: str  # file name(s) the release was read from
    checksum: str  # sha256 of that (first) file
    sources: tuple[tuple[str, str], ...] = ()  # every source file and its sha256
    note: str = ""
    partial: bool = False  # an excerpt: listed, never used to answer a lookup
    valid_until: date | None = None  # the end of the period the release was published for

    def nominal_end(self) -> date | None:
        """The last day this release was published to cover: `valid_until` when the source
        says so, else its kind's publishing cadence (None for lists without one)."""
        if self.valid_until is not None:
            return self.valid_until
        start = self.effective_start
        if self.kind == "icd10cm":  # fiscal year, October 1 to September 30
            return date(start.year + (1 if start.month >= 10 else 0), 9, 30)
        months = _CADENCE_MONTHS.get(self.kind)
        if months is None:
            return None
        month = start.month - 1 + months
        return date(start.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)

    def covers(self, on: date) -> bool:
        return self.effective_start <= on and (
            self.effective_end is None or on <= self.effective_end
        )


CodeStatusValue = Literal["active", "not_yet_effective", "terminated", "unknown"]


class ProcedureCode(NamedTuple):
    """A CPT (Level I) or HCPCS Level II code as one release describes it."""

    code: str
    add_date: date | None
    term_date: date | None  # last day the code is valid
    short_descriptor: str | None = None  # None for CPT: AMA text is never shipped
    coverage_code: str | None = None  # HCPCS Level II Medicare coverage code
    pricing_indicator: str | None = None  # HCPCS Level II pricing indicator
    betos: str | None = None
    noc: bool = False
    action_code: str | None = None

    def status_on(self, on: date) -> Literal["active", "not_yet_effective", "terminated"]:
        if self.add_date is not None and on < self.add_date:
            return "not_yet_effective"
        if self.term_date is not None and on > self.term_date:
            return "terminated"
        return "active"


class FeeScheduleIndicators(NamedTuple):
    """Physician fee schedule indicators (RVU file)."""

    code: str
    status: str
    pc_tc: str
    global_days: str
    bilateral: str


class DiagnosisCode(NamedTuple):
    code: str  # without the dot
    billable: bool
    manifestation: bool  # tabular "code first" note (not used by edits: see MceCode)
    description: str


# CMS Medicare Code Editor (MCE) diagnosis attributes. The MCE tables are cumulative and
# date-effective: one release carries every fiscal year since ICD-10-CM began, each code with
# up to a few date rows, each row a period in which the code is valid and its flags.
MCE_AGE_GROUPS = ("newborn", "pediatric", "maternity", "adult")
MCE_AGE_RANGES_KEY = "#age_ranges"  # the release's age ranges, beside the codes


class MceRow(NamedTuple):
    start: date
    end: date | None  # last day of the period; None: open
    flags: tuple[str, ...]  # lower case, sorted: "female", "manifestation", "newborn", ...

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)

    def distance(self, on: date) -> int:
        """Days between `on` and this period (0 inside it)."""
        if on < self.start:
            return (self.start - on).days
        if self.end is not None and on > self.end:
            return (on - self.end).days
        return 0


class MceCode(NamedTuple):
    """A diagnosis code's MCE rows, in date order (the code is valid only inside them)."""

    code: str  # without the dot
    rows: tuple[MceRow, ...]

    def row_on(self, on: date) -> MceRow | None:
        return next((row for row in self.rows if row.covers(on)), None)

    def nearest(self, on: date) -> MceRow:
        """The row covering `on`, else the row whose period is nearest to it."""
        return min(self.rows, key=lambda row: row.distance(on))


class MceAgeRange(NamedTuple):
    group: str  # one of MCE_AGE_GROUPS
    low: int  # inclusive, years
    high: int  # inclusive, years
    start: date
    end: date | None

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


def mce_table(
    rows: list[tuple[str, MceRow]], ages: list[MceAgeRange]
) -> dict[str, MceCode | tuple[MceAgeRange, ...]]:
    """The entries of an MCE release from its rows (any order) and age ranges."""
    by_code: dict[str, list[MceRow]] = {}
    for code, row in rows:
        by_code.setdefault(code, []).append(row)
    table: dict[str, MceCode | tuple[MceAgeRange, ...]] = {
        code: MceCode(code, tuple(sorted(items))) for code, items in by_code.items()
    }
    if ages:
        table[MCE_AGE_RANGES_KEY] = tuple(sorted(ages, key=lambda a: (a.group, a.start)))
    return table


class MueValue(NamedTuple):
    code: str
    value: int
    mai: int


class PtpEdit(NamedTuple):
    column1: str
    column2: str
    deletion_date: date | None  # None: active
    modifier_indicator: str  # "0", "1" or "9"
    effective_date: date | None = None  # None: not in the source (tidied files)

    def active_on(self, on: date) -> bool:
        if self.effective_date is not None and on < self.effective_date:
            return False
        return self.deletion_date is None or on <= self.deletion_date


class RbcsClass(NamedTuple):
    """CMS Restructured BETOS classification of a CPT or HCPCS code, with its dates."""

    code: str
    category: str
    subcategory: str
    family: str
    add_date: date | None
    end_date: date | None


class AddOnCode(NamedTuple):
    """NCCI add-on code edit. Type 1: only the listed primaries. Type 2: any primary
    (CMS lists none, "CCCCC"). Type 3: the listed primaries and others the contractor
    accepts ("CCCCC" beside them)."""

    code: str
    edit_type: int
    primaries: tuple[str, ...]
    any_primary: bool = False  # the file has a "CCCCC" row for the code


class AspPrice(NamedTuple):
    code: str
    dosage: str  # the HCPCS code dosage, e.g. "10 MG"
    payment_limit: str


class NdcCrosswalk(NamedTuple):
    code: str
    ndc: str  # 11 digits, no hyphens
    dosage: str
    bill_units: str  # HCPCS billing units per NDC package item
    drug_name: str


class Modifier(NamedTuple):
    code: str
    kind: str


class PlaceOfService(NamedTuple):
    code: str
    name: str


T = TypeVar("T")


class Lookup(NamedTuple, Generic[T]):
    """What a code set said: the entry (or None) and the release it came from (or None when
    no release of that kind is loaded for the date)."""

    value: T | None
    release: ReleaseInfo | None


@dataclass(slots=True)
class CodeSetRelease:
    """One release and its table: a dict keyed by code, or (PTP) a PtpTable."""

    info: ReleaseInfo
    entries: Any = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)


K = TypeVar("K")
V = TypeVar("V")
_UNSEEN: Any = object()


def release_table(
    tables: dict[int, tuple[CodeSetRelease, dict[K, V]]], release: CodeSetRelease
) -> dict[K, V]:
    """The table `tables` keeps for `release` (what was worked out per code in it), empty the
    first time. The entry keeps the release alive, so its id is not reused while the entry
    is there; past 64 releases the tables start over."""
    found = tables.get(id(release))
    if found is None or found[0] is not release:
        if len(tables) >= 64:
            tables.clear()
        found = tables[id(release)] = (release, {})
    return found[1]


def kept(table: dict[K, V], key: K, compute: Callable[[], V], limit: int) -> V:
    """`table[key]`, worked out by `compute` the first time it is asked for (past `limit`
    entries the table starts over: hostile input cannot grow it without bound)."""
    found = table.get(key, _UNSEEN)
    if found is _UNSEEN:
        if len(table) >= limit:
            table.clear()
        found = table[key] = compute()
    return found

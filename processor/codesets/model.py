"""Code-set facts and releases: the interface every importer produces.

A release is one published version of one kind of code set (HCPCS Level II July 2024,
ICD-10-CM FY2025, NCCI PTP 2024 Q3 ...). It is in force from its effective start until the
next release of the same kind starts. Inside a release, a code has its own add and
termination dates, and a PTP edit its deletion date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Generic, Literal, NamedTuple, TypeVar

CodeSetKind = Literal[
    "hcpcs",
    "cpt",
    "pfs",
    "icd10cm",
    "ncci_ptp",
    "mue_practitioner",
    "mue_dme_supplier",
    "modifiers",
    "place_of_service",
]
CODESET_KINDS: tuple[CodeSetKind, ...] = (
    "hcpcs",
    "cpt",
    "pfs",
    "icd10cm",
    "ncci_ptp",
    "mue_practitioner",
    "mue_dme_supplier",
    "modifiers",
    "place_of_service",
)


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    kind: CodeSetKind
    release_id: str
    effective_start: date
    effective_end: date | None  # the day before the next release of the kind starts
    source: str  # file name the release was read from
    checksum: str  # sha256 of that file

    def covers(self, on: date) -> bool:
        return self.effective_start <= on and (
            self.effective_end is None or on <= self.effective_end
        )


@dataclass(frozen=True, slots=True)
class ProcedureCode:
    """A CPT (Level I) or HCPCS Level II code as one release describes it."""

    code: str
    add_date: date | None
    term_date: date | None  # last day the code is valid
    short_descriptor: str | None = None  # None for CPT: AMA text is never shipped
    coverage_code: str | None = None  # HCPCS Level II Medicare coverage code
    pricing_indicator: str | None = None  # HCPCS Level II pricing indicator
    betos: str | None = None
    noc: bool = False

    def status_on(self, on: date) -> Literal["active", "not_yet_effective", "terminated"]:
        if self.add_date is not None and on < self.add_date:
            return "not_yet_effective"
        if self.term_date is not None and on > self.term_date:
            return "terminated"
        return "active"


@dataclass(frozen=True, slots=True)
class FeeScheduleIndicators:
    """Physician fee schedule indicators (RVU file)."""

    code: str
    status: str
    pc_tc: str
    global_days: str
    bilateral: str


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    code: str  # without the dot
    billable: bool
    manifestation: bool
    description: str


@dataclass(frozen=True, slots=True)
class MueValue:
    code: str
    value: int
    mai: int


@dataclass(frozen=True, slots=True)
class PtpEdit:
    column1: str
    column2: str
    deletion_date: date | None  # None: active
    modifier_indicator: str  # "0", "1" or "9"

    def active_on(self, on: date) -> bool:
        return self.deletion_date is None or on <= self.deletion_date


@dataclass(frozen=True, slots=True)
class Modifier:
    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class PlaceOfService:
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
    """One release and its table, keyed by code (PTP: by column-1 code)."""

    info: ReleaseInfo
    entries: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

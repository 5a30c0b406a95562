"""Diagnosis attributes from CMS's Medicare Code Editor (MCE) by date of service, with the
policy for a date the MCE in force does not cover.

A code's attributes (age group, sex, manifestation, external cause ...) are the flags of
its MCE row covering the date. When no row covers it (a date past the newest MCE fiscal year
or before the first, or a code not valid that day), the flags come from the code's nearest
row and the evidence says so: these attributes change rarely (P codes lost the newborn flag
once, in FY2017). A code absent from the MCE has no attributes (DX-INVALID judges it); no
MCE loaded at all means the edits cannot judge, which they report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from processor.codesets.model import (
    MCE_AGE_GROUPS,
    MCE_AGE_RANGES_KEY,
    CodeSetRelease,
    MceAgeRange,
    MceCode,
    MceRow,
    kept,
    release_table,
)
from processor.codesets.store import CodeSets

# The last day CMS's MCE carried sex flags: CMS dropped the sex-conflict edit with FY2025.
LAST_SEX_EDIT_DAY = date(2024, 9, 30)


def period_text(start: date, end: date | None) -> str:
    return f"{start} to {end}" if end is not None else f"from {start}"


@dataclass(frozen=True, slots=True)
class DiagnosisFacts:
    code: str
    flags: frozenset[str]
    release_id: str
    row: MceRow
    nearest: str  # why the flags come from the nearest period ("" when the MCE covers `on`)
    # The MCE age groups among the flags, in the order AGE-CONFLICT checks them.
    age_groups: tuple[str, ...] = ()

    def evidence(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "release": f"MCE {self.release_id}",
            "period": period_text(self.row.start, self.row.end),
            "flags": sorted(self.flags),
        }
        if self.nearest:
            found["taken_from_nearest"] = self.nearest
        return found


class _Missing:
    """No MCE release is loaded: the attribute edits cannot judge."""

    def __repr__(self) -> str:
        return "NO_MCE"


NO_MCE = _Missing()
MISSING_TABLE = "the CMS Medicare Code Editor diagnosis table (kind mce) is not loaded"


def mce_loaded(codesets: CodeSets) -> bool:
    return codesets.newest("mce") is not None


def diagnosis_facts(codesets: CodeSets, code: str, on: date) -> DiagnosisFacts | _Missing | None:
    """The MCE attributes of `code` on `on`: facts, None (the code is not in the MCE), or
    NO_MCE (no MCE release loaded).

    The facts depend on the date only through the MCE release, the code's row that covers
    the date and whether the date is past the release's period, so they are memoised per
    release, code as written and row; only a date no row covers (its evidence names the
    date) is worked out per date."""
    release = codesets.nearest_release("mce", on)
    if release is None:
        return NO_MCE
    found = _code_facts(release, code)
    if found is None:
        return None
    return found.on(on)


def any_period_flags(release: CodeSetRelease, code: str) -> frozenset[str]:
    """The flags of every row of `code` (as written) in an MCE release, whatever its period:
    a superset of the flags of the facts `diagnosis_facts` gives for any date it takes from
    that release (empty when the code is not in the MCE). Worked out once per release and
    code, for the claim facts that select the diagnosis edits; `any_period_flags_table`
    holds the answers given so far."""

    def flags() -> frozenset[str]:
        facts = _code_facts(release, code)
        return _NO_FLAGS if facts is None else facts.all_flags

    return kept(any_period_flags_table(release), code, flags, _MAX_CODES)


def any_period_flags_table(release: CodeSetRelease) -> dict[str, frozenset[str]]:
    """The codes of `release` asked about so far and their `any_period_flags`: read it, and
    call `any_period_flags` for a code it lacks."""
    return release_table(_FLAGS_BY_RELEASE, release)


_FLAGS_BY_RELEASE: dict[int, tuple[CodeSetRelease, dict[str, frozenset[str]]]] = {}


def _code_facts(release: CodeSetRelease, code: str) -> _CodeFacts | None:
    def facts() -> _CodeFacts | None:
        entry = release.entries.get(code.replace(".", "").upper())
        return None if entry is None else _CodeFacts(release, entry)

    return kept(release_table(_BY_RELEASE, release), code, facts, _MAX_CODES)


_NO_FLAGS: frozenset[str] = frozenset()


class _CodeFacts:
    """One code (as written) in one MCE release: its rows, and the facts of each row worked
    out the first time a date it covers is asked about (once for a date within the release's
    period, once for a date past it); the answer for each date asked about is kept too
    (bounded)."""

    __slots__ = ("all_flags", "by_day", "end", "entry", "facts", "release")

    def __init__(self, release: CodeSetRelease, entry: MceCode) -> None:
        self.release = release
        self.entry = entry
        self.all_flags = frozenset(flag for row in entry.rows for flag in row.flags)
        self.end = release.info.nominal_end()
        self.facts: dict[tuple[int, bool], DiagnosisFacts] = {}
        self.by_day: dict[date, DiagnosisFacts] = {}

    def on(self, on: date) -> DiagnosisFacts:
        """The facts of the row covering `on`; when none does, those of the nearest row with
        the date named."""
        found = self.by_day.get(on)
        if found is None:
            if len(self.by_day) >= _MAX_DAYS_PER_CODE:
                self.by_day.clear()
            found = self.by_day[on] = self._on(on)
        return found

    def _on(self, on: date) -> DiagnosisFacts:
        rows = self.entry.rows
        for index, row in enumerate(rows):
            if row.start <= on and (row.end is None or on <= row.end):
                past = self.end is not None and on > self.end
                found = self.facts.get((index, past))
                if found is None:
                    found = self.facts[(index, past)] = _facts(
                        self.release, self.entry.code, row, past
                    )
                return found
        return _facts(
            self.release, self.entry.code, rows[0] if len(rows) == 1 else self.entry.nearest(on), on
        )


_MAX_DAYS_PER_CODE = 1024
_MAX_CODES = 200_000  # codes as written, per release (hostile input cannot grow it unbounded)
_BY_RELEASE: dict[int, tuple[CodeSetRelease, dict[str, _CodeFacts | None]]] = {}


def _facts(
    release: CodeSetRelease, code: str, row: MceRow, past_end_or_day: bool | date
) -> DiagnosisFacts:
    """The facts of the code's `row`; `past_end_or_day` is whether the date asked about is
    past the release's period, or the date when no row covers it."""
    nearest = ""
    if isinstance(past_end_or_day, date):
        nearest = f"no MCE row of {code} covers {past_end_or_day}: flags of its nearest period"
    elif past_end_or_day:
        end = release.info.nominal_end()
        nearest = f"MCE {release.info.release_id} was published to {end}: flags of its last period"
    flags = frozenset(row.flags)
    groups = tuple(group for group in MCE_AGE_GROUPS if group in flags)
    return DiagnosisFacts(code, flags, release.info.release_id, row, nearest, groups)


def age_range(codesets: CodeSets, group: str, on: date) -> MceAgeRange | None:
    """CMS's age range of an MCE age group on a date (the nearest one when none covers it).
    Memoised per group and date."""
    return codesets.memoised(("mce age", group, on), lambda: _age_range(codesets, group, on))


def _age_range(codesets: CodeSets, group: str, on: date) -> MceAgeRange | None:
    release = codesets.nearest_release("mce", on)
    if release is None:
        return None
    ranges = [r for r in release.entries.get(MCE_AGE_RANGES_KEY, ()) if r.group == group]
    covering = [r for r in ranges if r.covers(on)]
    if covering:
        return covering[0]
    return min(
        ranges,
        key=lambda r: (r.start - on).days if on < r.start else (on - (r.end or on)).days,
        default=None,
    )


def mce_valid_on(codesets: CodeSets, code: str, on: date) -> tuple[bool, str] | None:
    """Whether the MCE lists `code` as a valid ICD-10-CM code on `on`, and the release id;
    None when no MCE release in force covers the date (past its newest fiscal year too)."""
    release = codesets.release_for("mce", on)
    if release is None or codesets.stale_on(("mce",), on):
        return None
    entry = release.entries.get(code.replace(".", "").upper())
    return (entry is not None and entry.row_on(on) is not None, release.info.release_id)

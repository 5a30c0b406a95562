"""CodeSets: every loaded release of every kind, answering "what did the code sets say
about this code on this date". Lookups pick the releases in force on the date (worked out
once per date and kept: a `Day`), then a dict lookup inside the release: constant time per
line. A CodeSets never changes once built (a new release makes a new CodeSets), so what is
worked out per date, and what callers memoise per `Day.key`, stays true for its lifetime."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, TypeVar, cast

from processor.codesets.model import (
    MCE_AGE_RANGES_KEY,
    AddOnCode,
    AspPrice,
    CodeSetKind,
    CodeSetRelease,
    DiagnosisCode,
    FeeScheduleIndicators,
    Lookup,
    MceAgeRange,
    MceCode,
    Modifier,
    MueValue,
    NdcCrosswalk,
    PlaceOfService,
    ProcedureCode,
    PtpEdit,
    RbcsClass,
    ReleaseInfo,
)

T = TypeVar("T")
# Dates of service worth keeping a Day for: a few years of dates is a few thousand entries;
# past this many the cache starts over rather than grow without bound.
_MAX_DAYS = 20_000
# Derived per-code facts kept in `CodeSets.memo`: codes in use times release combinations.
_MAX_MEMO = 500_000
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Day:
    """The releases in force on one date, and what follows from them alone.

    `key` names the combination of releases: two dates with the same key get the same answer
    from every lookup, so per-code facts can be memoised by (code, key)."""

    on: date
    releases: dict[CodeSetKind, CodeSetRelease]
    key: int
    stale: dict[str, ReleaseInfo]  # kinds whose release in force was published for earlier


class CodeSets:
    def __init__(self, releases: Iterable[CodeSetRelease]) -> None:
        by_kind: dict[CodeSetKind, list[CodeSetRelease]] = {}
        self.partial: list[CodeSetRelease] = []
        for release in releases:
            if release.info.partial:
                self.partial.append(release)  # listed, never in force
                continue
            by_kind.setdefault(release.info.kind, []).append(release)
        self._releases: dict[CodeSetKind, list[CodeSetRelease]] = {}
        self._starts: dict[CodeSetKind, list[date]] = {}
        for kind, items in by_kind.items():
            # Releases that start on the same day (cumulative tables such as the MCE) are
            # ordered by the period they were published for: the later one is in force.
            items.sort(key=lambda r: (r.info.effective_start, r.info.nominal_end() or date.max))
            for release in items:
                release.info = replace(release.info, effective_end=None)
            # Each release ends the day before the next release of its kind starts.
            for current, following in itertools.pairwise(items):
                end = following.info.effective_start - timedelta(days=1)
                current.info = replace(current.info, effective_end=end)
            self._releases[kind] = items
            self._starts[kind] = [r.info.effective_start for r in items]
        self._days: dict[date, Day] = {}
        self._day_keys: dict[tuple[int, ...], int] = {}
        self._versions: dict[tuple[date, ...], dict[str, str]] = {}
        self.memo: dict[Hashable, Any] = {}  # see `memoised`

    def memoised(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A fact derived from these code sets alone, worked out by `compute` the first time
        `key` is asked for and kept (bounded: past the limit the memo starts over). The key
        must name everything the fact depends on: a code, a `Day.key`, a release."""
        found = self.memo.get(key, _MISSING)
        if found is _MISSING:
            if len(self.memo) >= _MAX_MEMO:
                self.memo.clear()
            found = self.memo[key] = compute()
        return cast(T, found)

    # -- dates ------------------------------------------------------------------------------
    def day(self, on: date) -> Day:
        """The releases in force on `on` (worked out once per date)."""
        found = self._days.get(on)
        if found is None:
            found = self._make_day(on)
        return found

    def _make_day(self, on: date) -> Day:
        releases: dict[CodeSetKind, CodeSetRelease] = {}
        for kind, starts in self._starts.items():
            index = bisect.bisect_right(starts, on) - 1
            if index >= 0:
                releases[kind] = self._releases[kind][index]
        stale: dict[str, ReleaseInfo] = {}
        for kind, release in releases.items():
            end = release.info.nominal_end()
            if end is not None and on > end:
                stale[kind] = release.info
        identity = tuple(id(r) for r in releases.values())
        key = self._day_keys.setdefault(identity, len(self._day_keys))
        if len(self._days) >= _MAX_DAYS:
            self._days.clear()
        day = self._days[on] = Day(on, releases, key, stale)
        return day

    # -- releases -------------------------------------------------------------------------
    def all_releases(self) -> list[CodeSetRelease]:
        """Every release, the partial (excerpt) ones included."""
        return [r for items in self._releases.values() for r in items] + self.partial

    def find(self, kind: str, release_id: str) -> CodeSetRelease | None:
        return next(
            (
                r
                for r in self.all_releases()
                if r.info.kind == kind and r.info.release_id == release_id
            ),
            None,
        )

    def releases(self) -> list[ReleaseInfo]:
        return [r.info for items in self._releases.values() for r in items]

    def kinds(self) -> list[CodeSetKind]:
        return list(self._releases)

    def release_for(self, kind: CodeSetKind, on: date) -> CodeSetRelease | None:
        """The release of `kind` in force on `on`. A date past the newest release uses the
        newest (the caller can tell from `info.effective_end` and `newest`); a date before
        the first release has none."""
        found = self._days.get(on)
        if found is None:
            found = self._make_day(on)
        return found.releases.get(kind)

    def stale_on(self, kinds: Iterable[CodeSetKind], on: date) -> dict[str, ReleaseInfo]:
        """The kinds whose release in force on `on` was published for an earlier period:
        the date is past the newest release, or falls in a gap between two releases."""
        stale = self.day(on).stale
        return {kind: stale[kind] for kind in kinds if kind in stale}

    def with_release(self, release: CodeSetRelease) -> CodeSets:
        """A new CodeSets with `release` added (replacing one of the same kind and id)."""
        kept = [
            r
            for r in self.all_releases()
            if (r.info.kind, r.info.release_id) != (release.info.kind, release.info.release_id)
        ]
        return CodeSets([*kept, release])

    def nearest_release(self, kind: CodeSetKind, on: date) -> CodeSetRelease | None:
        """The release in force on `on`, else (a date before every release of the kind) the
        first one; None when no release of the kind is loaded. For facts that rarely change,
        taken from the nearest release when none is in force (the caller says so)."""
        in_force = self.release_for(kind, on)
        if in_force is not None:
            return in_force
        items = self._releases.get(kind)
        return items[0] if items else None

    def newest(self, kind: CodeSetKind) -> ReleaseInfo | None:
        items = self._releases.get(kind)
        return items[-1].info if items else None

    def _lookup(self, kind: CodeSetKind, key: str, on: date, _t: type[T]) -> Lookup[T]:
        release = self.release_for(kind, on)
        if release is None:
            return Lookup(None, None)
        return Lookup(cast("T | None", release.entries.get(key)), release.info)

    # -- lookups ----------------------------------------------------------------------------
    def hcpcs(self, code: str, on: date) -> Lookup[ProcedureCode]:
        return self._lookup("hcpcs", code, on, ProcedureCode)

    def cpt(self, code: str, on: date) -> Lookup[ProcedureCode]:
        return self._lookup("cpt", code, on, ProcedureCode)

    def fee_schedule(self, code: str, on: date) -> Lookup[FeeScheduleIndicators]:
        return self._lookup("pfs", code, on, FeeScheduleIndicators)

    def noc(self, code: str, on: date) -> Lookup[ProcedureCode]:
        """The code on the NOC list in force (codes that need a description)."""
        return self._lookup("hcpcs_noc", code, on, ProcedureCode)

    def rbcs(self, code: str, on: date) -> Lookup[RbcsClass]:
        return self._lookup("rbcs", code, on, RbcsClass)

    def add_on(self, code: str, on: date) -> Lookup[AddOnCode]:
        return self._lookup("add_on", code, on, AddOnCode)

    def asp_price(self, code: str, on: date) -> Lookup[AspPrice]:
        return self._lookup("asp_pricing", code, on, AspPrice)

    def ndc_crosswalk(self, code: str, on: date) -> Lookup[tuple[NdcCrosswalk, ...]]:
        return self._lookup("asp_crosswalk", code, on, tuple)

    def diagnosis(self, code: str, on: date) -> Lookup[DiagnosisCode]:
        return self._lookup("icd10cm", code.replace(".", "").upper(), on, DiagnosisCode)

    def mce(self, code: str, on: date) -> Lookup[MceCode]:
        """The code's CMS Medicare Code Editor rows (every period; see MceCode.row_on)."""
        return self._lookup("mce", code.replace(".", "").upper(), on, MceCode)

    def mce_age_ranges(self, on: date) -> Lookup[tuple[MceAgeRange, ...]]:
        return self._lookup("mce", MCE_AGE_RANGES_KEY, on, tuple)

    def mue(self, code: str, on: date, *, dme_supplier: bool = False) -> Lookup[MueValue]:
        kind: CodeSetKind = "mue_dme_supplier" if dme_supplier else "mue_practitioner"
        return self._lookup(kind, code, on, MueValue)

    def modifier(self, code: str, on: date) -> Lookup[Modifier]:
        return self._lookup("modifiers", code, on, Modifier)

    def hcpcs_modifier(self, code: str, on: date) -> Lookup[Modifier]:
        """A Level II modifier in the HCPCS release in force (ANWEB files)."""
        return self._lookup("hcpcs_modifiers", code, on, Modifier)

    def place_of_service(self, code: str, on: date) -> Lookup[PlaceOfService]:
        return self._lookup("place_of_service", code, on, PlaceOfService)

    def ptp(self, column1: str, column2: str, on: date) -> Lookup[PtpEdit]:
        """The PTP edit for the pair in force on `on` (see `ptp_in_force`)."""
        release = self.release_for("ncci_ptp", on)
        if release is None:
            return Lookup(None, None)
        key = ("ptp rows", id(release), column1, column2)
        rows = self.memo.get(key, _MISSING)
        if rows is _MISSING:  # a bisect over 2.5 million keys, once per release and pair
            rows = self.memoised(key, lambda: release.entries.rows(column1, column2))
        return Lookup(ptp_in_force(rows, on), release.info)

    def versions_for(self, dates: Iterable[date]) -> dict[str, str]:
        """Release ids in force on any of the dates, by kind ("hcpcs": "2024-07"). Several
        releases of one kind (lines across a quarter boundary) are joined with '+'."""
        unique = tuple(sorted(set(dates)))
        found = self._versions.get(unique)
        if found is not None:
            return dict(found)
        versions: dict[str, str] = {}
        for kind in self._releases:
            ids: list[str] = []
            for on in unique:
                release = self.release_for(kind, on)
                if release is not None and release.info.release_id not in ids:
                    ids.append(release.info.release_id)
            if ids:
                versions[kind] = "+".join(ids)
        if len(self._versions) >= _MAX_DAYS:
            self._versions.clear()
        self._versions[unique] = versions
        return dict(versions)


def ptp_in_force(rows: Iterable[PtpEdit], on: date) -> PtpEdit | None:
    """Of a pair's PTP rows, the one in force on `on`: not deleted by that date, the one
    whose deletion is nearest (an active row last)."""
    best: PtpEdit | None = None
    for edit in rows:
        if not edit.active_on(on):
            continue
        if best is None or (
            edit.deletion_date is not None
            and (best.deletion_date is None or edit.deletion_date < best.deletion_date)
        ):
            best = edit
    return best

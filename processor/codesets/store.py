"""CodeSets: every loaded release of every kind, answering "what did the code sets say
about this code on this date". Lookups pick the release in force on the date (a bisect over
a handful of releases), then a dict lookup inside it: constant time per line."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar, cast

from processor.codesets.model import (
    AddOnCode,
    AspPrice,
    CodeSetKind,
    CodeSetRelease,
    DiagnosisCode,
    FeeScheduleIndicators,
    Lookup,
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
            items.sort(key=lambda r: r.info.effective_start)
            for release in items:
                release.info = replace(release.info, effective_end=None)
            # Each release ends the day before the next release of its kind starts.
            for current, following in itertools.pairwise(items):
                end = following.info.effective_start - timedelta(days=1)
                current.info = replace(current.info, effective_end=end)
            self._releases[kind] = items
            self._starts[kind] = [r.info.effective_start for r in items]

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
        starts = self._starts.get(kind)
        if not starts:
            return None
        index = bisect.bisect_right(starts, on) - 1
        if index < 0:
            return None
        return self._releases[kind][index]

    def stale_on(self, kinds: Iterable[CodeSetKind], on: date) -> dict[str, ReleaseInfo]:
        """The kinds whose release in force on `on` was published for an earlier period:
        the date is past the newest release, or falls in a gap between two releases."""
        stale: dict[str, ReleaseInfo] = {}
        for kind in kinds:
            release = self.release_for(kind, on)
            end = release.info.nominal_end() if release is not None else None
            if release is not None and end is not None and on > end:
                stale[kind] = release.info
        return stale

    def with_release(self, release: CodeSetRelease) -> CodeSets:
        """A new CodeSets with `release` added (replacing one of the same kind and id)."""
        kept = [
            r
            for r in self.all_releases()
            if (r.info.kind, r.info.release_id) != (release.info.kind, release.info.release_id)
        ]
        return CodeSets([*kept, release])

    def newest(self, kind: CodeSetKind) -> ReleaseInfo | None:
        items = self._releases.get(kind)
        return items[-1].info if items else None

    def _lookup(self, kind: CodeSetKind, key: str, on: date, _t: type[T]) -> Lookup[T]:
        release = self.release_for(kind, on)
        if release is None:
            return Lookup(None, None)
        return Lookup(cast(T | None, release.entries.get(key)), release.info)

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
        """The PTP edit for the pair in force on `on`: of the rows for the pair, the one
        not deleted by that date whose deletion is nearest (an active row last)."""
        release = self.release_for("ncci_ptp", on)
        if release is None:
            return Lookup(None, None)
        best: PtpEdit | None = None
        for edit in release.entries.rows(column1, column2):
            if not edit.active_on(on):
                continue
            if best is None or (
                edit.deletion_date is not None
                and (best.deletion_date is None or edit.deletion_date < best.deletion_date)
            ):
                best = edit
        return Lookup(best, release.info)

    def versions_for(self, dates: Iterable[date]) -> dict[str, str]:
        """Release ids in force on any of the dates, by kind ("hcpcs": "2024-07"). Several
        releases of one kind (lines across a quarter boundary) are joined with '+'."""
        unique = sorted(set(dates))
        versions: dict[str, str] = {}
        for kind in self._releases:
            ids: list[str] = []
            for on in unique:
                release = self.release_for(kind, on)
                if release is not None and release.info.release_id not in ids:
                    ids.append(release.info.release_id)
            if ids:
                versions[kind] = "+".join(ids)
        return versions

"""Code-validity edits (edits.md, "Code validity"): codes judged by the code sets in force
on each line's date of service."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from processor.codes import in_ranges
from processor.codesets.model import CodeSetKind
from processor.edits.base import ClaimContext, Hit, check

# The kinds a claim's outcome depends on; a stale one means findings may be out of date.
_WATCHED: tuple[CodeSetKind, ...] = (
    "hcpcs",
    "icd10cm",
    "mce",
    "ncci_ptp",
    "mue_practitioner",
    "pfs",
)


@check("STALE-CODESETS")
def check_stale(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    lines = ctx.lines
    if len(lines) == 1:
        dates: tuple[date, ...] = (ctx.first_service_date,)  # type: ignore[assignment]
    else:
        dates = tuple(sorted({line.service_date for line in lines}))
    # The same for every claim with these dates of service.
    key = ("stale hit", dates)
    found = ctx.codesets.memo.get(key)  # read directly: the usual case, no closure built
    if found is None:
        found = ctx.codesets.memoised(key, lambda: tuple(_stale(ctx, dates)))
    return iter(found)


def _stale(ctx: ClaimContext, dates: tuple[date, ...]) -> Iterator[Hit]:
    stale = {}
    for on in dates:
        for kind, info in ctx.codesets.stale_on(_WATCHED, on).items():
            stale[kind] = (info.release_id, info.nominal_end())
    if stale:
        latest = dates[-1]
        yield Hit(
            line_number=None,
            shared=True,
            values={
                "latest": latest,
                "kinds": ", ".join(stale),
                "releases": ", ".join(f"{k} {rid} (to {end})" for k, (rid, end) in stale.items()),
            },
            evidence={
                k: {"release": rid, "nominal_end": str(end)} for k, (rid, end) in stale.items()
            },
        )


def _release_note(release_id: str | None) -> str:
    return f" (release {release_id})" if release_id else ""


@check("CODE-INACTIVE", when={"code_invalid"})
def check_code_active(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        e = line.enrichment
        if e.code_system == "unknown":
            continue  # PROC-FORMAT has rejected it
        kind = "hcpcs" if e.code_system == "HCPCS Level II" else "cpt"
        release_id = e.releases.get(kind) or e.releases.get("pfs")
        if release_id is None:
            continue  # no code set of that kind covers the date: nothing to judge against
        states = {
            "unknown": "not in the code set",
            "terminated": "terminated",
            "not_yet_effective": "not yet effective",
        }
        if e.status in states:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "code": line.procedure_code,
                    "state": states[e.status],
                    "dos": line.service_date,
                    "release": _release_note(release_id),
                },
                {"code": line.procedure_code, "status": e.status, "release": release_id},
                rarc=("M20",) if kind == "hcpcs" else ("M51",),
            )


@check("CAT-II", when={"category_ii"})
def check_category_ii(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if line.enrichment.code_system == "CPT Category II":
            charged = line.charge > Decimal("0.01")
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "code": line.procedure_code,
                    "charged": f"; it carries a charge of {line.charge}" if charged else "",
                },
                {"charge": str(line.charge)},
                escalate=charged,
            )


# Level II coverage codes (ANWEB COV): I not payable by Medicare, M non-covered,
# S non-covered by statute. PFS status: I not valid for Medicare (another code applies),
# N non-covered, X statutory exclusion, E excluded by regulation.
_COVERAGE = {
    "I": ("204", "not payable by Medicare (coverage code I)"),
    "M": ("96", "non-covered by Medicare (coverage code M)"),
    "S": ("204", "non-covered by statute (coverage code S)"),
}
# Status X and E mean "not paid under the physician fee schedule", which for laboratory
# tests (clinical lab fee schedule), vaccines and Level II drugs, DME and supplies (their own
# Medicare fee schedules; their HCPCS coverage code decides) is not non-coverage. So PFS
# status is judged only for CPT codes, and X/E not for CPT lab (80047-89398, venipuncture
# 36415) or vaccine and immune globulin (90281-90759) codes.
_PFS_X_E_PAID_ELSEWHERE = (("80047", "89398"), ("36415", "36416"), ("90281", "90759"))
_PFS_STATUS = {
    "I": ("181", "not valid for Medicare (fee-schedule status I: another code applies)"),
    "N": ("96", "non-covered (fee-schedule status N)"),
    "X": ("204", "excluded by statute (fee-schedule status X)"),
    "E": ("204", "excluded by regulation (fee-schedule status E)"),
}


@check("MCR-COVERAGE", when={"not_covered"})
def check_medicare_coverage(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        e = line.enrichment
        found = None
        code = line.procedure_code
        if e.coverage_code in _COVERAGE:
            found = (*_COVERAGE[e.coverage_code], e.releases.get("hcpcs"))
        elif (
            e.pfs_status in _PFS_STATUS
            and e.code_system != "HCPCS Level II"
            and not (e.pfs_status in ("X", "E") and in_ranges(code, _PFS_X_E_PAID_ELSEWHERE))
        ):
            found = (*_PFS_STATUS[e.pfs_status], e.releases.get("pfs"))
        if found is None:
            continue
        carc, why, release = found
        if {"GA", "GY", "GZ"} & set(line.modifiers):
            continue  # the liability notice is already stated on the line
        yield Hit(
            line.line_number,
            {
                "line": line.line_number,
                "code": line.procedure_code,
                "why": why,
                "release": _release_note(release),
            },
            {"coverage_code": e.coverage_code, "pfs_status": e.pfs_status, "release": release},
            carc=carc,
        )


@check("PFS-BUNDLED", when={"bundled"})
def check_bundled(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if line.enrichment.pfs_status == "B":
            release = line.enrichment.releases.get("pfs")
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "code": line.procedure_code,
                    "release": _release_note(release),
                },
                {"pfs_status": "B", "release": release},
            )


@check("NOC-DETAIL", when={"noc"})
def check_noc_detail(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if not line.enrichment.noc:
            continue
        drug = line.procedure_code.startswith("J")
        missing = []
        if not (line.description or "").strip():
            missing.append("description")
        if drug and line.drug is None:
            missing.append("NDC")
        if missing:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "code": line.procedure_code,
                    "missing": " or ".join(missing),
                    "ndc_fix": " and give the NDC, quantity and unit" if drug else "",
                },
                {
                    "noc": True,
                    "release": line.enrichment.releases.get("hcpcs_noc")
                    or line.enrichment.releases.get("hcpcs"),
                },
                rarc=("M119",) if drug else None,
            )

"""Code-validity edits (edits.md, "Code validity"): codes judged by the code sets in force
on each line's date of service."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from processor.codesets.model import CodeSetKind
from processor.edits.base import ClaimContext, Hit, edit

# The kinds a claim's outcome depends on; a stale one means findings may be out of date.
_WATCHED: tuple[CodeSetKind, ...] = ("hcpcs", "icd10cm", "ncci_ptp", "mue_practitioner", "pfs")


@edit(
    "STALE-CODESETS",
    name="Stale code sets",
    stage="code_validity",
    category="code_validity",
    level="claim",
    disposition="info",
    group_code=None,
    carc=None,
    appealable=False,
    message="Dates of service up to {latest} are past the period of the {kinds} releases in "
    "force: codes were judged against {releases}",
    fix="Load the code-set releases for these dates of service (claims-processor codesets "
    "build/publish) and scrub the claim again",
)
def check_stale(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    latest = max(line.service_date for line in ctx.lines)
    stale = {}
    for on in sorted({line.service_date for line in ctx.lines}):
        for kind, info in ctx.codesets.stale_on(_WATCHED, on).items():
            stale[kind] = (info.release_id, info.nominal_end())
    if stale:
        yield Hit(
            line_number=None,
            values={
                "latest": latest,
                "kinds": ", ".join(stale),
                "releases": ", ".join(f"{k} {rid} (to {end})" for k, (rid, end) in stale.items()),
            },
            evidence={
                k: {"release": rid, "nominal_end": str(end)} for k, (rid, end) in stale.items()
            },
        )

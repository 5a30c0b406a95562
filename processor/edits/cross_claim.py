"""Edits across a patient's claims (edits.md, "History", and the cross-claim NCCI and MUE
rows): duplicate claim, duplicate service, PTP pairs and MUE day totals split over claims.
Replacements (frequency 7) and voids (8) are never duplicates of the claim they name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from processor.edits.base import ClaimContext, Hit, edit
from processor.history import ClaimRecord
from processor.models import EnrichedLine


def _claims_to_leave_out(ctx: ClaimContext) -> set[str] | None:
    """The earlier claims a line must not be compared with: this claim itself and the claim
    a replacement corrects. None when there is nothing to compare: the patient's first
    claim, or a void, which bills nothing."""
    claim = ctx.claim
    if not ctx.history.claims or claim.frequency_code == "8":
        return None
    corrected = (
        {claim.original_claim_id}
        if claim.frequency_code == "7" and claim.original_claim_id
        else set()
    )
    return corrected | {claim.claim_id}


@edit(
    "DUP-CLAIM",
    name="Duplicate claim",
    stage="history",
    category="duplicate",
    level="claim",
    disposition="reject",
    group_code="OA",
    carc="18",
    appealable=False,
    message="Claim {claim_id} was already received as an original (from {source})",
    fix="Do not resubmit: to correct the claim send a replacement (frequency 7) naming it, "
    "or a void (8)",
)
def check_duplicate_claim(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    claim = ctx.claim
    earlier = ctx.history.claims.get(claim.claim_id)
    if claim.frequency_code == "1" and earlier is not None:
        yield Hit(
            None,
            {"claim_id": claim.claim_id, "source": earlier.source},
            {"claim_id": claim.claim_id, "earlier_source": earlier.source},
        )


@edit(
    "DUP-SERVICE",
    name="Duplicate service",
    stage="history",
    category="duplicate",
    level="line",
    disposition="deny",
    group_code="OA",
    carc="18",
    appealable=True,
    message="Line {line}: {code} on {dos} ({units} units, modifiers {modifiers}) for the same "
    "patient and rendering provider is already on claim {other}",
    fix="Remove line {line}; if it is a repeat service, append 76/77 (or 91 for a repeat lab) "
    "with the times in the notes",
)
def check_duplicate_service(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    excluded = _claims_to_leave_out(ctx)
    if excluded is None:
        return
    seen: dict[tuple[Any, ...], list[ClaimRecord]] = defaultdict(list)
    for record, earlier in ctx.history.lines(excluded):
        key = (
            earlier.service_date,
            earlier.code,
            tuple(sorted(earlier.modifiers)),
            earlier.units,
            earlier.rendering_npi,
        )
        seen[key].append(record)
    for line in ctx.lines:
        key = (
            line.service_date,
            line.procedure_code,
            tuple(sorted(line.modifiers)),
            str(line.units.normalize()),
            ctx.rendering_npi(line),
        )
        if key in seen:
            other = seen[key][0]
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "code": line.procedure_code,
                    "dos": line.service_date,
                    "units": line.units,
                    "modifiers": ",".join(line.modifiers) or "none",
                    "other": other.claim_id,
                },
                {"other_claim_id": other.claim_id, "other_source": other.source},
            )


@edit(
    "NCCI-PTP-CROSS",
    name="NCCI pair split over claims",
    stage="history",
    category="ncci_ptp",
    level="line",
    disposition="review",
    group_code="CO",
    carc="236",
    appealable=True,
    message="Line {line}: {code} and {other_code} (claim {other}) are an NCCI pair on {dos} for the "
    "same patient and provider (column 1 {column1}, indicator {indicator}), billed on two claims",
    fix="Bill both on one claim, with an NCCI-associated modifier if the services were distinct, "
    "or correct the earlier claim with a replacement",
)
def check_ptp_across_claims(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    excluded = _claims_to_leave_out(ctx)
    if excluded is None:
        return
    for line in ctx.lines:
        npi = ctx.rendering_npi(line)
        for record, earlier in ctx.history.lines(excluded):
            if earlier.service_date != line.service_date or earlier.rendering_npi != npi:
                continue
            for column1, column2 in (
                (earlier.code, line.procedure_code),
                (line.procedure_code, earlier.code),
            ):
                found = ctx.codesets.ptp(column1, column2, line.service_date)
                if (
                    found.value is None
                    or found.value.modifier_indicator == "9"
                    or found.release is None
                ):
                    continue
                yield Hit(
                    line.line_number,
                    {
                        "line": line.line_number,
                        "code": line.procedure_code,
                        "other_code": earlier.code,
                        "other": record.claim_id,
                        "dos": line.service_date,
                        "column1": column1,
                        "indicator": found.value.modifier_indicator,
                    },
                    {
                        "column1": column1,
                        "column2": column2,
                        "other_claim_id": record.claim_id,
                        "release": found.release.release_id,
                    },
                )
                break
            else:
                continue
            break


@edit(
    "MUE-CROSS",
    name="MUE day total over claims",
    stage="history",
    category="mue",
    level="line",
    disposition="review",
    group_code="CO",
    carc="151",
    rarc=("N362",),
    appealable=True,
    message="Line {line}: {total} units of {code} on {dos} over this claim and claims {others} "
    "exceed the MUE of {mue} per day (MAI {mai})",
    fix="Check that the units on {dos} were not billed twice; the payer sums them over claims",
)
def check_mue_across_claims(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    excluded = _claims_to_leave_out(ctx)
    if excluded is None:
        return
    here: dict[tuple[str, Any, str], Decimal] = defaultdict(Decimal)
    first_line: dict[tuple[str, Any, str], EnrichedLine] = {}
    for line in ctx.lines:
        mue = line.enrichment.mue
        if mue is not None and mue.mai in (2, 3) and mue.value > 0:
            key = (line.procedure_code, line.service_date, ctx.rendering_npi(line))
            here[key] += line.units
            first_line.setdefault(key, line)
    if not here:
        return
    before: dict[tuple[str, Any, str], Decimal] = defaultdict(Decimal)
    others: dict[tuple[str, Any, str], set[str]] = defaultdict(set)
    for record, earlier in ctx.history.lines(excluded):
        key = (earlier.code, earlier.service_date, earlier.rendering_npi)
        if key in here:
            before[key] += Decimal(earlier.units)
            others[key].add(record.claim_id)
    for key, units in here.items():
        line = first_line[key]
        mue = line.enrichment.mue
        assert mue is not None
        total = units + before[key]
        if before[key] and units <= mue.value < total:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "total": total,
                    "code": key[0],
                    "dos": key[1],
                    "others": ", ".join(sorted(others[key])),
                    "mue": mue.value,
                    "mai": mue.mai,
                },
                {
                    "mue": mue.value,
                    "mai": mue.mai,
                    "total_units": str(total),
                    "other_claim_ids": sorted(others[key]),
                    "release": mue.release,
                },
            )

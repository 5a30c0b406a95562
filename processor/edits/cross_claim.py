"""Edits across a patient's claims (edits.md, "History", and the cross-claim NCCI and MUE
rows): duplicate claim, duplicate service, PTP pairs and MUE day totals split over claims.
Replacements (frequency 7) and voids (8) are never duplicates of the claim they name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from processor.edits.base import ClaimContext, Hit, check
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


@check("DUP-CLAIM", when={"history"})
def check_duplicate_claim(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    claim = ctx.claim
    earlier = ctx.history.claims.get(claim.claim_id)
    if claim.frequency_code == "1" and earlier is not None:
        yield Hit(
            None,
            {"claim_id": claim.claim_id, "source": earlier.source},
            {"claim_id": claim.claim_id, "earlier_source": earlier.source},
        )


@check("DUP-SERVICE", when={"history"})
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


@check("NCCI-PTP-CROSS", when={"history"})
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


@check("MUE-CROSS", when={"mue_day"}, needs={"history"})
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

"""Front-end format edits (edits.md, "Format and provider"): what a clearinghouse or payer
front end rejects before adjudication. Rejects are fixed and resubmitted, not appealed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from processor.codes import code_system
from processor.edits.base import ClaimContext, Hit, check

MODIFIER_FORMAT = re.compile(r"[A-Z0-9]{2}")


@check("DOS-DATES", when={"dates_to_check"})
def check_dates(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    received_on = ctx.received_on
    max_span = int(params["max_span_days"])
    for line in ctx.lines:
        start, end = line.service_date, line.service_date_end
        problems = []
        if start > received_on:
            problems.append(f"service date {start} is after the claim was received ({received_on})")
        if end is not None and end < start:
            problems.append(f"service end date {end} is before the start date {start}")
        elif end is not None and (end - start).days > max_span:
            problems.append(
                f"service dates {start} to {end} span {(end - start).days} days, more than {max_span}"
            )
        for problem in problems:
            yield Hit(
                line_number=line.line_number,
                values={"line": line.line_number, "problem": problem},
                evidence={
                    "service_date": str(start),
                    "service_date_end": str(end) if end else None,
                    "received_on": str(received_on),
                },
            )


@check("UNITS", when={"units_not_positive"})
def check_units(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if line.units <= 0:
            yield Hit(
                line_number=line.line_number,
                values={"line": line.line_number, "code": line.procedure_code, "units": line.units},
                evidence={"units": str(line.units)},
            )


@check("CHARGE", when={"negative_charge"})
def check_charge(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if line.charge < 0:
            yield Hit(
                line_number=line.line_number,
                values={"line": line.line_number, "charge": line.charge},
                evidence={"charge": str(line.charge)},
            )


@check("PROC-FORMAT", when={"bad_code_format"})
def check_procedure_format(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if code_system(line.procedure_code) == "unknown":
            yield Hit(
                line_number=line.line_number,
                values={"line": line.line_number, "code": line.procedure_code},
                evidence={"procedure_code": line.procedure_code},
            )


@check("MOD-FORMAT", when={"modifier_format"})
def check_modifier_format(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        seen: set[str] = set()
        for modifier in line.modifiers:
            if not MODIFIER_FORMAT.fullmatch(modifier):
                problem = f"modifier {modifier!r} is not two letters or digits"
            elif modifier in seen:
                problem = f"modifier {modifier} appears more than once"
            else:
                seen.add(modifier)
                continue
            yield Hit(
                line_number=line.line_number,
                values={"line": line.line_number, "problem": problem},
                evidence={"modifiers": list(line.modifiers)},
            )


@check("FREQ-ORIGINAL", when={"replacement_or_void"})
def check_frequency(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    claim = ctx.claim
    if claim.frequency_code in ("7", "8") and not claim.original_claim_id:
        replacement = claim.frequency_code == "7"
        yield Hit(
            line_number=None,
            values={
                "frequency": claim.frequency_code,
                "kind": "replacement" if replacement else "void",
                "verb": "replaces" if replacement else "voids",
            },
            evidence={"frequency_code": claim.frequency_code},
        )


# The claim fact (processor.edits.facts): the claim's or a line's place of service is not
# in the code set in force.
POS_UNKNOWN = "pos_unknown"


def pos_unknown(ctx: ClaimContext, pos: str, on: date) -> bool:
    """Whether POS-CODE finds `pos` missing from the place-of-service list in force on `on`."""
    release = ctx.codesets.release_for("place_of_service", on)
    return release is not None and release.entries.get(pos) is None


@check("POS-CODE", when={POS_UNKNOWN})
def check_place_of_service(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    claim = ctx.claim
    first_dos = ctx.first_service_date or min(line.service_date for line in claim.lines)
    pos_lookup = ctx.codesets.place_of_service(claim.place_of_service, first_dos)
    if pos_lookup.release is not None and pos_lookup.value is None:
        yield Hit(
            line_number=None,
            values={"pos": claim.place_of_service, "where": ""},
            evidence={
                "place_of_service": claim.place_of_service,
                "release": pos_lookup.release.release_id,
            },
        )
    for line in claim.lines:
        if line.place_of_service is None:
            continue
        found = ctx.codesets.place_of_service(line.place_of_service, line.service_date)
        if found.release is not None and found.value is None:
            yield Hit(
                line_number=line.line_number,
                values={"pos": line.place_of_service, "where": f" on line {line.line_number}"},
                evidence={
                    "place_of_service": line.place_of_service,
                    "release": found.release.release_id,
                },
            )

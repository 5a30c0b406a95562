"""Modifier edits (edits.md, "Modifiers")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from functools import partial
from typing import Any

from processor.codes import in_ranges
from processor.codesets import CodeSets
from processor.edits.base import ClaimContext, Hit, check
from processor.edits.facts import facts_of
from processor.models import EnrichedLine

AMBULANCE = (("A0425", "A0436"),)
# Ambulance origin/destination letters (Medicare Claims Processing Manual ch. 15 §30):
# D diagnostic site, E residential facility, G hospital-based ESRD, H hospital, I site of
# transfer, J free-standing ESRD, N skilled nursing facility, P physician's office,
# R residence, S scene of accident, X intermediate stop at a physician's office.
ORIGIN_DESTINATION = set("DEGHIJNPRSX")
# Limb orthotics and prosthetics (HCPCS Level II L-code sections): lower-limb orthotics
# L1600-L2999, foot orthotics L3000-L3649, upper-limb orthotics L3650-L3999, lower-limb
# prostheses L5000-L5999, upper-limb prostheses L6000-L7499.
LIMB_L_CODES = (("L1600", "L3999"), ("L5000", "L7499"))
# HCPCS pricing indicators for DME bought or rented: 32 inexpensive or routinely purchased,
# 36 capped rental. Capped rentals bill a rental month modifier: KH (first month), KI
# (second and third), KJ (fourth to fifteenth).
PURCHASE_OR_RENTAL = {"32", "36"}
CAPPED_RENTAL = "36"
E_M = (("99202", "99499"),)
LIMB_ORTHOTIC = "limb_orthotic"  # the line fact (processor.edits.facts) of LIMB_L_CODES


def is_ambulance_origin_destination(modifier: str) -> bool:
    return (
        len(modifier) == 2
        and modifier[0] in ORIGIN_DESTINATION
        and modifier[1] in ORIGIN_DESTINATION
    )


@check("MOD-UNKNOWN", when={"modifier_unknown"})
def check_unknown_modifier(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    codesets = ctx.codesets
    memo = codesets.memo
    for line in ctx.lines:
        if not line.modifiers:
            continue
        ambulance = in_ranges(line.procedure_code, AMBULANCE)
        day = codesets.day(line.service_date)
        for modifier in line.modifiers:
            if len(modifier) != 2 or (ambulance and is_ambulance_origin_destination(modifier)):
                continue  # MOD-FORMAT judges the shape
            key = ("modifier unknown", modifier, day.key)
            unknown = memo.get(key)  # read directly: the usual case, no closure built
            if unknown is None:
                unknown = codesets.memoised(
                    key, partial(_unknown_modifier, codesets, modifier, line.service_date)
                )
            if unknown:
                yield Hit(
                    line.line_number,
                    {"line": line.line_number, "modifier": modifier, "dos": line.service_date},
                    {"modifier": modifier},
                )


def _unknown_modifier(codesets: CodeSets, modifier: str, on: date) -> bool:
    """Some modifier list covers the date and neither the CPT nor the Level II list has it."""
    listed = codesets.modifier(modifier, on)
    level2 = codesets.hcpcs_modifier(modifier, on)
    covered = listed.release is not None or level2.release is not None
    return covered and listed.value is None and level2.value is None


@check("MOD-LATERALITY", when={"limb_orthotic", "laterality_modifiers"})
def check_laterality(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        limb = LIMB_ORTHOTIC in facts_of(line)  # in_ranges(code, LIMB_L_CODES), kept
        if not line.modifiers and not limb:
            continue  # nothing below can hold
        mods = set(line.modifiers)
        problems = []
        if limb and not mods & {"RT", "LT"}:
            problems.append(
                f"{line.procedure_code} is a limb orthotic or prosthetic without RT or LT"
            )
        if {"RT", "LT"} <= mods:
            problems.append("RT and LT on the same line")
        if "50" in mods and mods & {"RT", "LT"}:
            problems.append("50 (bilateral) together with RT or LT")
        for problem in problems:
            yield Hit(
                line.line_number,
                {"line": line.line_number, "problem": problem},
                {"modifiers": list(line.modifiers)},
            )


@check("DME-PURCHASE-RENTAL", when={"dme_purchase_rental"})
def check_dme_purchase_rental(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        indicator = line.enrichment.pricing_indicator
        if indicator not in PURCHASE_OR_RENTAL:
            continue
        mods = set(line.modifiers)
        if not mods & {"NU", "RR", "UE"}:
            problem = "is bought or rented and the line has none of NU, RR, UE"
        elif indicator == CAPPED_RENTAL and "RR" in mods and not mods & {"KH", "KI", "KJ"}:
            problem = "is a capped rental and the line has no KH, KI or KJ rental-month modifier"
        else:
            continue
        yield Hit(
            line.line_number,
            {
                "line": line.line_number,
                "code": line.procedure_code,
                "indicator": indicator,
                "problem": problem,
            },
            {
                "pricing_indicator": indicator,
                "modifiers": list(line.modifiers),
                "release": line.enrichment.releases.get("hcpcs"),
            },
        )


@check("DRUG-WASTAGE", when={"asp_drug"})
def check_wastage(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if not line.procedure_code.startswith("J"):
            continue
        mods = set(line.modifiers)
        if {"JW", "JZ"} <= mods:
            problem = "has both JW (amount discarded) and JZ (nothing discarded)"
        elif not mods & {"JW", "JZ"}:
            problem = "is a separately payable drug without JW or JZ"
        else:
            continue
        payable = _separately_payable(ctx, line)
        if isinstance(payable, Hit):
            yield payable
        elif payable is not None:
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code, "problem": problem},
                {"modifiers": list(line.modifiers), **payable},
            )


def _separately_payable(ctx: ClaimContext, line: EnrichedLine) -> dict[str, Any] | Hit | None:
    """Evidence that the J-code is a separately payable drug (an ASP payment limit), None
    when it is not, or a not-judged hit when no ASP file is loaded. A date before every ASP
    file takes the nearest one (a drug's payability rarely changes) and says so."""
    drug = line.enrichment.drug
    if drug is not None and drug.payment_limit is not None:
        return {"release": line.enrichment.releases.get("asp_pricing")}
    if ctx.codesets.release_for("asp_pricing", line.service_date) is not None:
        return None  # the ASP file in force has no payment limit for it
    nearest = ctx.codesets.nearest_release("asp_pricing", line.service_date)
    if nearest is None:
        table = "no ASP payment-limit file (kind asp_pricing) is loaded"
        return Hit(
            line.line_number, {}, {"missing": table}, not_judged=f"line {line.line_number}: {table}"
        )
    if nearest.entries.get(line.procedure_code) is None:
        return None
    return {
        "release": nearest.info.release_id,
        "taken_from_nearest": f"no ASP file covers {line.service_date}: payment limit in "
        f"ASP {nearest.info.release_id}",
    }


def is_e_m(line: EnrichedLine) -> bool:
    return in_ranges(line.procedure_code, E_M)


@check("EM-MOD25", when={"minor_procedure"})  # an E/M line needs a minor procedure
def check_em_25(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for em in ctx.lines:
        if not is_e_m(em) or "25" in em.modifiers:
            continue
        for other in ctx.lines:
            days = other.enrichment.global_days
            if other is em or other.service_date != em.service_date or days not in ("000", "010"):
                continue
            yield Hit(
                em.line_number,
                {
                    "line": em.line_number,
                    "code": em.procedure_code,
                    "dos": em.service_date,
                    "procedure": other.procedure_code,
                    "global_days": days,
                    "procedure_line": other.line_number,
                },
                {
                    "procedure": other.procedure_code,
                    "global_days": days,
                    "release": other.enrichment.releases.get("pfs"),
                },
            )
            break


@check("AMB-ORIGIN-DEST", when={"ambulance"})
def check_ambulance(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if in_ranges(line.procedure_code, AMBULANCE) and not any(
            is_ambulance_origin_destination(m) for m in line.modifiers
        ):
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code},
                {"modifiers": list(line.modifiers)},
            )


# PC/TC indicators (PFS RVU file): 26 is allowed with 1 (diagnostic tests with both
# components), 6 (lab physician interpretation) and 8 (physician interpretation); TC only
# with 1.
_ALLOWS = {"26": {"1", "6", "8"}, "TC": {"1"}}


@check("MOD-PCTC", when={"pc_tc_modifier"})
def check_pctc(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        indicator = line.enrichment.pc_tc_indicator
        if indicator is None:
            continue
        for modifier in ("26", "TC"):
            if modifier in line.modifiers and indicator not in _ALLOWS[modifier]:
                release = line.enrichment.releases.get("pfs")
                yield Hit(
                    line.line_number,
                    {
                        "line": line.line_number,
                        "modifier": modifier,
                        "code": line.procedure_code,
                        "indicator": indicator,
                        "release": f" (PFS {release})" if release else "",
                    },
                    {"pc_tc_indicator": indicator, "release": release},
                )

"""Drugs, supplies and DME: what was used (edits.md, "Drugs, supplies, DME")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from processor.codes import in_ranges
from processor.codesets.model import kept
from processor.edits.base import ClaimContext, Hit, check
from processor.enrichment import normalise_ndc
from processor.models import Drug, EnrichedLine, LineEnrichment

NDC_UNITS = frozenset({"UN", "ML", "GR", "F2", "ME"})
# Drug administration CPT codes: hydration, therapeutic/prophylactic/diagnostic injections
# and infusions 96360-96379; chemotherapy and complex biologic administration 96401-96549.
DRUG_ADMINISTRATION = (("96360", "96379"), ("96401", "96549"))
SUPPLIES_AS_CPT = frozenset({"99070"})
# Items that need the ordering (referring) provider: DME (E), DME regional-carrier codes (K),
# orthotics and prosthetics (L), medical and surgical supplies (A4-A7).
ORDERED_ITEMS = (("E0100", "E9999"), ("K0001", "K9999"), ("L0100", "L9999"), ("A4000", "A7999"))


def is_drug(line: EnrichedLine) -> bool:
    """A drug line: a J-code, or a Q/S code with drug pricing (ASP) or a drug BETOS (O1D/O1E)."""
    return is_drug_code(line.procedure_code, line.enrichment)


def is_drug_code(code: str, e: LineEnrichment) -> bool:
    """`is_drug` for a code under its enrichment."""
    if code.startswith("J"):
        return True
    return code[:1] in ("Q", "S") and (
        (e.drug is not None and e.drug.payment_limit is not None)
        or (e.betos or "").startswith(("O1D", "O1E"))
    )


@check("NDC-REQUIRED", when={"drug"})
def check_ndc_required(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    if not params["required"]:
        return
    for line in ctx.lines:
        if line.drug is None and is_drug(line):
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code},
                {"procedure_code": line.procedure_code},
            )


# The line fact (processor.edits.facts) of NDC-FORMAT: the line's NDC is not 11 digits once
# normalised, or its quantity is not above 0, or its unit is not one of NDC_UNITS.
NDC_PROBLEM = "ndc_problem"
_NDC_DIGITS: dict[str, bool] = {}
_MAX_NDCS = 1 << 16


def ndc_problem(drug: Drug) -> bool:
    """Whether NDC-FORMAT finds something on a line with this drug (the NDC's shape is
    worked out once per NDC as written)."""
    v = drug.__dict__  # the fields, without pydantic's attribute hook on each
    ndc = v["ndc"]
    ok = _NDC_DIGITS.get(ndc)  # read directly: the usual case, no closure
    if ok is None:
        ok = kept(_NDC_DIGITS, ndc, partial(_eleven_digits, ndc), _MAX_NDCS)
    return not ok or v["quantity"] <= 0 or v["unit"] not in NDC_UNITS


def _eleven_digits(ndc: str) -> bool:
    normalised = normalise_ndc(ndc)
    return len(normalised) == 11 and normalised.isdigit()


@check("NDC-FORMAT", when={NDC_PROBLEM})
def check_ndc_format(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        drug = line.drug
        if drug is None:
            continue
        problems = []
        normalised = normalise_ndc(drug.ndc)
        if len(normalised) != 11 or not normalised.isdigit():
            problems.append(f"NDC {drug.ndc!r} is not 11 digits (5-4-2) once normalised")
        if drug.quantity <= 0:
            problems.append(f"NDC quantity {drug.quantity} is not above 0")
        if drug.unit not in NDC_UNITS:
            problems.append(f"NDC unit {drug.unit!r} is not one of UN, ML, GR, F2, ME")
        for problem in problems:
            yield Hit(
                line.line_number,
                {"line": line.line_number, "problem": problem},
                {"ndc": drug.ndc, "quantity": str(drug.quantity), "unit": drug.unit},
            )


@check("DRUG-ADMIN-NO-DRUG", when={"drug_admin"})
def check_admin_without_drug(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if not in_ranges(line.procedure_code, DRUG_ADMINISTRATION):
            continue
        if not any(is_drug(x) for x in ctx.lines if x.service_date == line.service_date):
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code, "dos": line.service_date},
                {"procedure_code": line.procedure_code},
            )


@check("SUPPLY-CPT", when={"supply_cpt"})
def check_supply_cpt(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if line.procedure_code in SUPPLIES_AS_CPT:
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code},
                {"procedure_code": line.procedure_code},
            )


@check("DME-ORDERING", when={"ordered_item"})
def check_ordering_provider(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    if ctx.claim.referring_provider is not None:
        return
    for line in ctx.lines:
        if in_ranges(line.procedure_code, ORDERED_ITEMS):
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code},
                {"procedure_code": line.procedure_code},
            )

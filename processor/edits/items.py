"""Drugs, supplies and DME: what was used (edits.md, "Drugs, supplies, DME")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from processor.codes import in_ranges
from processor.edits.base import ClaimContext, Hit, edit
from processor.enrichment import normalise_ndc
from processor.models import EnrichedLine

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
    code = line.procedure_code
    if code.startswith("J"):
        return True
    e = line.enrichment
    return code[:1] in ("Q", "S") and (
        (e.drug is not None and e.drug.payment_limit is not None)
        or (e.betos or "").startswith(("O1D", "O1E"))
    )


@edit(
    "NDC-REQUIRED",
    name="NDC required on drug lines",
    stage="items",
    category="drug",
    level="line",
    disposition="reject",
    group_code="CO",
    carc="16",
    rarc=("M119",),
    appealable=False,
    message="Line {line}: drug code {code} has no NDC",
    fix="Give the NDC, quantity and unit of the drug on line {line} (837P loop 2410)",
    parameters={"required": True},
)
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


@edit(
    "NDC-FORMAT",
    name="NDC, quantity and unit",
    stage="items",
    category="drug",
    level="line",
    disposition="reject",
    group_code="CO",
    carc="16",
    rarc=("M119",),
    appealable=False,
    message="Line {line}: {problem}",
    fix="Give the 11-digit NDC (5-4-2), a quantity above 0 and a unit of UN, ML, GR, F2 or ME",
)
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


@edit(
    "DRUG-ADMIN-NO-DRUG",
    name="Drug administered, no drug billed",
    stage="items",
    category="missing_item",
    level="line",
    disposition="review",
    group_code=None,
    carc=None,
    appealable=False,
    message="Line {line}: {code} (drug administration) on {dos} with no drug line for that date: "
    "the drug is paid at $0 unless it is billed",
    fix="Add the drug (J or Q code with its NDC and units) given on {dos}, unless the patient "
    "supplied it",
)
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


@edit(
    "SUPPLY-CPT",
    name="Supplies billed with CPT 99070",
    stage="items",
    category="payer_policy",
    level="line",
    disposition="deny",
    group_code="CO",
    carc="97",
    rarc=("M20",),
    appealable=False,
    message="Line {line}: {code} (supplies and materials) is not paid separately; the payer wants "
    "the specific HCPCS Level II supply code",
    fix="Bill the supply with its HCPCS Level II code (A4000-A8999), or drop it if it is bundled",
)
def check_supply_cpt(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        if line.procedure_code in SUPPLIES_AS_CPT:
            yield Hit(
                line.line_number,
                {"line": line.line_number, "code": line.procedure_code},
                {"procedure_code": line.procedure_code},
            )


@edit(
    "DME-ORDERING",
    name="Ordering provider for DME, orthotics, prosthetics and supplies",
    stage="items",
    category="dme",
    level="line",
    disposition="reject",
    group_code="CO",
    carc="16",
    rarc=("N264",),
    appealable=False,
    message="Line {line}: {code} is an ordered item and the claim has no referring (ordering) provider",
    fix="Give the ordering provider's NPI in referring_provider (837P loop 2310A / 2420E)",
)
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

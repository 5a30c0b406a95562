"""Line enrichment: what the code sets say about each line's code on its date of service."""

from __future__ import annotations

from datetime import date
from typing import Any

from processor.codes import code_system
from processor.codesets import CodeSets, ProcedureCode, ReleaseInfo
from processor.models import Claim, EnrichedClaim, EnrichedLine, LineEnrichment, ServiceLine
from processor.models.outputs import Level2Category, MueFact

# HCPCS Level II sections by first letter (CMS HCPCS Level II coding manual).
LEVEL2_CATEGORIES: dict[str, str] = {
    "A": "Transportation services, medical and surgical supplies, miscellaneous and experimental",
    "B": "Enteral and parenteral therapy",
    "C": "Outpatient PPS (temporary codes)",
    "E": "Durable medical equipment",
    "G": "Procedures and professional services (temporary)",
    "H": "Alcohol and drug abuse treatment services",
    "J": "Drugs administered other than oral method, chemotherapy drugs",
    "K": "Temporary codes for durable medical equipment regional carriers",
    "L": "Orthotic and prosthetic procedures and devices",
    "M": "Medical services",
    "P": "Pathology and laboratory services",
    "Q": "Temporary codes",
    "R": "Diagnostic radiology services",
    "S": "Temporary national codes (non-Medicare)",
    "T": "National codes established for state Medicaid agencies",
    "U": "Coronavirus diagnostic panel",
    "V": "Vision, hearing and speech-language pathology services",
}
# NUCC taxonomy group 332B: Durable Medical Equipment & Medical Supplies suppliers, whose
# MUE values come from the DME-supplier table.
DME_SUPPLIER_TAXONOMY_PREFIX = "332B"


def is_dme_supplier(claim: Claim) -> bool:
    taxonomy = claim.billing_provider.taxonomy or ""
    return taxonomy.upper().startswith(DME_SUPPLIER_TAXONOMY_PREFIX)


def enrich_line(line: ServiceLine, codesets: CodeSets, *, dme_supplier: bool) -> LineEnrichment:
    code, dos = line.procedure_code, line.service_date
    system = code_system(code)
    releases: dict[str, str] = {}

    def note(release: ReleaseInfo | None) -> None:
        if release is not None:
            releases[release.kind] = release.release_id

    entry: ProcedureCode | None = None
    category: Level2Category | None = None
    if system == "HCPCS Level II":
        found = codesets.hcpcs(code, dos)
        entry = found.value
        note(found.release)
        category = Level2Category(letter=code[0], meaning=LEVEL2_CATEGORIES.get(code[0], "unknown"))
    elif system != "unknown":
        found = codesets.cpt(code, dos)
        entry = found.value
        note(found.release)
    fees = codesets.fee_schedule(code, dos)
    note(fees.release)
    mue = codesets.mue(code, dos, dme_supplier=dme_supplier)
    note(mue.release)
    mue_fact = None
    if mue.value is not None and mue.release is not None:
        mue_fact = MueFact(
            value=mue.value.value,
            mai=mue.value.mai,
            table="dme_supplier" if dme_supplier else "practitioner",
            release=mue.release.release_id,
        )
    pfs = fees.value
    return LineEnrichment(
        code_system=system,
        level2_category=category,
        short_descriptor=entry.short_descriptor if entry else None,
        status=entry.status_on(dos) if entry else "unknown",
        noc=entry.noc if entry else False,
        coverage_code=entry.coverage_code if entry else None,
        pricing_indicator=entry.pricing_indicator if entry else None,
        pfs_status=pfs.status if pfs else None,
        global_days=pfs.global_days if pfs else None,
        pc_tc_indicator=pfs.pc_tc if pfs else None,
        bilateral_indicator=pfs.bilateral if pfs else None,
        mue=mue_fact,
        releases=releases,
    )


def enrich_claim(claim: Claim, codesets: CodeSets) -> EnrichedClaim:
    """The claim with each line's enrichment, built without re-validating what was read."""
    dme_supplier = is_dme_supplier(claim)
    lines = [
        EnrichedLine.model_construct(
            _fields_set=line.model_fields_set | {"enrichment"},
            **_fields(line),
            enrichment=enrich_line(line, codesets, dme_supplier=dme_supplier),
        )
        for line in claim.lines
    ]
    values = _fields(claim)
    values["lines"] = lines
    return EnrichedClaim.model_construct(_fields_set=claim.model_fields_set, **values)


def _fields(model: Claim | ServiceLine) -> dict[str, Any]:
    values = dict(model.__dict__)
    if model.__pydantic_extra__:
        values.update(model.__pydantic_extra__)
    return values


def service_dates(claim: Claim) -> list[date]:
    return [line.service_date for line in claim.lines]

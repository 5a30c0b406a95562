"""Line enrichment: what the code sets say about each line's code on its date of service.

The answer depends only on the code, the releases in force on the date (`Day.key`), which
MUE table applies and the line's NDC, so it is worked out once per combination and kept
with the code sets (its JSON is written once too, see `LineEnrichment.json_fragment`): a
claim line costs a dict lookup. Enrichments are frozen because they are shared between
claims.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from processor.codes import code_system
from processor.codesets import CodeSets, ProcedureCode, ReleaseInfo
from processor.codesets.model import CodeStatusValue
from processor.models import Claim, EnrichedClaim, EnrichedLine, LineEnrichment, ServiceLine
from processor.models.construct import construct
from processor.models.outputs import AddOnFact, DrugFact, Level2Category, MueFact, RbcsFact

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
_MAX_PRIMARIES = 50


def is_dme_supplier(claim: Claim) -> bool:
    taxonomy = claim.billing_provider.taxonomy or ""
    return taxonomy.upper().startswith(DME_SUPPLIER_TAXONOMY_PREFIX)


def _status(entry: ProcedureCode | None, on: date) -> CodeStatusValue:
    return entry.status_on(on) if entry is not None else "unknown"


def enrich_line(line: ServiceLine, codesets: CodeSets, *, dme_supplier: bool) -> LineEnrichment:
    """The line's enrichment, worked out once per code, release combination, MUE table and
    NDC (the code sets' memo) and shared by every line that has them."""
    v = line.__dict__  # the fields, without pydantic's attribute hook on each
    drug = v["drug"]
    key = (
        "enrichment",
        v["procedure_code"],
        codesets.day(v["service_date"]).key,
        dme_supplier,
        drug.ndc if drug is not None else None,
    )
    found = codesets.memo.get(key)  # read directly: the usual case, no closure built
    if found is None:
        found = codesets.memoised(
            key, lambda: compute_enrichment(line, codesets, dme_supplier=dme_supplier)
        )
    return found


def compute_enrichment(
    line: ServiceLine, codesets: CodeSets, *, dme_supplier: bool
) -> LineEnrichment:
    code, dos = line.procedure_code, line.service_date
    system = code_system(code)
    releases: dict[str, str] = {}

    def note(release: ReleaseInfo | None) -> None:
        if release is not None:
            releases[release.kind] = release.release_id

    entry: ProcedureCode | None = None
    category: Level2Category | None = None
    noc = False
    status: CodeStatusValue = "unknown"
    if system == "HCPCS Level II":
        found = codesets.hcpcs(code, dos)
        entry = found.value
        note(found.release)
        status = _status(entry, dos)
        category = Level2Category(letter=code[0], meaning=LEVEL2_CATEGORIES.get(code[0], "unknown"))
        noc_list = codesets.noc(code, dos)
        note(noc_list.release)
        noc = bool(entry and entry.noc) or noc_list.value is not None
    elif system != "unknown":
        found = codesets.cpt(code, dos)
        entry = found.value
        note(found.release)
        status = _status(entry, dos)
    fees = codesets.fee_schedule(code, dos)
    note(fees.release)
    if status == "unknown" and system != "HCPCS Level II" and fees.value is not None:
        status = "active"  # on the fee schedule in force on the date of service
    mue = codesets.mue(code, dos, dme_supplier=dme_supplier)
    note(mue.release)
    rbcs = codesets.rbcs(code, dos)
    note(rbcs.release)
    add_on = codesets.add_on(code, dos)
    note(add_on.release)
    pfs = fees.value
    return LineEnrichment(
        code_system=system,
        level2_category=category,
        short_descriptor=entry.short_descriptor if entry else None,
        status=status,
        noc=noc,
        coverage_code=entry.coverage_code if entry else None,
        pricing_indicator=entry.pricing_indicator if entry else None,
        pfs_status=pfs.status if pfs else None,
        global_days=pfs.global_days if pfs else None,
        pc_tc_indicator=pfs.pc_tc if pfs else None,
        bilateral_indicator=pfs.bilateral if pfs else None,
        mue=MueFact(
            value=mue.value.value,
            mai=mue.value.mai,
            table="dme_supplier" if dme_supplier else "practitioner",
            release=mue.release.release_id,
        )
        if mue.value and mue.release
        else None,
        betos=entry.betos if entry else None,
        rbcs=RbcsFact(
            category=rbcs.value.category,
            subcategory=rbcs.value.subcategory,
            family=rbcs.value.family,
        )
        if rbcs.value
        else None,
        add_on=AddOnFact(
            edit_type=add_on.value.edit_type,
            primaries=list(add_on.value.primaries[:_MAX_PRIMARIES]),
            any_primary=add_on.value.any_primary,
        )
        if add_on.value
        else None,
        drug=_drug(line, codesets, releases),
        releases=releases,
    )


def _drug(line: ServiceLine, codesets: CodeSets, releases: dict[str, str]) -> DrugFact | None:
    price = codesets.asp_price(line.procedure_code, line.service_date)
    crosswalk = codesets.ndc_crosswalk(line.procedure_code, line.service_date)
    if price.value is None and crosswalk.value is None:
        return None
    for lookup in (price, crosswalk):
        if lookup.release is not None:
            releases[lookup.release.kind] = lookup.release.release_id
    values: dict[str, Any] = {
        "dosage": price.value.dosage if price.value else None,
        "payment_limit": price.value.payment_limit if price.value else None,
    }
    if line.drug is not None and crosswalk.value is not None:
        ndc = normalise_ndc(line.drug.ndc)
        match = next((item for item in crosswalk.value if item.ndc == ndc), None)
        values["ndc_in_crosswalk"] = match is not None
        if match is not None:
            values["ndc_bill_units"] = match.bill_units
            values["dosage"] = values["dosage"] or match.dosage
    return DrugFact(**values)


def normalise_ndc(ndc: str) -> str:
    """An NDC as 11 digits: 5-4-2 hyphenated or plain; the 4-4-2, 5-3-2 and 5-4-1 forms are
    zero-padded in the short segment. Anything else is returned as given (digits only)."""
    parts = ndc.strip().split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        a, b, c = parts
        return a.zfill(5) + b.zfill(4) + c.zfill(2)
    return "".join(ch for ch in ndc if ch.isdigit())


def enrich_claim(claim: Claim, codesets: CodeSets) -> EnrichedClaim:
    """The claim with each line's enrichment, built without re-validating what was read."""
    dme_supplier = is_dme_supplier(claim)
    lines = []
    for line in claim.lines:
        values = dict(line.__dict__)
        values["enrichment"] = enrich_line(line, codesets, dme_supplier=dme_supplier)
        lines.append(
            construct(
                EnrichedLine,
                values,
                line.model_fields_set | {"enrichment"},
                line.__pydantic_extra__,
            )
        )
    values = dict(claim.__dict__)
    values["lines"] = lines
    return construct(EnrichedClaim, values, claim.model_fields_set, claim.__pydantic_extra__)


def enrich_claim_in_place(claim: Claim, codesets: CodeSets) -> EnrichedClaim:
    """`enrich_claim` for a claim nobody else holds (the scrubber's own, just read): the
    claim and its lines become the enriched models themselves (the same fields, each line's
    enrichment added last) instead of being copied. The claim must not be used as a `Claim`
    afterwards."""
    dme_supplier = is_dme_supplier(claim)
    set_class = object.__setattr__
    for line in claim.lines:
        line.__dict__["enrichment"] = enrich_line(line, codesets, dme_supplier=dme_supplier)
        line.__pydantic_fields_set__.add("enrichment")
        set_class(line, "__class__", EnrichedLine)
    set_class(claim, "__class__", EnrichedClaim)
    return claim  # type: ignore[return-value]


def service_dates(claim: Claim) -> list[date]:
    # The fields read from `__dict__`, without pydantic's attribute hook (every claim).
    return [line.__dict__["service_date"] for line in claim.__dict__["lines"]]

"""Line facts: what makes a line edit applicable, worked out once per code and release
combination.

A line's enrichment is computed once per procedure code, release combination in force on the
date of service, MUE table and NDC, and shared by every line that has them; its facts (has a
per-line MUE, is an add-on code, is a drug, is not otherwise classified, DME pricing
category, ...) are worked out from it once and kept with it. Two facts come from the line
itself and cost a test each: `modifiers` (the line has modifiers) and `ndc` (it gives an NDC).

Each check names the facts of which at least one must hold on some line of a claim for it to
find anything (`@check(..., when=...)`); a claim runs the checks without a `when` plus those
its lines' facts make applicable. The facts are a sound over-approximation: a check skipped
for lack of them would have found nothing (the equivalence tests hold the engine to that).
"""

from __future__ import annotations

from collections.abc import Iterable

from processor.codes import in_ranges
from processor.models import EnrichedLine, LineEnrichment

# Line facts that come from the line rather than its enrichment.
MODIFIERS = "modifiers"
NDC = "ndc"

_INVALID_STATUS = frozenset({"unknown", "terminated", "not_yet_effective"})


def enrichment_facts(code: str, e: LineEnrichment) -> frozenset[str]:
    """The facts of a code under one enrichment (code, releases, MUE table, NDC)."""
    # Imported here: the check modules import this package's base, not this module.
    from processor.edits.code_validity import _COVERAGE, _PFS_STATUS
    from processor.edits.items import (
        DRUG_ADMINISTRATION,
        ORDERED_ITEMS,
        SUPPLIES_AS_CPT,
        is_drug_code,
    )
    from processor.edits.modifiers import (
        AMBULANCE,
        E_M,
        LIMB_L_CODES,
        LIMB_ORTHOTIC,
        PURCHASE_OR_RENTAL,
    )

    facts: set[str] = set()
    if e.code_system == "unknown":
        facts.add("bad_code_format")
    elif e.status in _INVALID_STATUS:
        facts.add("code_invalid")
    if e.code_system == "CPT Category II":
        facts.add("category_ii")
    if e.coverage_code in _COVERAGE or e.pfs_status in _PFS_STATUS:
        facts.add("not_covered")
    if e.pfs_status == "B":
        facts.add("bundled")
    if e.noc:
        facts.add("noc")
    if in_ranges(code, LIMB_L_CODES):
        facts.add(LIMB_ORTHOTIC)
    if e.pricing_indicator in PURCHASE_OR_RENTAL:
        facts.add("dme_purchase_rental")
    if code.startswith("J") and (
        (e.drug is not None and e.drug.payment_limit is not None)
        # No ASP file in force for the date: DRUG-WASTAGE takes the nearest file or says
        # it could not judge.
        or "asp_pricing" not in e.releases
    ):
        facts.add("asp_drug")
    if in_ranges(code, E_M):
        facts.add("e_m")
    if e.global_days in ("000", "010"):
        facts.add("minor_procedure")
    if in_ranges(code, AMBULANCE):
        facts.add("ambulance")
    mue = e.mue
    if mue is not None:
        if mue.value == 0:
            facts.add("mue_zero")
        elif mue.mai == 1:
            facts.add("mue_line")
        elif mue.mai in (2, 3):
            facts.add("mue_day")
    if e.add_on is not None:
        facts.add("add_on")
    if is_drug_code(code, e):
        facts.add("drug")
    if in_ranges(code, DRUG_ADMINISTRATION):
        facts.add("drug_admin")
    if code in SUPPLIES_AS_CPT:
        facts.add("supply_cpt")
    if in_ranges(code, ORDERED_ITEMS):
        facts.add("ordered_item")
    return frozenset(facts)


LINE_FACTS = frozenset(
    {
        MODIFIERS,
        NDC,
        "bad_code_format",
        "code_invalid",
        "category_ii",
        "not_covered",
        "bundled",
        "noc",
        "limb_orthotic",
        "dme_purchase_rental",
        "asp_drug",
        "e_m",
        "minor_procedure",
        "ambulance",
        "mue_zero",
        "mue_line",
        "mue_day",
        "add_on",
        "drug",
        "drug_admin",
        "supply_cpt",
        "ordered_item",
    }
)


def facts_of(line: EnrichedLine) -> frozenset[str]:
    """The line's enrichment facts, computed once per enrichment and kept with it."""
    e = line.enrichment
    private = e.__pydantic_private__
    found = private.get("_facts") if private is not None else None
    if found is None:
        found = enrichment_facts(line.procedure_code, e)
        if private is not None:
            private["_facts"] = found
    return found


def claim_facts(lines: Iterable[EnrichedLine]) -> frozenset[str]:
    """Every fact that holds on some line of the claim."""
    facts: set[str] = set()
    for line in lines:
        facts.update(facts_of(line))
        if line.modifiers:
            facts.add(MODIFIERS)
        if line.drug is not None:
            facts.add(NDC)
    return frozenset(facts)

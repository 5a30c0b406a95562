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

from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from processor.codes import in_ranges
from processor.codesets import CodeSets
from processor.codesets.model import CodeSetRelease, PtpEdit
from processor.codesets.ptp import PtpTable
from processor.edits.diagnosis import (
    AGE_DIAGNOSIS,
    DX_PROBLEM,
    FEMALE_PROCEDURES,
    FIRST_EXTERNAL,
    FIRST_MANIFESTATION,
    MALE_PROCEDURES,
    SEX_DIAGNOSIS,
    SEX_PROCEDURE,
    diagnosis_claim_facts,
)
from processor.edits.format import MODIFIER_FORMAT as _MODIFIER_FORMAT
from processor.edits.format import POS_UNKNOWN, pos_unknown
from processor.edits.items import NDC_PROBLEM, ndc_problem
from processor.edits.provider import NPI_INVALID, npi_valid
from processor.models import EnrichedLine, LineEnrichment

if TYPE_CHECKING:
    from processor.edits.base import ClaimContext

# Line facts that come from the line rather than its enrichment.
MODIFIERS = "modifiers"
NDC = "ndc"
# The line's code is column 1 of some NCCI PTP pair in the release in force.
PTP_CODE = "ptp_code"

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
    if in_ranges(code, FEMALE_PROCEDURES) or in_ranges(code, MALE_PROCEDURES):
        facts.add(SEX_PROCEDURE)
    return frozenset(facts)


LINE_FACTS = frozenset(
    {
        MODIFIERS,
        NDC,
        NDC_PROBLEM,
        PTP_CODE,
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
        SEX_PROCEDURE,
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


class Column1:
    """A code that is column 1 of some pair in one PTP release: the release, and the rows of
    each pair with it in column 1 that was asked about, looked up once each (the lookup is a
    bisect over the whole table)."""

    __slots__ = ("code", "pairs", "release", "table")

    def __init__(self, release: CodeSetRelease, code: str) -> None:
        self.release = release
        self.table = release.entries
        self.code = code
        self.pairs: dict[str, list[PtpEdit]] = {}

    def rows(self, column2: str) -> list[PtpEdit]:
        """The rows of the pair (this code, `column2`)."""
        found = self.pairs.get(column2)
        if found is None:
            if len(self.pairs) >= _MAX_PAIRS:
                self.pairs.clear()
            found = self.pairs[column2] = self.table.rows(self.code, column2)
        return found


_MAX_PAIRS = 4096  # column-2 codes kept per column-1 code and release


def _column1(codesets: CodeSets, code: str, on: date) -> Column1 | None:
    """The code as column 1 in the PTP release in force, None when it is column 1 of no pair
    there (once per code and release)."""
    release = codesets.release_for("ncci_ptp", on)
    if release is None:
        return None
    return codesets.memoised(
        ("ptp column 1", id(release), code), partial(_make_column1, release, code)
    )


def _make_column1(release: CodeSetRelease, code: str) -> Column1 | None:
    table = release.entries
    if isinstance(table, PtpTable) and not table.has_column1(code):
        return None
    return Column1(release, code)


def line_column1(codesets: CodeSets, line: EnrichedLine) -> Column1 | None:
    """`_column1` for the line's code and date, kept with the line's enrichment (which is
    shared per code and release combination, so per PTP release too; False there: none)."""
    private = line.enrichment.__pydantic_private__
    found: Any = private.get("_ptp_column1") if private is not None else None
    if found is None:
        found = _column1(codesets, line.procedure_code, line.service_date) or False
        if private is not None:
            private["_ptp_column1"] = found
    return found or None


# Facts of a line's modifiers (worked out once per list of modifiers): some modifier is not
# two letters or digits or appears twice (MOD-FORMAT); 26 or TC (MOD-PCTC); RT with LT, or
# 50 with either (MOD-LATERALITY).
MODIFIER_FORMAT = "modifier_format"
PC_TC = "pc_tc_modifier"
# A line's two-character modifier that neither modifier list in force has (MOD-UNKNOWN).
MODIFIER_UNKNOWN = "modifier_unknown"
LATERALITY = "laterality_modifiers"
# Facts of the line's own values: units not above zero (UNITS), a negative charge (CHARGE),
# an end date or a start after the receipt day (DOS-DATES), no diagnosis pointer or one
# outside the claim's diagnoses (DX-POINTER).
UNITS = "units_not_positive"
CHARGE = "negative_charge"
DATES = "dates_to_check"
POINTERS = "pointer_problem"
# Facts of the claim: some line's code is column 1 of an NCCI PTP pair in force and the claim
# has another line (NCCI-PTP); the patient has earlier claims (the history edits); the claim
# is a replacement or a void (FREQ-ORIGINAL); and the first diagnosis's MCE flags
# (processor.edits.diagnosis).
PTP_COLUMN1 = "ptp_column1"
# A line with a per-day MUE has more units than the MUE alone, or shares its code and day
# with another such line (MUE-DAY).
MUE_DAY_TOTAL = "mue_day_total"
HISTORY = "history"
REPLACEMENT_OR_VOID = "replacement_or_void"

CLAIM_FACTS = frozenset(
    {
        MODIFIER_FORMAT,
        MODIFIER_UNKNOWN,
        PC_TC,
        LATERALITY,
        UNITS,
        CHARGE,
        DATES,
        POINTERS,
        PTP_COLUMN1,
        MUE_DAY_TOTAL,
        HISTORY,
        REPLACEMENT_OR_VOID,
        FIRST_EXTERNAL,
        FIRST_MANIFESTATION,
        SEX_DIAGNOSIS,
        AGE_DIAGNOSIS,
        DX_PROBLEM,
        NPI_INVALID,
        POS_UNKNOWN,
    }
)
FACTS = LINE_FACTS | CLAIM_FACTS

_MODIFIER_FACTS: dict[tuple[str, ...], frozenset[str]] = {}
_MAX_MODIFIER_LISTS = 1 << 14
_ZERO = Decimal(0)


def modifier_facts(modifiers: tuple[str, ...]) -> frozenset[str]:
    """The facts of a non-empty list of modifiers, worked out once per list."""
    found = _MODIFIER_FACTS.get(modifiers)
    if found is None:
        facts = {MODIFIERS}
        mods = set(modifiers)
        if len(mods) != len(modifiers) or not all(_MODIFIER_FORMAT.fullmatch(m) for m in modifiers):
            facts.add(MODIFIER_FORMAT)
        if "26" in mods or "TC" in mods:
            facts.add(PC_TC)
        if {"RT", "LT"} <= mods or ("50" in mods and mods & {"RT", "LT"}):
            facts.add(LATERALITY)
        if len(_MODIFIER_FACTS) >= _MAX_MODIFIER_LISTS:
            _MODIFIER_FACTS.clear()
        found = _MODIFIER_FACTS[modifiers] = frozenset(facts)
    return found


def some_modifier_unknown(codesets: CodeSets, modifiers: tuple[str, ...], on: date) -> bool:
    """Whether some two-character modifier of the list is in neither modifier list in force
    on `on` (MOD-UNKNOWN's verdict per modifier and release combination, shared with it)."""
    memo = codesets.memo
    day_key = codesets.day(on).key
    for modifier in modifiers:
        if len(modifier) != 2:
            continue
        key = ("modifier unknown", modifier, day_key)
        unknown = memo.get(key)
        if unknown is None:
            from processor.edits.modifiers import _unknown_modifier  # it imports this module

            unknown = codesets.memoised(key, partial(_unknown_modifier, codesets, modifier, on))
        if unknown:
            return True
    return False


def line_facts(codesets: CodeSets, line: EnrichedLine) -> frozenset[str]:
    """`facts_of` and whether the code is column 1 of a PTP pair in force (`PTP_CODE`),
    computed once per enrichment and kept with it."""
    private = line.enrichment.__pydantic_private__
    found = private.get("_line_facts") if private is not None else None
    if found is None:
        found = facts_of(line)
        if line_column1(codesets, line) is not None:
            found = found | {PTP_CODE}
        if private is not None:
            private["_line_facts"] = found
    return found


def claim_facts(ctx: ClaimContext) -> frozenset[str]:
    """Every fact that holds on some line of the claim, and the claim's own facts.

    Reads the models' values from their `__dict__` (every field is there): an attribute of a
    pydantic model goes through its `__getattr__` hook, and this runs for every claim."""
    claim = ctx.claim
    values = claim.__dict__
    codesets = ctx.codesets
    lines = values["lines"]
    facts: set[str] = set()
    add = facts.add
    received_on = ctx.received_on
    count = len(values["diagnoses"])
    day_mue: set[tuple[str, date]] | None = None
    for line in lines:
        v = line.__dict__
        enrichment = v["enrichment"]
        private = enrichment.__pydantic_private__
        found = private.get("_line_facts") if private is not None else None
        if found is None:
            found = line_facts(codesets, line)
        facts |= found
        units = v["units"]
        if "mue_day" in found:
            mue = enrichment.mue
            day = (v["procedure_code"], v["service_date"])
            if mue is not None and units > mue.value:
                add(MUE_DAY_TOTAL)
            elif day_mue is None:
                day_mue = {day}
            elif day in day_mue:
                add(MUE_DAY_TOTAL)  # two lines of one code and day: their total counts
            else:
                day_mue.add(day)
        modifiers = v["modifiers"]
        if modifiers:
            key = tuple(modifiers)
            found = _MODIFIER_FACTS.get(key)
            facts |= found if found is not None else modifier_facts(key)
            if MODIFIER_UNKNOWN not in facts and some_modifier_unknown(
                codesets, key, v["service_date"]
            ):
                add(MODIFIER_UNKNOWN)
        drug = v["drug"]
        if drug is not None:
            add(NDC)
            if ndc_problem(drug):
                add(NDC_PROBLEM)
        if units <= _ZERO:
            add(UNITS)
        if v["charge"] < _ZERO:
            add(CHARGE)
        if v["service_date_end"] is not None or v["service_date"] > received_on:
            add(DATES)
        pointers = v["diagnosis_pointers"]
        if not pointers or min(pointers) < 1 or max(pointers) > count:
            add(POINTERS)
        provider = v["rendering_provider"]
        if provider is not None and not npi_valid(provider.npi):
            add(NPI_INVALID)
        pos = v["place_of_service"]
        if pos is not None and pos_unknown(ctx, pos, v["service_date"]):
            add(POS_UNKNOWN)
    if not npi_valid(values["billing_provider"].npi):
        add(NPI_INVALID)
    for name in ("rendering_provider", "referring_provider"):
        provider = values[name]
        if provider is not None and not npi_valid(provider.npi):
            add(NPI_INVALID)
    first_dos = ctx.first_service_date
    if first_dos is not None and pos_unknown(ctx, values["place_of_service"], first_dos):
        add(POS_UNKNOWN)
    if PTP_CODE in facts and len(lines) > 1:
        add(PTP_COLUMN1)
    facts |= diagnosis_claim_facts(ctx)
    if ctx.history.claims:
        add(HISTORY)
    if values["frequency_code"] in ("7", "8"):
        add(REPLACEMENT_OR_VOID)
    return frozenset(facts)

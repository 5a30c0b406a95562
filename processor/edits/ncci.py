"""NCCI procedure-to-procedure, MUE and add-on code edits (edits.md, "NCCI, MUE, add-on"),
on the CMS practitioner tables in force on each line's date of service."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from processor.codesets.store import ptp_in_force
from processor.edits.base import ClaimContext, Hit, check
from processor.edits.facts import line_column1
from processor.edits.modifiers import is_e_m
from processor.models import EnrichedLine

# NCCI-associated modifiers (NCCI Policy Manual ch. I §E): with PTP modifier indicator 1,
# one of these on either line bypasses the edit. 25 and 57 count only on the E/M line.
NCCI_MODIFIERS = frozenset(
    {
        "59",
        "XE",
        "XS",
        "XP",
        "XU",
        "58",
        "78",
        "79",
        "24",
        "27",
        "91",
        "E1",
        "E2",
        "E3",
        "E4",
        "FA",
        "F1",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "F7",
        "F8",
        "F9",
        "TA",
        "T1",
        "T2",
        "T3",
        "T4",
        "T5",
        "T6",
        "T7",
        "T8",
        "T9",
        "LT",
        "RT",
        "LC",
        "LD",
        "RC",
        "LM",
        "RI",
    }
)
E_M_ONLY_MODIFIERS = frozenset({"25", "57"})


def bypass_modifier(line: EnrichedLine) -> str | None:
    for modifier in line.modifiers:
        if modifier in NCCI_MODIFIERS or (modifier in E_M_ONLY_MODIFIERS and is_e_m(line)):
            return modifier
    return None


@check("NCCI-PTP", when={"ptp_column1"})
def check_ptp(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    lines = ctx.lines
    if len(lines) < 2:
        return
    codesets = ctx.codesets
    # Only a code that is column 1 of some pair can make another line column 2.
    column1 = []
    for j, line in enumerate(lines):
        found = line_column1(codesets, line)
        if found is not None:
            column1.append((j, found))
    if not column1:
        return
    npis = [ctx.rendering_npi(line) for line in lines]
    for i, col2 in enumerate(lines):
        code2 = col2.procedure_code
        for j, pairs in column1:
            col1 = lines[j]
            if i == j or col1.service_date != col2.service_date or npis[i] != npis[j]:
                continue
            rows = pairs.pairs.get(code2)
            if rows is None:
                rows = pairs.rows(code2)
            if not rows:
                continue  # the usual case: no pair
            pair = ptp_in_force(rows, col2.service_date)
            if pair is None or pair.modifier_indicator == "9":
                continue
            if pair.modifier_indicator == "1":
                bypass = bypass_modifier(col2) or bypass_modifier(col1)
                if bypass:
                    continue
                why = "and no NCCI-associated modifier on either line"
                fix = (
                    f"If the services were distinct (separate site, session or encounter), append "
                    f"XS/XE/XU/XP or 59 to line {col2.line_number}; else remove line {col2.line_number}"
                )
            else:
                why = "(never bypassed by a modifier)"
                fix = f"Remove line {col2.line_number}: {col2.procedure_code} is not paid with {col1.procedure_code}"
            yield Hit(
                col2.line_number,
                {
                    "line": col2.line_number,
                    "column1": col1.procedure_code,
                    "column2": col2.procedure_code,
                    "other": col1.line_number,
                    "dos": col2.service_date,
                    "indicator": pair.modifier_indicator,
                    "why": why,
                    "fix": fix,
                },
                {
                    "column1": col1.procedure_code,
                    "column2": col2.procedure_code,
                    "modifier_indicator": pair.modifier_indicator,
                    "deletion_date": str(pair.deletion_date) if pair.deletion_date else None,
                    "release": pairs.release.info.release_id,
                },
            )
            break  # one finding per column-2 line


def _mue_evidence(line: EnrichedLine) -> dict[str, Any]:
    mue = line.enrichment.mue
    assert mue is not None
    return {"mue": mue.value, "mai": mue.mai, "table": mue.table, "release": mue.release}


@check("MUE-LINE", when={"mue_line"})
def check_mue_line(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        mue = line.enrichment.mue
        if mue is not None and mue.mai == 1 and mue.value > 0 and line.units > mue.value:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "units": line.units,
                    "code": line.procedure_code,
                    "mue": mue.value,
                    "table": mue.table.replace("_", "-"),
                },
                _mue_evidence(line),
            )


@check("MUE-DAY", when={"mue_day_total"})
def check_mue_day(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    groups: dict[tuple[str, Any], list[EnrichedLine]] = {}
    for line in ctx.lines:
        mue = line.enrichment.mue
        if mue is not None and mue.mai in (2, 3) and mue.value > 0:
            key = (line.procedure_code, line.service_date)
            group = groups.get(key)
            if group is None:
                groups[key] = [line]
            else:
                group.append(line)
    for (code, dos), lines in groups.items():
        mue = lines[0].enrichment.mue
        assert mue is not None
        if len(lines) == 1 and lines[0].units <= mue.value:
            continue  # one line within the limit (the usual case): its total is its units
        total = sum((line.units for line in lines), Decimal(0))
        if total <= mue.value:
            continue
        policy = mue.mai == 2
        for line in lines:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "total": total,
                    "code": code,
                    "dos": dos,
                    "lines": ", ".join(str(x.line_number) for x in lines),
                    "mue": mue.value,
                    "mai": mue.mai,
                    "kind": "policy, not appealable" if policy else "clinical, appealable",
                    "appeal": "" if policy else "; units above it can be appealed with the records",
                },
                {**_mue_evidence(line), "total_units": str(total)},
                appealable=not policy,
            )


@check("MUE-ZERO", when={"mue_zero"})
def check_mue_zero(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        mue = line.enrichment.mue
        if mue is not None and mue.value == 0:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "code": line.procedure_code,
                    "table": mue.table.replace("_", "-"),
                },
                _mue_evidence(line),
            )


@check("ADDON-PRIMARY", when={"add_on"})
def check_add_on(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    for line in ctx.lines:
        add_on = line.enrichment.add_on
        if add_on is None:
            continue
        same_day = [x for x in ctx.lines if x is not line and x.service_date == line.service_date]
        codes = {x.procedure_code for x in same_day}
        # The enrichment shows at most 50 primaries; judge by the code sets' whole list.
        full = ctx.codesets.add_on(line.procedure_code, line.service_date).value
        primaries = full.primaries if full is not None else tuple(add_on.primaries)
        if primaries and codes.intersection(primaries):
            continue
        if add_on.any_primary or add_on.edit_type in (2, 3):
            # Any primary will do, but some primary must be there: a line that is not
            # itself an add-on code.
            if any(x.enrichment.add_on is None for x in same_day):
                continue
            needed = "primary procedure"
        else:
            shown = ", ".join(primaries[:8]) + (" ..." if len(primaries) > 8 else "")
            needed = f"listed primary ({shown})"
        yield Hit(
            line.line_number,
            {
                "line": line.line_number,
                "code": line.procedure_code,
                "type": add_on.edit_type,
                "needed": needed,
                "dos": line.service_date,
            },
            {
                "edit_type": add_on.edit_type,
                "primaries": list(primaries[:20]),
                "release": line.enrichment.releases.get("add_on"),
            },
        )

"""Diagnosis edits (edits.md, "Diagnosis")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from processor.edits.base import ClaimContext, Hit, edit


@edit(
    "DX-POINTER",
    name="Diagnosis pointer",
    stage="diagnosis",
    category="diagnosis",
    level="line",
    disposition="reject",
    group_code="CO",
    carc="16",
    rarc=("M76",),
    appealable=False,
    message="Line {line}: {problem}",
    fix="Point line {line} at the diagnoses (1 to {count}) that support {code}",
)
def check_pointers(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    count = len(ctx.claim.diagnoses)
    for line in ctx.lines:
        base = {"line": line.line_number, "count": count, "code": line.procedure_code}
        if not line.diagnosis_pointers:
            yield Hit(
                line.line_number,
                {**base, "problem": "no diagnosis pointer"},
                {"diagnosis_pointers": [], "diagnoses": count},
            )
            continue
        bad = [p for p in line.diagnosis_pointers if p < 1 or p > count]
        if bad:
            problem = (
                f"diagnosis pointer(s) {', '.join(map(str, bad))} fall outside the "
                f"{count} diagnoses on the claim"
            )
            yield Hit(
                line.line_number,
                {**base, "problem": problem},
                {"diagnosis_pointers": list(line.diagnosis_pointers), "diagnoses": count},
            )

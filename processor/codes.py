"""Procedure-code shapes: which code system a code belongs to, by its format alone."""

from __future__ import annotations

import re
from functools import lru_cache

from processor.models.outputs import CodeSystem

LEVEL2_FORMAT = re.compile(r"[A-V][0-9]{4}")
# CPT: four digits then a digit (Category I), F (II), T (III), U (PLA) or M (multianalyte
# assays with algorithmic analyses, administrative Category I codes such as 0002M).
CPT_FORMAT = re.compile(r"[0-9]{4}[0-9FTUM]")
_CPT_SYSTEM: dict[str, CodeSystem] = {
    "F": "CPT Category II",
    "T": "CPT Category III",
    "U": "CPT PLA",
}


@lru_cache(maxsize=1 << 16)
def code_system(code: str) -> CodeSystem:
    if LEVEL2_FORMAT.fullmatch(code):
        return "HCPCS Level II"
    if CPT_FORMAT.fullmatch(code):
        return _CPT_SYSTEM.get(code[-1], "CPT Level I")
    return "unknown"


@lru_cache(maxsize=1 << 16)  # a pure function of a code: kept per code in use
def in_ranges(code: str, ranges: tuple[tuple[str, str], ...]) -> bool:
    """Whether the code lies in one of the inclusive (low, high) ranges of codes of its length
    (procedure codes, or ICD-10-CM categories such as ("O00", "O9A"))."""
    return any(low <= code <= high and len(code) == len(low) for low, high in ranges)

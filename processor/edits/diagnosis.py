"""Diagnosis edits (edits.md, "Diagnosis")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from processor.codes import in_ranges
from processor.edits.base import ClaimContext, Hit, check


@check("DX-POINTER")
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


def _category(code: str) -> str:
    return code.replace(".", "").upper()[:3]


def _in(code: str, ranges: tuple[tuple[str, str], ...]) -> bool:
    return in_ranges(_category(code), ranges)


@check("DX-INVALID")
def check_invalid_diagnosis(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    dos = min(line.service_date for line in ctx.lines)
    for position, code in enumerate(ctx.claim.diagnoses, start=1):
        found = ctx.codesets.diagnosis(code, dos)
        if found.release is None:
            continue  # no ICD-10-CM release for the date: nothing to judge against
        if found.value is None:
            problem = "not a code"
        elif not found.value.billable:
            problem = "a header (it has more specific codes below it), not billable"
        else:
            continue
        yield Hit(
            None,
            {
                "position": position,
                "code": code,
                "problem": problem,
                "release": found.release.release_id,
                "dos": dos,
            },
            {"diagnosis": code, "position": position, "release": found.release.release_id},
        )


_EXTERNAL_CAUSE = (("V00", "Y99"),)


@check("DX-EXTERNAL-FIRST")
def check_external_first(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    first = ctx.claim.diagnoses[0]
    if _in(first, _EXTERNAL_CAUSE):
        yield Hit(None, {"code": first}, {"diagnosis": first})


@check("DX-MANIFESTATION-FIRST")
def check_manifestation_first(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    first = ctx.claim.diagnoses[0]
    found = ctx.codesets.diagnosis(first, min(line.service_date for line in ctx.lines))
    if found.value is not None and found.value.manifestation and found.release is not None:
        yield Hit(
            None,
            {"code": first, "release": f" (ICD-10-CM {found.release.release_id})"},
            {"diagnosis": first, "release": found.release.release_id},
        )


# Sex-specific code ranges (ICD-10-CM chapter and block titles; CPT section headings).
# Diagnoses for females only: pregnancy, childbirth and the puerperium O00-O9A; female
# genital organs N70-N98 and their neoplasms C51-C58, D25-D28; pregnancy encounters
# Z32-Z3A. Males only: male genital organs N40-N53, their neoplasms C60-C63 and D29.
# Procedures for females only: CPT female genital system and maternity 56405-59899,
# screening pelvic examination G0101 and Pap smear collection Q0091; males only: CPT
# male genital system 54000-55899 and PSA screening G0103.
FEMALE_DIAGNOSES = (("O00", "O9A"), ("N70", "N98"), ("C51", "C58"), ("D25", "D28"), ("Z32", "Z3A"))
MALE_DIAGNOSES = (("N40", "N53"), ("C60", "C63"), ("D29", "D29"))
FEMALE_PROCEDURES = (("56405", "59899"), ("G0101", "G0101"), ("Q0091", "Q0091"))
MALE_PROCEDURES = (("54000", "55899"), ("G0103", "G0103"))
_MATERNITY = (("O00", "O9A"),)
_PERINATAL = (("P00", "P96"), ("Z38", "Z38"))


@check("SEX-CONFLICT")
def check_sex(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    sex = ctx.claim.patient.sex
    if sex == "U":
        return
    other = (
        (MALE_DIAGNOSES, MALE_PROCEDURES, "male")
        if sex == "F"
        else (FEMALE_DIAGNOSES, FEMALE_PROCEDURES, "female")
    )
    for position, code in enumerate(ctx.claim.diagnoses, start=1):
        if _in(code, other[0]):
            yield Hit(
                None,
                {
                    "what": f"Diagnosis {position}",
                    "code": code,
                    "sex": other[2],
                    "patient_sex": sex,
                    "kind": "diagnosis",
                },
                {"diagnosis": code, "patient_sex": sex},
                carc="10",
            )
    for line in ctx.lines:
        if in_ranges(line.procedure_code, other[1]):
            yield Hit(
                line.line_number,
                {
                    "what": f"Line {line.line_number}: procedure",
                    "code": line.procedure_code,
                    "sex": other[2],
                    "patient_sex": sex,
                    "kind": "procedure",
                },
                {"procedure_code": line.procedure_code, "patient_sex": sex},
                carc="7",
            )


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@check("AGE-CONFLICT")
def check_age(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    dos = min(line.service_date for line in ctx.lines)
    age = age_on(ctx.claim.patient.birth_date, dos)
    for position, code in enumerate(ctx.claim.diagnoses, start=1):
        kind = None
        if _in(code, _PERINATAL) and age > int(params["newborn_max_age"]):
            kind = f"perinatal or newborn (for patients up to {params['newborn_max_age']} year old)"
        elif _in(code, _MATERNITY) and not (
            int(params["maternity_min_age"]) <= age <= int(params["maternity_max_age"])
        ):
            kind = f"maternity (ages {params['maternity_min_age']}-{params['maternity_max_age']})"
        if kind:
            yield Hit(
                None,
                {
                    "position": position,
                    "code": code,
                    "kind": kind,
                    "age": f"{age} years old",
                    "dos": dos,
                },
                {"diagnosis": code, "age": age},
            )

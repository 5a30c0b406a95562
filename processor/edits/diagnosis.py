"""Diagnosis edits (edits.md, "Diagnosis")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from processor.codes import in_ranges
from processor.codesets.mce import (
    LAST_SEX_EDIT_DAY,
    MISSING_TABLE,
    NO_MCE,
    DiagnosisFacts,
    _Missing,
    age_range,
    any_period_flags,
    any_period_flags_table,
    diagnosis_facts,
    mce_loaded,
    mce_valid_on,
    period_text,
)
from processor.codesets.model import (
    MCE_AGE_GROUPS,
    CodeSetRelease,
    DiagnosisCode,
    kept,
    release_table,
)
from processor.codesets.store import CodeSets
from processor.edits.base import ClaimContext, Hit, check

# The claim fact (processor.edits.facts) of DX-INVALID: some diagnosis is not a valid
# billable code in the ICD-10-CM release in force, or the release in force was published for
# an earlier period (the check then judges each code by the date).
DX_PROBLEM = "dx_problem"


@check("DX-POINTER", when={"pointer_problem"})
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


def _first_dos(ctx: ClaimContext) -> date:
    return ctx.first_service_date or min(line.service_date for line in ctx.lines)


def _not_judged(ctx: ClaimContext, table: str, dos: date) -> Hit:
    """The same hit for every claim with this table missing on this date."""
    return ctx.codesets.memoised(
        ("not judged", table, dos),
        lambda: Hit(
            None,
            {},
            {"missing": table, "dos": str(dos)},
            not_judged=f"{table} for {dos}",
            shared=True,
        ),
    )


def _claim_facts(ctx: ClaimContext, code: str, on: date) -> DiagnosisFacts | _Missing | None:
    """`diagnosis_facts`, kept with the claim: its checks ask about the same diagnoses."""
    key = ("mce facts", code, on)
    memo = ctx.memo
    found = memo.get(key, memo)
    if found is memo:
        found = memo[key] = diagnosis_facts(ctx.codesets, code, on)
    return found


def _facts(ctx: ClaimContext, code: str, on: date) -> DiagnosisFacts | None:
    """The code's MCE facts (None: not in the MCE). Call only once NO_MCE is ruled out."""
    found = _claim_facts(ctx, code, on)
    return None if found is NO_MCE else found  # type: ignore[return-value]


@check("DX-INVALID", when={DX_PROBLEM})
def check_invalid_diagnosis(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    dos = _first_dos(ctx)
    # The ICD-10-CM release in force, unless it was published for an earlier year and the
    # MCE (a date-effective list of valid codes) covers the date: the FY2022-FY2024 gap.
    codesets = ctx.codesets
    day = codesets.day(dos)
    icd = day.releases.get("icd10cm")
    current = icd is not None and "icd10cm" not in day.stale
    for position, code in enumerate(ctx.claim.diagnoses, start=1):
        if current:
            assert icd is not None
            verdict = icd10cm_verdict(icd, code)
        else:
            verdict = _verdict_on(codesets, code, dos)
            if verdict is _NO_TABLE:
                yield _not_judged(ctx, "no ICD-10-CM code list or MCE diagnosis table", dos)
                return
        if verdict is None:
            continue
        problem, release = verdict
        yield Hit(
            None,
            {
                "position": position,
                "code": code,
                "problem": problem,
                "release": release,
                "dos": dos,
            },
            {"diagnosis": code, "position": position, "release": release},
        )


_NO_TABLE: Any = ("", "")


def _verdict_on(codesets: CodeSets, code: str, dos: date) -> tuple[str, str] | None:
    """(problem, release) of a diagnosis code on a date the ICD-10-CM release in force does
    not cover (the MCE judges when it covers the date); None when valid; _NO_TABLE when
    neither table is there."""
    mce = mce_valid_on(codesets, code, dos)
    if mce is not None:
        valid, release_id = mce
        return (
            None if valid else ("not a valid billable code on that date", f"CMS MCE {release_id}")
        )
    found = codesets.diagnosis(code, dos)
    if found.release is None:
        return _NO_TABLE
    return _problem(found.value, found.release.release_id)


def icd10cm_verdict(release: CodeSetRelease, code: str) -> tuple[str, str] | None:
    """`_problem` of a diagnosis code (as written) in an ICD-10-CM release in force: the same
    for every date that release is in force, worked out once per release and code;
    `_verdicts_of` holds the answers given so far."""

    def verdict() -> tuple[str, str] | None:
        entry = release.entries.get(code.replace(".", "").upper())
        return _problem(entry, release.info.release_id)

    return kept(_verdicts_of(release), code, verdict, _MAX_VERDICTS)


def _verdicts_of(release: CodeSetRelease) -> dict[str, tuple[str, str] | None]:
    return release_table(_VERDICTS, release)


_UNSEEN: Any = object()
_MAX_VERDICTS = 200_000  # codes as written, per release (hostile input cannot grow it unbounded)
_VERDICTS: dict[int, tuple[CodeSetRelease, dict[str, tuple[str, str] | None]]] = {}


def _problem(found: DiagnosisCode | None, release_id: str) -> tuple[str, str] | None:
    """(problem, release) of a code looked up in an ICD-10-CM release; None when it is a
    valid billable code there."""
    if found is None:
        problem = "not a code"
    elif not found.billable:
        problem = "a header (it has more specific codes below it), not billable"
    else:
        return None
    return problem, f"ICD-10-CM {release_id}"


def _first_flagged(ctx: ClaimContext, flag: str) -> Iterator[Hit]:
    """A hit when the first-listed diagnosis carries the MCE flag on the date of service."""
    first, dos = ctx.claim.diagnoses[0], _first_dos(ctx)
    found = _claim_facts(ctx, first, dos)
    if found is NO_MCE:
        yield _not_judged(ctx, MISSING_TABLE, dos)
    elif isinstance(found, DiagnosisFacts) and flag in found.flags:
        values = {"code": first, "release": f" (CMS MCE {found.release_id})"}
        yield Hit(None, values, {"diagnosis": first, "mce": found.evidence()})


# Claim facts of the diagnoses (processor.edits.facts), from the flags of every MCE period
# of each code (a superset of the flags of the period the edits look at): the first-listed
# diagnosis carries the flag DX-EXTERNAL-FIRST or DX-MANIFESTATION-FIRST looks for; some
# diagnosis carries the other sex's flag (SEX-CONFLICT, with the line fact SEX_PROCEDURE
# for the procedures); some diagnosis has an MCE age group (AGE-CONFLICT). All hold when no
# MCE is loaded (the edits say they could not judge).
FIRST_EXTERNAL = "first_dx_external"
FIRST_MANIFESTATION = "first_dx_manifestation"
SEX_DIAGNOSIS = "sex_diagnosis"
AGE_DIAGNOSIS = "age_diagnosis"
SEX_PROCEDURE = "sex_procedure"  # a line fact: the code is in a sex-specific range
MCE_FACTS = frozenset({FIRST_EXTERNAL, FIRST_MANIFESTATION, SEX_DIAGNOSIS, AGE_DIAGNOSIS})
_AGE_GROUPS = frozenset(MCE_AGE_GROUPS)
_OTHER_SEX = {"F": "male", "M": "female"}


def diagnosis_claim_facts(ctx: ClaimContext) -> set[str]:
    """The claim facts of its diagnoses (above)."""
    codesets = ctx.codesets
    dos = _first_dos(ctx)
    day = codesets.day(dos)
    values = ctx.claim.__dict__  # the fields, without pydantic's attribute hook on each
    diagnoses = values["diagnoses"]
    facts: set[str] = set()
    # DX-INVALID: a verdict per code in an ICD-10-CM release in force; on other dates the
    # check judges each code by the date.
    icd = day.releases.get("icd10cm")
    if icd is None or "icd10cm" in day.stale:
        facts.add(DX_PROBLEM)
    else:
        verdicts = _verdicts_of(icd)
        for code in diagnoses:
            verdict = verdicts.get(code, _UNSEEN)
            if verdict is _UNSEEN:
                verdict = icd10cm_verdict(icd, code)
            if verdict is not None:
                facts.add(DX_PROBLEM)
                break
    release = day.releases.get("mce") or codesets.nearest_release("mce", dos)
    if release is None:
        return facts | MCE_FACTS
    table = any_period_flags_table(release)
    first = diagnoses[0]
    flags = table.get(first)
    if flags is None:
        flags = any_period_flags(release, first)
    if "ecodepdx" in flags:
        facts.add(FIRST_EXTERNAL)
    if "manifestation" in flags:
        facts.add(FIRST_MANIFESTATION)
    other = _OTHER_SEX.get(values["patient"].sex)
    # SEX-CONFLICT may read the flags on CMS's last sex edit day, from the release then.
    sex_release = release
    if other is not None and dos > LAST_SEX_EDIT_DAY:
        sex_release = codesets.nearest_release("mce", LAST_SEX_EDIT_DAY) or release
    for code in diagnoses:
        flags = table.get(code)
        if flags is None:
            flags = any_period_flags(release, code)
        if not flags.isdisjoint(_AGE_GROUPS):
            facts.add(AGE_DIAGNOSIS)
        if other is not None and (
            other in flags
            or (sex_release is not release and other in any_period_flags(sex_release, code))
        ):
            facts.add(SEX_DIAGNOSIS)
    return facts


@check("DX-EXTERNAL-FIRST", when={FIRST_EXTERNAL})
def check_external_first(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    return _first_flagged(ctx, "ecodepdx")


@check("DX-MANIFESTATION-FIRST", when={FIRST_MANIFESTATION})
def check_manifestation_first(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    return _first_flagged(ctx, "manifestation")


# Sex-specific procedure codes (CPT section headings; the MCE covers diagnoses only).
# Females only: CPT female genital system and maternity 56405-59899, screening pelvic
# examination G0101 and Pap smear collection Q0091; males only: CPT male genital system
# 54000-55899 and PSA screening G0103.
FEMALE_PROCEDURES = (("56405", "59899"), ("G0101", "G0101"), ("Q0091", "Q0091"))
MALE_PROCEDURES = (("54000", "55899"), ("G0103", "G0103"))
# What a profile does with diagnoses after CMS's last sex edit day (SEX-CONFLICT parameter).
SEX_POLICIES = ("none", "cms_fy2024")


def _sex_day(dos: date, policy: str) -> date | None:
    """The date whose MCE sex flags apply: the date of service up to CMS's last sex edit day;
    after it, that day if the profile keeps CMS's last lists, else none."""
    if policy not in SEX_POLICIES:
        raise ValueError(f"SEX-CONFLICT after_fy2024={policy!r}: expected one of {SEX_POLICIES}")
    if dos <= LAST_SEX_EDIT_DAY:
        return dos
    return LAST_SEX_EDIT_DAY if policy == "cms_fy2024" else None


@check("SEX-CONFLICT", when={SEX_DIAGNOSIS, SEX_PROCEDURE})
def check_sex(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    sex = ctx.claim.patient.sex
    if sex == "U":
        return
    other = "male" if sex == "F" else "female"
    dos = _first_dos(ctx)
    day = _sex_day(dos, str(params["after_fy2024"]))
    if day is not None:
        yield from _sex_diagnoses(ctx, sex, other, day, dos)
    procedures = MALE_PROCEDURES if sex == "F" else FEMALE_PROCEDURES
    for line in ctx.lines:
        if in_ranges(line.procedure_code, procedures):
            yield Hit(
                line.line_number,
                {
                    "what": f"Line {line.line_number}: procedure",
                    "code": line.procedure_code,
                    "sex": other,
                    "patient_sex": sex,
                    "kind": "procedure",
                },
                {"procedure_code": line.procedure_code, "patient_sex": sex},
                carc="7",
            )


def _sex_diagnoses(ctx: ClaimContext, sex: str, flag: str, day: date, dos: date) -> Iterator[Hit]:
    if not mce_loaded(ctx.codesets):
        yield _not_judged(ctx, MISSING_TABLE, dos)
        return
    for position, code in enumerate(ctx.claim.diagnoses, start=1):
        facts = _facts(ctx, code, day)
        if facts is None or flag not in facts.flags:
            continue
        evidence = {"diagnosis": code, "patient_sex": sex, "mce": facts.evidence()}
        if day != dos:
            evidence["policy"] = (
                f"CMS's last published {flag} list ({day}): the payer profile keeps the sex "
                "edit CMS stopped on 2024-10-01"
            )
        yield Hit(
            None,
            {
                "what": f"Diagnosis {position}",
                "code": code,
                "sex": flag,
                "patient_sex": sex,
                "kind": "diagnosis",
            },
            evidence,
            carc="10",
        )


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@check("AGE-CONFLICT", when={AGE_DIAGNOSIS})
def check_age(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    dos = _first_dos(ctx)
    if not mce_loaded(ctx.codesets):
        yield _not_judged(ctx, MISSING_TABLE, dos)
        return
    age = None
    for position, code in enumerate(ctx.claim.diagnoses, start=1):
        facts = _facts(ctx, code, dos)
        if facts is None or not facts.age_groups:
            continue
        if age is None:
            age = age_on(ctx.claim.patient.birth_date, dos)
        for group in facts.age_groups:
            limits = age_range(ctx.codesets, group, dos)
            if limits is None or limits.low <= age <= limits.high:
                continue
            kind = f"in CMS's {group} age group (ages {limits.low}-{limits.high})"
            yield Hit(
                None,
                {
                    "position": position,
                    "code": code,
                    "kind": kind,
                    "age": f"{age} years old",
                    "dos": dos,
                },
                {
                    "diagnosis": code,
                    "age": age,
                    "age_group": group,
                    "age_range": [limits.low, limits.high],
                    "age_range_period": period_text(limits.start, limits.end),
                    "mce": facts.evidence(),
                },
            )
            break

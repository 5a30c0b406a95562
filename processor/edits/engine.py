"""Runs a profile's edits over one claim, stage by stage, and turns hits into findings.

A claim runs the checks that can fire on any claim plus the line checks its lines' facts make
applicable (processor.edits.facts); the plan for a profile and a set of facts is worked out
once and kept."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from processor.edits.base import ActiveEdit, CheckFn, ClaimContext, EditSpec, Hit
from processor.edits.facts import claim_facts
from processor.models import Finding
from processor.models.construct import construct

StageTimer = Callable[[str, float], None]
StagePlan = Sequence[tuple[str, Sequence[ActiveEdit]]]


class EditFailed(Exception):
    """An edit raised on a claim: the claim goes to the dead-letter topic with this."""

    def __init__(self, stage: str, edit_id: str, cause: BaseException) -> None:
        super().__init__(f"stage {stage}, edit {edit_id}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.edit_id = edit_id
        self.cause = cause


_NOT_JUDGED_FIX = (
    "Load the code-set release with that table for these dates of service (claims-processor "
    "codesets build/publish) and scrub the claim again"
)


def to_finding(spec: EditSpec, hit: Hit) -> Finding:
    if hit.not_judged is not None:
        return construct(
            Finding,
            dict(
                edit_id=spec.edit_id,
                category=spec.category,
                level="line" if hit.line_number is not None else "claim",
                line_number=hit.line_number,
                disposition="info",
                group_code=None,
                carc=None,
                rarc=[],
                appealable=False,
                message=f"{spec.name} not judged: {hit.not_judged}",
                fix=_NOT_JUDGED_FIX,
                evidence={**hit.evidence, "not_judged": True},
            ),
        )
    values = hit.values
    disposition = spec.disposition
    if hit.escalate:
        disposition = spec.parameters.get("escalated_disposition", disposition)
    return construct(
        Finding,
        dict(
            edit_id=spec.edit_id,
            category=spec.category,
            level="line" if hit.line_number is not None else "claim",
            line_number=hit.line_number,
            disposition=disposition,
            group_code=spec.group_code if disposition != "info" else None,
            carc=hit.carc if hit.carc is not None else spec.carc,
            rarc=list(hit.rarc if hit.rarc is not None else spec.rarc),
            appealable=spec.appealable if hit.appealable is None else hit.appealable,
            message=spec.message.format_map(values),
            fix=spec.fix.format_map(values),
            evidence=dict(hit.evidence),
        ),
    )


_SHARED: dict[tuple[int, int], tuple[EditSpec, Hit, Finding]] = {}
_MAX_SHARED = 1 << 13


def shared_finding(spec: EditSpec, hit: Hit) -> Finding:
    """The finding of a shared hit (the same Hit object for every claim that has it), built
    once per spec and hit. The entry keeps both alive, so their ids are not reused while it
    is there. The finding is shared between results like the hit: never changed."""
    key = (id(spec), id(hit))
    found = _SHARED.get(key)
    if found is None or found[0] is not spec or found[1] is not hit:
        if len(_SHARED) >= _MAX_SHARED:
            _SHARED.clear()
        found = _SHARED[key] = (spec, hit, to_finding(spec, hit))
    return found[2]


# A stage's edits as the engine runs them: (spec, check, parameters).
PlannedEdit = tuple[EditSpec, CheckFn, Mapping[str, Any]]
Plan = tuple[tuple[str, tuple[PlannedEdit, ...]], ...]
_PLANS: dict[tuple[int, frozenset[str] | None], tuple[StagePlan, Plan]] = {}
_MAX_PLANS = 1 << 13


def plan_for(stages: StagePlan, facts: frozenset[str] | None) -> Plan:
    """The stages with only the edits applicable to a claim with these facts (every edit
    when `facts` is None)."""
    key = (id(stages), facts)
    found = _PLANS.get(key)
    if found is None or found[0] is not stages:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = tuple(
            (
                stage,
                tuple(
                    (a.spec, a.edit.check, a.spec.parameters)
                    for a in edits
                    if facts is None
                    or (
                        (a.edit.when is None or not a.edit.when.isdisjoint(facts))
                        and a.edit.needs <= facts
                    )
                ),
            )
            for stage, edits in stages
        )
        found = (stages, plan)
        _PLANS[key] = found
    return found[1]


def run_edits(
    ctx: ClaimContext, stages: StagePlan, timer: StageTimer | None = None, *, select: bool = True
) -> list[Finding]:
    """Run each stage's edits in order over one claim; `timer(stage, seconds)` observes.
    With `select` false every edit runs, applicable or not (the reference the tests hold
    the selection to)."""
    findings: list[Finding] = []
    append = findings.append
    clock = time.perf_counter
    facts = None
    if select:
        try:
            facts = claim_facts(ctx)
        except Exception:  # e.g. a value no comparison takes: every edit runs and judges it
            facts = None
    plan = plan_for(stages, facts)
    for stage, edits in plan:
        started = clock() if timer is not None else 0.0
        for spec, check_fn, parameters in edits:
            try:
                for hit in check_fn(ctx, parameters):
                    append(shared_finding(spec, hit) if hit.shared else to_finding(spec, hit))
            except Exception as exc:
                raise EditFailed(stage, spec.edit_id, exc) from exc
        if timer is not None:
            timer(stage, clock() - started)
    return findings

"""Run one edit, or one stage, over one claim: what the per-edit tests use.

    from processor.edits.testing import claim, line, run_edit
    findings = run_edit("NOC-DETAIL", claim(line("J3490", "JZ")))

Claims are built from a clean Medicare claim (`claim(...)`, `line(...)`) or given as a dict;
the code sets are the sample shipped in the package unless given (`sample_with` adds or
replaces entries of a sample table for a case the sample does not have). The edit runs as
the claim's payer profile applies it (its disposition and parameters; `parameters`
overrides them), with every other edit left out, and through the same engine as a scrub.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from processor.codesets import CodeSets, load_codesets
from processor.codesets.model import CodeSetKind, CodeSetRelease
from processor.edits import STAGES, ActiveEdit, ClaimContext, load_catalogue
from processor.edits.engine import run_edits
from processor.enrichment import enrich_claim
from processor.history import EMPTY, PatientHistory
from processor.models import Claim, Finding
from processor.profiles import load_ruleset

NOW = datetime(2024, 12, 1, 12, 0, tzinfo=UTC)
DOS = "2024-11-18"
_BASE: dict[str, Any] = {
    "schema_version": "1",
    "claim_id": "EDIT-TEST-1",
    "frequency_code": "1",
    "received_at": "2024-11-20T14:03:11Z",
    "payer": {"payer_id": "MCR-J15", "plan_type": "medicare"},
    "billing_provider": {"npi": "1234567893", "taxonomy": "207Q00000X"},
    "patient": {"member_id": "SYN100000001", "birth_date": "1948-03-02", "sex": "F"},
    "place_of_service": "11",
    "diagnoses": ["M17.11"],
    "lines": [],
}


def line(
    code: str, *modifiers: str, units: Any = 1, charge: str = "100.00", dos: str = DOS, **extra: Any
) -> dict[str, Any]:
    """A service line: the code, its modifiers, and any other field as a keyword."""
    return {
        "procedure_code": code,
        "modifiers": list(modifiers),
        "units": units,
        "charge": charge,
        "service_date": dos,
        "diagnosis_pointers": [1],
        **extra,
    }


def claim(
    *lines: dict[str, Any], base: dict[str, Any] | None = None, **changes: Any
) -> dict[str, Any]:
    """A claim with these lines (numbered in order), on `base` (default: a clean Medicare
    claim); keywords replace claim fields, and a dict value is merged into a dict field
    (`payer={"plan_type": "medicaid"}`)."""
    data = copy.deepcopy(_BASE if base is None else base)
    data["lines"] = [dict(item, line_number=n) for n, item in enumerate(lines, start=1)]
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


@cache
def sample_codesets() -> CodeSets:
    return load_codesets(None)


def sample_with(kind: CodeSetKind, entries: Mapping[str, Any], on: str = DOS) -> CodeSets:
    """The sample code sets with entries added to (or replacing some of) the `kind` release
    in force on `on`."""
    codesets = sample_codesets()
    release = codesets.release_for(kind, date.fromisoformat(on))
    if release is None:
        raise ValueError(f"the sample has no {kind} release on {on}")
    return codesets.with_release(
        CodeSetRelease(info=release.info, entries={**release.entries, **entries})
    )


def _active(edit_id: str, plan_type: str, parameters: Mapping[str, Any] | None) -> ActiveEdit:
    profile = load_ruleset().for_plan_type(plan_type)
    found = next((a for a in profile.edits if a.spec.edit_id == edit_id), None)
    if found is None:
        item = load_catalogue()[edit_id]  # KeyError for an edit that does not exist
        found = ActiveEdit(spec=item.spec, edit=item)  # off in the profile: the defaults
    if parameters:
        unknown = set(parameters) - set(found.spec.parameters)
        if unknown:
            raise ValueError(f"{edit_id} has no parameter(s) {sorted(unknown)}")
        merged = MappingProxyType({**found.spec.parameters, **parameters})
        found = replace(found, spec=replace(found.spec, parameters=merged))
    return found


def run_edits_on(
    edit_ids: Iterable[str],
    data: Mapping[str, Any],
    *,
    codesets: CodeSets | None = None,
    now: datetime = NOW,
    history: PatientHistory = EMPTY,
    parameters: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """The findings of these edits alone on the claim, in the order a scrub gives them."""
    read = Claim.model_validate(dict(data))
    codesets = codesets or sample_codesets()
    enriched = enrich_claim(read, codesets)
    actives = [_active(e, read.payer.plan_type, parameters) for e in edit_ids]
    stages = tuple((stage, tuple(a for a in actives if a.spec.stage == stage)) for stage in STAGES)
    ctx = ClaimContext(claim=enriched, codesets=codesets, processed_at=now, history=history)
    selected = run_edits(ctx, stages)
    every = run_edits(ctx, stages, select=False)
    # The check ran on every claim the way it runs when it is applicable: same findings.
    assert [f.__dict__ for f in selected] == [f.__dict__ for f in every], "edit selection"
    return selected


def run_edit(edit_id: str, data: Mapping[str, Any], **options: Any) -> list[Finding]:
    """The findings of one edit alone on the claim."""
    return run_edits_on([edit_id], data, **options)


def run_stage(stage: str, data: Mapping[str, Any], **options: Any) -> list[Finding]:
    """The findings of one stage's edits (every edit of the catalogue in that stage)."""
    ids = sorted(e for e, item in load_catalogue().items() if item.spec.stage == stage)
    return run_edits_on(ids, data, **options)

"""The structure every edit uses.

An edit is data plus one small check function. The data (EditSpec) is its catalogue entry:
id, category, level, default disposition, group code, CARC/RARC, appealability, message
and fix templates, parameters. The check looks at one claim and yields Hits: where the
problem is, the values its templates name, and the code-set evidence. The engine turns
hits into Findings with the disposition and parameters that the payer profile gives.

Register an edit with the `edit` decorator in any module of this package; the catalogue
imports every module here, so adding an edit touches its module and its test only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Literal

from processor.codesets import CodeSets
from processor.history import EMPTY, PatientHistory
from processor.models import EnrichedClaim, EnrichedLine
from processor.models.outputs import Category, Disposition

Stage = Literal["format", "code_validity", "diagnosis", "modifier", "ncci_mue", "items", "history"]
# The order in which stages run (edits.md sections): front-end format first, history last.
STAGES: tuple[Stage, ...] = (
    "format",
    "code_validity",
    "diagnosis",
    "modifier",
    "ncci_mue",
    "items",
    "history",
)
GroupCode = Literal["CO", "PR", "OA", "PI", "CR"]


@dataclass(frozen=True)
class EditSpec:
    edit_id: str
    name: str
    stage: Stage
    category: Category
    level: Literal["claim", "line"]
    disposition: Disposition
    group_code: GroupCode | None
    carc: str | None
    rarc: tuple[str, ...]
    appealable: bool
    message: str  # str.format template over the hit's values
    fix: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of an edit's problem on a claim."""

    line_number: int | None
    values: Mapping[str, Any]
    evidence: Mapping[str, Any] = field(default_factory=dict)
    carc: str | None = None  # overrides the spec's when the problem decides the code
    rarc: tuple[str, ...] | None = None
    appealable: bool | None = None  # e.g. MUE: MAI 2 is not appealable, MAI 3 is
    escalate: bool = False  # use the `escalated_disposition` parameter instead of the disposition
    # The edit could not judge because a table it needs is missing for the date: the
    # reason, naming the table. The finding is info (no CARC), never a silent pass.
    not_judged: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimContext:
    """What an edit may look at: the enriched claim, the code sets, and 'now'."""

    claim: EnrichedClaim
    codesets: CodeSets
    processed_at: datetime
    history: PatientHistory = EMPTY  # the patient's earlier claims (stateful edits)

    @property
    def lines(self) -> list[EnrichedLine]:
        return self.claim.lines

    def rendering_npi(self, line: EnrichedLine) -> str:
        """The line's rendering provider: the line's, else the claim's, else the billing."""
        if line.rendering_provider is not None:
            return line.rendering_provider.npi
        if self.claim.rendering_provider is not None:
            return self.claim.rendering_provider.npi
        return self.claim.billing_provider.npi

    @property
    def received_on(self) -> date:
        """The day the claim was received (processing day when the producer gave none)."""
        received = self.claim.received_at or self.processed_at
        return received.date()


CheckFn = Callable[[ClaimContext, Mapping[str, Any]], Iterable[Hit]]


@dataclass(frozen=True)
class Edit:
    spec: EditSpec
    check: CheckFn


@dataclass(frozen=True)
class ActiveEdit:
    """An edit as one payer profile applies it: the catalogue entry with the profile's
    disposition and parameters folded into `spec`."""

    spec: EditSpec
    edit: Edit


_REGISTRY: dict[str, Edit] = {}


def edit(
    edit_id: str,
    *,
    name: str,
    stage: Stage,
    category: Category,
    level: Literal["claim", "line"],
    disposition: Disposition,
    group_code: GroupCode | None,
    carc: str | None,
    rarc: Iterable[str] = (),
    appealable: bool,
    message: str,
    fix: str,
    parameters: Mapping[str, Any] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated check function as an edit with this catalogue entry."""
    spec = EditSpec(
        edit_id=edit_id,
        name=name,
        stage=stage,
        category=category,
        level=level,
        disposition=disposition,
        group_code=group_code,
        carc=carc,
        rarc=tuple(rarc),
        appealable=appealable,
        message=message,
        fix=fix,
        parameters=MappingProxyType(dict(parameters or {})),
    )

    def register(check: CheckFn) -> CheckFn:
        if edit_id in _REGISTRY:
            raise ValueError(f"edit {edit_id} is registered twice")
        _REGISTRY[edit_id] = Edit(spec=spec, check=check)
        return check

    return register


def registered_edits() -> dict[str, Edit]:
    return dict(_REGISTRY)

"""The structure every edit uses.

An edit is data plus one small check function. The data (EditSpec) is its row of the
catalogue table (catalogue.toml): id, name, stage, category, level, default disposition,
group code, CARC/RARC, appealability, message and fix templates, parameters. The check looks at one claim and yields Hits: where the
problem is, the values its templates name, and the code-set evidence. The engine turns
hits into Findings with the disposition and parameters that the payer profile gives.

Add an edit as a row of catalogue.toml and its check, registered with `@check("ID")` in
any module of this package (the catalogue imports every module here); loading fails
unless rows and checks match one to one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
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
    # The same Hit object is handed to every claim that has it (a memoised hit, never
    # changed): the engine builds its finding once and shares it.
    shared: bool = False


@dataclass(slots=True)
class ClaimContext:
    """What an edit may look at: the enriched claim, the code sets, and 'now'. Checks read
    it and never change it (not frozen: one is made per claim, and a frozen dataclass pays
    for every field it sets)."""

    claim: EnrichedClaim
    codesets: CodeSets
    processed_at: datetime
    history: PatientHistory = EMPTY  # the patient's earlier claims (stateful edits)
    # The earliest date of service, worked out once per claim (None: no lines).
    first_service_date: date | None = field(init=False, default=None)
    # The claim's lines, and the day it was received (the processing day when the producer
    # gave none), read once per claim.
    lines: list[EnrichedLine] = field(init=False, default_factory=list)
    received_on: date = field(init=False, default=date.min)
    # What a check works out about this claim for other checks to reuse (keys name the
    # check module and what the value depends on), e.g. a diagnosis's MCE facts on a date.
    memo: dict[Hashable, Any] = field(init=False, default_factory=dict, repr=False, compare=False)
    # The claim's rendering NPI (its own provider's, else the billing provider's), once known.
    _claim_npi: str | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = self.claim.__dict__  # the fields, without pydantic's attribute hook
        self.lines = lines = values["lines"]
        dates = [line.__dict__["service_date"] for line in lines]
        self.first_service_date = min(dates) if dates else None
        self.received_on = (values.get("received_at") or self.processed_at).date()

    def rendering_npi(self, line: EnrichedLine) -> str:
        """The line's rendering provider: the line's, else the claim's, else the billing."""
        provider = line.__dict__["rendering_provider"]
        if provider is not None:
            return provider.npi
        npi = self._claim_npi
        if npi is None:
            values = self.claim.__dict__
            provider = values["rendering_provider"]
            if provider is None:
                provider = values["billing_provider"]
            npi = self._claim_npi = provider.npi
        return npi


CheckFn = Callable[[ClaimContext, Mapping[str, Any]], Iterable[Hit]]


@dataclass(frozen=True)
class Edit:
    spec: EditSpec
    check: CheckFn
    # The facts that make the check applicable (any of them); None: every claim.
    when: frozenset[str] | None = None
    # Facts that must all hold for the check to be applicable.
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ActiveEdit:
    """An edit as one payer profile applies it: the catalogue entry with the profile's
    disposition and parameters folded into `spec`."""

    spec: EditSpec
    edit: Edit


class CatalogueError(ValueError):
    """The catalogue table and the registered checks do not match, or a row is malformed."""


_CHECKS: dict[str, tuple[CheckFn, frozenset[str] | None, frozenset[str]]] = {}


def check(
    edit_id: str, *, when: Iterable[str] | None = None, needs: Iterable[str] = ()
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check of catalogue row `edit_id`.

    `when` names the facts (processor.edits.facts: of some line, or of the claim) of which at
    least one must hold for the check to find anything, `needs` facts that must all hold;
    the engine then skips the check on claims without them. Leave both out for checks that
    can fire on any claim."""
    applies = None if when is None else frozenset(when)
    required = frozenset(needs)

    def register(fn: CheckFn) -> CheckFn:
        if edit_id in _CHECKS and _CHECKS[edit_id][0] is not fn:
            raise CatalogueError(f"edit {edit_id}: a check is registered twice")
        _CHECKS[edit_id] = (fn, applies, required)
        return fn

    return register


def registered_checks() -> dict[str, tuple[CheckFn, frozenset[str] | None, frozenset[str]]]:
    return dict(_CHECKS)

"""Outputs v1 (shared/spec/outputs.md): scrub results, findings and dead letters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from processor.models.claim import (
    CLAIM_NESTED,
    LINE_NESTED,
    BillingProvider,
    Claim,
    Drug,
    Patient,
    Payer,
    Provider,
    ServiceLine,
)

Disposition = Literal["reject", "deny", "review", "info"]
Category = Literal[
    "format",
    "provider",
    "code_validity",
    "diagnosis",
    "modifier",
    "ncci_ptp",
    "mue",
    "add_on",
    "drug",
    "dme",
    "ambulance",
    "missing_item",
    "duplicate",
    "timely_filing",
    "payer_policy",
    "demographic",
]
Route = Literal["clean", "risk"]
RiskLevel = Literal["high", "medium", "none"]
CodeSystem = Literal[
    "CPT Level I", "CPT Category II", "CPT Category III", "CPT PLA", "HCPCS Level II", "unknown"
]
CodeStatus = Literal["active", "not_yet_effective", "terminated", "unknown"]
ErrorKind = Literal["encoding", "json", "schema", "processing"]


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edit_id: str
    category: Category
    level: Literal["claim", "line"]
    line_number: int | None
    disposition: Disposition
    group_code: Literal["CO", "PR", "OA", "PI", "CR"] | None
    carc: str | None
    rarc: list[str] = Field(default_factory=list)
    appealable: bool
    message: str
    fix: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class Level2Category(BaseModel):
    model_config = ConfigDict(frozen=True)

    letter: str
    meaning: str


class MueFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: int
    mai: int
    table: Literal["practitioner", "dme_supplier"]
    release: str


class RbcsFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: str
    subcategory: str
    family: str


class AddOnFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    edit_type: int
    primaries: list[str] = Field(description="the primaries CMS lists (at most 50 shown)")
    any_primary: bool = Field(False, description="CMS accepts any primary (CCCCC)")


class DrugFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    dosage: str | None = Field(None, description="the HCPCS code dosage (ASP file), e.g. '10 MG'")
    payment_limit: str | None = None
    ndc_in_crosswalk: bool | None = Field(None, description="None when the line has no NDC")
    ndc_bill_units: str | None = Field(None, description="HCPCS billing units per NDC package item")


class LineEnrichment(BaseModel):
    """What the code sets said about a line's procedure code on its date of service."""

    model_config = ConfigDict(extra="allow", frozen=True)  # shared between claims

    code_system: CodeSystem
    level2_category: Level2Category | None = None
    short_descriptor: str | None = None
    status: CodeStatus
    noc: bool = False
    coverage_code: str | None = None
    pricing_indicator: str | None = None
    pfs_status: str | None = None
    global_days: str | None = None
    pc_tc_indicator: str | None = None
    bilateral_indicator: str | None = None
    mue: MueFact | None = None
    betos: str | None = None
    rbcs: RbcsFact | None = None
    add_on: AddOnFact | None = None
    drug: DrugFact | None = None
    releases: dict[str, str] = Field(default_factory=dict)
    _json: orjson.Fragment | None = PrivateAttr(default=None)
    _facts: frozenset[str] | None = PrivateAttr(default=None)  # processor.edits.facts
    _line_facts: frozenset[str] | None = PrivateAttr(default=None)  # with the PTP fact
    _ptp_column1: Any = PrivateAttr(default=None)  # processor.edits.ncci: Column1 | False

    def json_fragment(self) -> orjson.Fragment:
        """This enrichment as JSON, serialised once: one enrichment serves every line of its
        code, release combination and NDC."""
        private = self.__pydantic_private__  # read directly: pydantic's getattr is slow
        found = private.get("_json") if private is not None else None
        if found is None:
            found = orjson.Fragment(self.__pydantic_serializer__.to_json(self))
            if private is not None:
                private["_json"] = found
        return found


class EnrichedLine(ServiceLine):
    enrichment: LineEnrichment


class EnrichedClaim(Claim):
    lines: list[EnrichedLine] = Field(min_length=1, max_length=50)  # type: ignore[assignment]


_CLAIM_SERIALIZER = Claim.__pydantic_serializer__
_CLAIM_FIELDS = tuple(Claim.model_fields)
_LINE_FIELDS = tuple(ServiceLine.model_fields)
_ENRICHED_LINE_FIELDS = (*_LINE_FIELDS, "enrichment")
# The models a claim nests, none of which nests another: their fields are plain values.
_FLAT: dict[type, tuple[str, ...]] = {
    cls: tuple(cls.model_fields) for cls in (Payer, Provider, BillingProvider, Patient, Drug)
}


def claim_document(claim: EnrichedClaim) -> dict[str, Any]:
    """The enriched claim as a JSON-ready dict, each line's enrichment as its JSON fragment:
    what `claim.model_dump(mode="json")` gives, without serialising an enrichment twice.

    Built from the models' own values (each model's fields in declaration order, then its
    extra fields, as pydantic writes them; dates, datetimes and decimals are left to
    `dumps`, which writes them as pydantic does); a claim whose models were not built with
    their fields in that order is written by pydantic's serializer. The dict shares values
    with the models: it is for writing, not for changing."""
    document = _claim_values(claim)
    if document is None:
        # The Claim serializer writes an EnrichedClaim's claim fields and extras only.
        document = _CLAIM_SERIALIZER.to_python(claim, mode="json")
        for line, out in zip(claim.lines, document["lines"], strict=True):
            out["enrichment"] = line.enrichment.json_fragment()
    return document


def _claim_values(claim: EnrichedClaim) -> dict[str, Any] | None:
    values = claim.__dict__
    if tuple(values) != _CLAIM_FIELDS:
        return None
    received = values["received_at"]
    if received is not None:
        offset = received.utcoffset()
        if offset is not None and offset.seconds % 60:
            return None  # orjson rounds an offset with seconds where pydantic truncates
    document = dict(values)
    if not _nested_values(document, CLAIM_NESTED):
        return None
    lines = []
    for line in values["lines"]:
        found = _line_values(line)
        if found is None:
            return None
        lines.append(found)
    document["lines"] = lines
    extra = claim.__pydantic_extra__
    if extra:
        document.update(extra)
    return document


def _line_values(line: EnrichedLine) -> dict[str, Any] | None:
    values = line.__dict__
    if tuple(values) != _ENRICHED_LINE_FIELDS:
        return None
    document = dict(values)
    document["units"] = str(values["units"])  # decimals as pydantic writes them
    document["charge"] = str(values["charge"])
    if not _nested_values(document, LINE_NESTED):
        return None
    extra = line.__pydantic_extra__
    if extra:  # the line's extras before its enrichment, which is written last
        del document["enrichment"]
        document.update(extra)
    enrichment = values["enrichment"]
    private = enrichment.__pydantic_private__  # its JSON, read directly when written once
    fragment = private.get("_json") if private is not None else None
    document["enrichment"] = fragment if fragment is not None else enrichment.json_fragment()
    return document


def _nested_values(document: dict[str, Any], names: tuple[str, ...]) -> bool:
    """Replace the nested models named in `document` by their values; False when one of
    them cannot be written this way."""
    for name in names:
        model = document[name]
        if model is not None:
            found = _flat_values(model)
            if found is None:
                return False
            document[name] = found
    return True


def _flat_values(model: BaseModel) -> dict[str, Any] | None:
    values = model.__dict__
    if tuple(values) != _FLAT.get(type(model)):
        return None
    extra = model.__pydantic_extra__
    if type(model) is Drug:
        return {**values, "quantity": str(values["quantity"]), **(extra or {})}
    return {**values, **extra} if extra else values


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(document: Any) -> bytes:
    """orjson with pydantic's conventions: decimals as strings, UTC as 'Z'."""
    return orjson.dumps(document, default=_json_default, option=orjson.OPT_UTC_Z)


class ScrubResult(BaseModel):
    event_id: str
    event_type: Literal["claim.clean", "claim.denial_risk"]
    schema_version: str = "1"
    claim_id: str
    route: Route
    risk_level: RiskLevel
    at_risk_amount: Decimal
    findings: list[Finding]
    codeset_versions: dict[str, str]
    ruleset_version: str
    received_at: datetime | None
    processed_at: datetime
    claim: EnrichedClaim

    def to_json(self) -> bytes:
        """The same document as `model_dump_json()`, written with orjson and each line's
        enrichment serialised once per code rather than once per claim (the hot path)."""
        v = self.__dict__  # the fields, without pydantic's attribute hook on each
        return dumps(
            {
                "event_id": v["event_id"],
                "event_type": v["event_type"],
                "schema_version": v["schema_version"],
                "claim_id": v["claim_id"],
                "route": v["route"],
                "risk_level": v["risk_level"],
                "at_risk_amount": str(v["at_risk_amount"]),  # as `dumps` writes a decimal
                "findings": [finding.__dict__ for finding in v["findings"]],
                "codeset_versions": v["codeset_versions"],
                "ruleset_version": v["ruleset_version"],
                "received_at": v["received_at"],
                "processed_at": v["processed_at"],
                "claim": claim_document(v["claim"]),
            }
        )


class SourcePosition(BaseModel):
    topic: str | None
    partition: int | None
    offset: int | None


class DeadLetter(BaseModel):
    event_type: Literal["claim.unreadable"] = "claim.unreadable"
    received_key: str | None
    error: str
    error_kind: ErrorKind
    original: str = Field(description="the original message bytes, base64")
    source: SourcePosition
    processed_at: datetime

    def to_json(self) -> bytes:
        return self.__pydantic_serializer__.to_json(self)

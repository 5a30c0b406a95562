"""Outputs v1 (shared/spec/outputs.md): scrub results, findings and dead letters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from processor.models.claim import Claim, ServiceLine

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
    letter: str
    meaning: str


class MueFact(BaseModel):
    value: int
    mai: int
    table: Literal["practitioner", "dme_supplier"]
    release: str


class RbcsFact(BaseModel):
    category: str
    subcategory: str
    family: str


class AddOnFact(BaseModel):
    edit_type: int
    primaries: list[str] = Field(description="the primaries CMS lists (at most 50 shown)")
    any_primary: bool = Field(False, description="CMS accepts any primary (CCCCC)")


class DrugFact(BaseModel):
    dosage: str | None = Field(None, description="the HCPCS code dosage (ASP file), e.g. '10 MG'")
    payment_limit: str | None = None
    ndc_in_crosswalk: bool | None = Field(None, description="None when the line has no NDC")
    ndc_bill_units: str | None = Field(None, description="HCPCS billing units per NDC package item")


class LineEnrichment(BaseModel):
    """What the code sets said about a line's procedure code on its date of service."""

    model_config = ConfigDict(extra="allow")

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


class EnrichedLine(ServiceLine):
    enrichment: LineEnrichment


class EnrichedClaim(Claim):
    lines: list[EnrichedLine] = Field(min_length=1, max_length=50)  # type: ignore[assignment]


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

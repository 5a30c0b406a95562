"""Claim event v1 (shared/spec/claim-event.md): what billing services publish.

The models check what makes a message readable as a claim: JSON shape, required fields,
types, dates. Everything that parses but is wrong for billing (NPI check digit, code
format, pointers, units) is left to the edits, which report it as a finding with a CARC.
Unknown fields are kept and passed through untouched.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PlanType = Literal["medicare", "medicare_advantage", "medicaid", "commercial", "other"]
FrequencyCode = Literal["1", "7", "8"]
Sex = Literal["F", "M", "U"]


class _Open(BaseModel):
    """Base of every contract model: extra fields are passed through, never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Payer(_Open):
    payer_id: str = Field(min_length=1)
    plan_type: PlanType
    name: str | None = None


class Provider(_Open):
    """A rendering or referring provider. The NPI's digits are checked by an edit."""

    npi: str
    taxonomy: str | None = None


class BillingProvider(_Open):
    npi: str
    taxonomy: str | None = None
    tax_id: str | None = None
    name: str | None = None


class Patient(_Open):
    member_id: str = Field(min_length=1)
    birth_date: date
    sex: Sex


class Drug(_Open):
    """837P loop 2410. NDC format, quantity and unit are judged by the drug edits."""

    ndc: str
    quantity: Decimal
    unit: str


class ServiceLine(_Open):
    line_number: int = Field(ge=1, le=50)
    procedure_code: str
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: Decimal
    charge: Decimal
    service_date: date
    service_date_end: date | None = None
    diagnosis_pointers: list[int] = Field(default_factory=list, max_length=4)
    place_of_service: str | None = None
    rendering_provider: Provider | None = None
    description: str | None = None
    drug: Drug | None = None


class Claim(_Open):
    schema_version: str = "1"
    claim_id: str = Field(min_length=1, max_length=38)
    frequency_code: FrequencyCode = "1"
    original_claim_id: str | None = None
    received_at: datetime | None = None
    payer: Payer
    billing_provider: BillingProvider
    rendering_provider: Provider | None = None
    referring_provider: Provider | None = None
    patient: Patient
    place_of_service: str
    diagnoses: list[str] = Field(min_length=1, max_length=12)
    prior_authorization: str | None = None
    lines: list[ServiceLine] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _unique_line_numbers(self) -> Claim:
        # Findings, enrichment and at-risk amounts are addressed by line number: a claim
        # with two lines of one number cannot be reported on unambiguously.
        lines = self.__dict__["lines"]  # without pydantic's attribute hook (every claim)
        if len({line.__dict__["line_number"] for line in lines}) == len(lines):
            return self  # the usual case: one set, no loop in Python
        seen: set[int] = set()
        for line in self.lines:
            if line.line_number in seen:
                raise ValueError(f"line_number {line.line_number} appears more than once")
            seen.add(line.line_number)
        return self

    @property
    def patient_key(self) -> str:
        """The history key of topics.md: payer_id + member_id. Never logged."""
        v = self.__dict__  # the fields, without pydantic's attribute hook on each
        return f"{v['payer'].payer_id}|{v['patient'].member_id}"


# The models a claim and a service line nest (attribute names, in declaration order); none
# of them nests another.
CLAIM_NESTED = ("payer", "billing_provider", "rendering_provider", "referring_provider", "patient")
LINE_NESTED = ("rendering_provider", "drug")

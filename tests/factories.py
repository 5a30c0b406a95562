"""Test data: a valid claim that every current edit passes, to be changed per test."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson

from processor.codesets import load_codesets
from processor.models import Claim
from processor.profiles import load_ruleset
from processor.scrubber import Scrubber

# Processing time fixed so that "now" never moves a test's outcome.
FIXED_NOW = datetime(2024, 12, 1, 12, 0, tzinfo=UTC)

CLEAN_CLAIM: dict[str, Any] = {
    "schema_version": "1",
    "claim_id": "TEST-0001",
    "frequency_code": "1",
    "original_claim_id": None,
    "received_at": "2024-11-20T14:03:11Z",
    "payer": {"payer_id": "MCR-J15", "name": "Medicare Part B", "plan_type": "medicare"},
    "billing_provider": {"npi": "1234567893", "taxonomy": "207Q00000X", "tax_id": "123456789"},
    "rendering_provider": {"npi": "1234567893"},
    "referring_provider": None,
    "patient": {"member_id": "SYN100000001", "birth_date": "1948-03-02", "sex": "F"},
    "place_of_service": "11",
    "diagnoses": ["M17.11", "E11.9"],
    "prior_authorization": None,
    "lines": [
        {
            "line_number": 1,
            "procedure_code": "99214",
            "modifiers": ["25"],
            "units": 1,
            "charge": "185.00",
            "service_date": "2024-11-18",
            "diagnosis_pointers": [1, 2],
        },
        {
            "line_number": 2,
            "procedure_code": "20610",
            "modifiers": ["RT"],
            "units": 1,
            "charge": "140.00",
            "service_date": "2024-11-18",
            "diagnosis_pointers": [1],
        },
        {
            "line_number": 3,
            "procedure_code": "J1885",
            "modifiers": ["JZ"],
            "units": 2,
            "charge": "24.00",
            "service_date": "2024-11-18",
            "diagnosis_pointers": [1],
            "drug": {"ndc": "00409-3795-01", "quantity": 1, "unit": "ML"},
        },
    ],
}


def claim_dict(**changes: Any) -> dict[str, Any]:
    claim = copy.deepcopy(CLEAN_CLAIM)
    claim.update(changes)
    return claim


def claim_bytes(claim: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps(claim if claim is not None else CLEAN_CLAIM)


def parse(claim: dict[str, Any]) -> Claim:
    return Claim.model_validate(claim)


_SCRUBBER: Scrubber | None = None


def sample_scrubber() -> Scrubber:
    """One scrubber over the sample code sets and built-in profiles, fixed clock."""
    global _SCRUBBER
    if _SCRUBBER is None:
        _SCRUBBER = Scrubber(load_codesets(), load_ruleset(), clock=lambda: FIXED_NOW)
    return _SCRUBBER


def findings_of(claim: dict[str, Any], edit_id: str | None = None) -> list[Any]:
    result = sample_scrubber().scrub(claim_bytes(claim))
    assert result.event_type != "claim.unreadable", result
    found = result.findings  # type: ignore[union-attr]
    return [f for f in found if edit_id is None or f.edit_id == edit_id]

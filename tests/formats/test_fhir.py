"""FHIR R4 Claim (professional) onto the claim event, and through the scrubber's read step."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from processor.formats import FhirError, read_claim_bytes
from processor.formats.fhir import claim_from_fhir
from processor.models import DeadLetter
from processor.scrubber import Source
from tests.factories import claim_dict, sample_scrubber

NPI = "http://hl7.org/fhir/sid/us-npi"

FHIR_CLAIM: dict[str, Any] = {
    "resourceType": "Claim",
    "id": "c-417",
    "contained": [
        {"resourceType": "Patient", "id": "pat", "birthDate": "1948-03-02", "gender": "female"},
        {"resourceType": "Organization", "id": "payer", "name": "Medicare Part B",
         "identifier": [{"value": "MCR-J15"}]},
        {"resourceType": "Coverage", "id": "cov", "subscriberId": "SYN100000001",
         "type": {"coding": [{"code": "MB"}]}, "payor": [{"reference": "#payer"}]},
        {"resourceType": "Organization", "id": "billing",
         "identifier": [{"system": NPI, "value": "1234567893"},
                        {"system": "urn:oid:2.16.840.1.113883.4.4", "value": "123456789"}],
         "qualification": [{"code": {"coding": [{"system": "http://nucc.org/provider-taxonomy",
                                                  "code": "207Q00000X"}]}}]},
        {"resourceType": "Practitioner", "id": "doc",
         "identifier": [{"system": NPI, "value": "1234567893"}]},
    ],
    "identifier": [{"value": "TEST-0001"}],
    "status": "active",
    "type": {"coding": [{"code": "professional"}]},
    "use": "claim",
    "created": "2024-11-20T14:03:11Z",
    "patient": {"reference": "#pat"},
    "provider": {"reference": "#billing"},
    "careTeam": [{"sequence": 1, "provider": {"reference": "#doc"},
                  "role": {"coding": [{"code": "primary"}]}}],
    "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#cov"}}],
    "diagnosis": [
        {"sequence": 2, "diagnosisCodeableConcept": {"coding": [{"code": "E11.9"}]}},
        {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"code": "M17.11"}]}},
    ],
    "item": [],
}  # fmt: skip


def _fhir_for(document: dict[str, Any]) -> dict[str, Any]:
    """FHIR_CLAIM with the items of a claim event document."""
    resource = copy.deepcopy(FHIR_CLAIM)
    for line in document["lines"]:
        item: dict[str, Any] = {
            "sequence": line["line_number"],
            "productOrService": {"coding": [{"code": line["procedure_code"]}]},
            "modifier": [{"coding": [{"code": m}]} for m in line["modifiers"]],
            "quantity": {"value": line["units"]},
            "net": {"value": line["charge"], "currency": "USD"},
            "servicedDate": line["service_date"],
            "locationCodeableConcept": {"coding": [{"code": "11"}]},
            "diagnosisSequence": line["diagnosis_pointers"],
            "careTeamSequence": [1],
        }
        if line.get("drug"):
            drug = line["drug"]
            item["detail"] = [{
                "sequence": 1,
                "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc",
                                                 "code": drug["ndc"]}]},
                "quantity": {"value": drug["quantity"], "code": drug["unit"]},
            }]  # fmt: skip
        resource["item"].append(item)
    return resource


def test_fhir_claim_maps_field_by_field():
    document = claim_dict()
    claim = read_claim_bytes(orjson.dumps(_fhir_for(document)))
    assert claim.claim_id == "TEST-0001"
    assert (claim.payer.payer_id, claim.payer.plan_type, claim.payer.name) == (
        "MCR-J15",
        "medicare",
        "Medicare Part B",
    )
    assert claim.billing_provider.npi == "1234567893"
    assert (claim.billing_provider.tax_id, claim.billing_provider.taxonomy) == (
        "123456789",
        "207Q00000X",
    )
    assert (claim.patient.member_id, str(claim.patient.birth_date), claim.patient.sex) == (
        "SYN100000001",
        "1948-03-02",
        "F",
    )
    assert claim.diagnoses == ["M17.11", "E11.9"]  # ordered by sequence
    assert claim.rendering_provider is not None and claim.rendering_provider.npi == "1234567893"
    assert [line.procedure_code for line in claim.lines] == [
        line["procedure_code"] for line in document["lines"]
    ]
    drug = claim.lines[2].drug
    assert drug is not None and (drug.ndc, drug.unit) == ("00409-3795-01", "ML")
    assert claim.model_extra == {"fhir": {"id": "c-417"}}


def test_same_claim_from_json_or_fhir_gets_the_same_findings_and_route():
    scrubber = sample_scrubber()
    for document in (claim_dict(), claim_dict(diagnoses=["M17.11", "Z00.00"])):
        document["lines"][0]["modifiers"] = []
        from_json = scrubber.scrub(orjson.dumps(document))
        from_fhir = scrubber.scrub(orjson.dumps(_fhir_for(document)))
        assert not isinstance(from_json, DeadLetter) and not isinstance(from_fhir, DeadLetter)
        assert from_fhir.route == from_json.route
        assert [f.edit_id for f in from_fhir.findings] == [f.edit_id for f in from_json.findings]
        assert from_json.findings  # the E/M without 25 is found both ways


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(resourceType="Bundle"), "resourceType: only Claim"),
        (lambda r: r.update(type={"coding": [{"code": "institutional"}]}), "only professional"),
        (lambda r: r.update(patient={"reference": "#nobody"}), "Claim.patient: the reference"),
        (lambda r: r.update(insurance=[]), "Claim.insurance"),
        (lambda r: r.update(item=[]), "Claim.item"),
    ],
)
def test_a_fhir_resource_that_is_not_a_readable_claim_is_a_dead_letter_naming_the_path(
    change, message
):
    resource = _fhir_for(claim_dict())
    change(resource)
    with pytest.raises(FhirError, match=message):
        claim_from_fhir(resource)
    raw = orjson.dumps(resource)
    outcome = sample_scrubber().read(raw, key=None, source=Source("t", 0, 1))
    assert isinstance(outcome, DeadLetter)
    assert outcome.error_kind == "schema" and message.split(":")[0] in outcome.error
    assert "1948" not in outcome.error  # names the path, never the value


def test_a_fhir_claim_missing_a_required_field_is_a_schema_dead_letter():
    resource = _fhir_for(claim_dict())
    del resource["contained"][0]["birthDate"]
    outcome = sample_scrubber().read(orjson.dumps(resource), key=None, source=Source())
    assert isinstance(outcome, DeadLetter)
    assert "patient.birth_date" in outcome.error

"""FHIR R4 `Claim` (professional) onto the claim event, field by field (README: "FHIR R4
Claim"). Our own mapping over the JSON, no FHIR library: the claim event needs two dozen
paths, and contained resources (Patient, Coverage, Organization, Practitioner) are resolved
by their local reference ("#id"). An error names the FHIR path and the rule, never the value
(values may be PHI).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from processor.formats.x12.reader import PLAN_TYPES

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TAX_ID_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
SEX = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
RENDERING_ROLES = {"rendering", "primary", "performing"}
REFERRING_ROLES = {"referring"}


class FhirError(ValueError):
    """The resource is JSON but cannot be read as a professional claim."""


def _coding(concept: Any, system: str | None = None) -> str | None:
    """The code of a CodeableConcept (of `system` when given, else the first coding)."""
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and (system is None or coding.get("system") == system):
            code = coding.get("code")
            return str(code) if code is not None else None
    return None


def _identifier(resource: Mapping[str, Any], system: str) -> str | None:
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == system:
            return identifier.get("value")
    return None


class _Contained:
    def __init__(self, claim: Mapping[str, Any]) -> None:
        self.by_id = {
            str(r.get("id")): r
            for r in claim.get("contained") or []
            if isinstance(r, dict) and r.get("id") is not None
        }

    def resolve(self, reference: Any, path: str) -> dict[str, Any]:
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            raise FhirError(f"{path}: a reference is required")
        target = reference["reference"].lstrip("#").rpartition("/")[2]
        found = self.by_id.get(target)
        if found is None:
            raise FhirError(f"{path}: the reference is not to a contained resource")
        return found


def _money(value: Any, path: str) -> Any:
    if not isinstance(value, dict) or value.get("value") is None:
        raise FhirError(f"{path}: a Money value is required")
    return value["value"]


def claim_from_fhir(
    resource: Mapping[str, Any], *, plan_types: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The claim event document for a FHIR R4 Claim. Raises FhirError."""
    if resource.get("resourceType") != "Claim":
        raise FhirError("resourceType: only Claim resources are read")
    kind = _coding(resource.get("type"))
    if kind is not None and kind != "professional":
        raise FhirError("Claim.type: only professional claims are read")
    contained = _Contained(resource)
    identifiers = resource.get("identifier") or []
    claim_id = (identifiers[0].get("value") if identifiers else None) or resource.get("id")
    if not claim_id:
        raise FhirError("Claim.identifier: a claim identifier (or id) is required")

    patient = contained.resolve(resource.get("patient"), "Claim.patient")
    insurance = next(
        (i for i in resource.get("insurance") or [] if i.get("focal")),
        (resource.get("insurance") or [None])[0],
    )
    if not isinstance(insurance, dict):
        raise FhirError("Claim.insurance: one focal insurance is required")
    coverage = contained.resolve(insurance.get("coverage"), "Claim.insurance.coverage")
    payors = coverage.get("payor") or []
    payer = contained.resolve(payors[0] if payors else None, "Coverage.payor")
    payer_id = next(
        (i.get("value") for i in payer.get("identifier") or [] if isinstance(i, dict)), None
    )
    plan_code = _coding(coverage.get("type")) or ""
    plan = (plan_types or {}).get(str(payer_id)) or PLAN_TYPES.get(plan_code, "commercial")

    provider = contained.resolve(resource.get("provider"), "Claim.provider")
    billing: dict[str, Any] = {"npi": _identifier(provider, NPI_SYSTEM)}
    tax_id = _identifier(provider, TAX_ID_SYSTEM)
    if tax_id:
        billing["tax_id"] = tax_id
    if isinstance(provider.get("name"), str):
        billing["name"] = provider["name"]
    taxonomy = next(
        (
            code
            for q in provider.get("qualification") or []
            if (code := _coding(q.get("code"), NUCC_SYSTEM))
        ),
        None,
    )
    if taxonomy:
        billing["taxonomy"] = taxonomy

    team: dict[int, tuple[str, dict[str, Any]]] = {}
    for member in resource.get("careTeam") or []:
        role = _coding(member.get("role")) or ""
        who = contained.resolve(member.get("provider"), "Claim.careTeam.provider")
        person: dict[str, Any] = {"npi": _identifier(who, NPI_SYSTEM)}
        qualification = _coding(member.get("qualification"), NUCC_SYSTEM)
        if qualification:
            person["taxonomy"] = qualification
        team[int(member.get("sequence") or 0)] = (role, person)
    rendering = next((p for r, p in team.values() if r in RENDERING_ROLES), None)
    referring = next((p for r, p in team.values() if r in REFERRING_ROLES), None)

    diagnoses = [
        _coding(d.get("diagnosisCodeableConcept"))
        for d in sorted(resource.get("diagnosis") or [], key=lambda d: d.get("sequence") or 0)
    ]
    lines = [_line(item, team, index) for index, item in enumerate(resource.get("item") or [])]
    if not lines:
        raise FhirError("Claim.item: at least one item is required")

    related = next(
        (r for r in resource.get("related") or [] if isinstance(r, dict) and r.get("claim")),
        None,
    )
    original = None
    if related is not None:
        original_ids = related["claim"].get("identifier")
        original = original_ids.get("value") if isinstance(original_ids, dict) else None
    frequency = "1"
    if resource.get("status") == "cancelled":
        frequency, original = "8", original or claim_id
    elif original:
        frequency = "7"
    pre_auth = insurance.get("preAuthRef") or []
    document: dict[str, Any] = {
        "claim_id": claim_id,
        "frequency_code": frequency,
        "original_claim_id": original,
        "received_at": resource.get("created"),
        "payer": {"payer_id": payer_id, "plan_type": plan, "name": payer.get("name")},
        "billing_provider": billing,
        "rendering_provider": rendering,
        "referring_provider": referring,
        "patient": {
            "member_id": coverage.get("subscriberId")
            or next((i.get("value") for i in coverage.get("identifier") or []), None),
            "birth_date": patient.get("birthDate"),
            "sex": SEX.get(str(patient.get("gender")), patient.get("gender")),
        },
        "place_of_service": lines[0].get("place_of_service"),
        "diagnoses": diagnoses,
        "prior_authorization": pre_auth[0] if pre_auth else None,
        "lines": lines,
        "fhir": {"id": resource.get("id")},
    }
    return document


def _line(
    item: Mapping[str, Any], team: Mapping[int, tuple[str, dict[str, Any]]], index: int
) -> dict[str, Any]:
    path = f"Claim.item[{index}]"
    line: dict[str, Any] = {
        "line_number": item.get("sequence"),
        "procedure_code": _coding(item.get("productOrService")),
        "modifiers": [code for m in item.get("modifier") or [] if (code := _coding(m))],
        "units": (item.get("quantity") or {}).get("value", 1),
        "charge": _money(item.get("net") or item.get("unitPrice"), f"{path}.net"),
        "diagnosis_pointers": list(item.get("diagnosisSequence") or []),
    }
    if item.get("servicedDate"):
        line["service_date"] = item["servicedDate"]
    elif isinstance(item.get("servicedPeriod"), dict):
        period = item["servicedPeriod"]
        line["service_date"] = period.get("start")
        line["service_date_end"] = period.get("end")
    place = _coding(item.get("locationCodeableConcept"))
    if place:
        line["place_of_service"] = place
    for sequence in item.get("careTeamSequence") or []:
        role, person = team.get(int(sequence), ("", {}))
        if role in RENDERING_ROLES:
            line["rendering_provider"] = person
    for detail in item.get("detail") or []:
        ndc = _coding(detail.get("productOrService"), NDC_SYSTEM)
        if ndc:
            quantity = detail.get("quantity") or {}
            line["drug"] = {
                "ndc": ndc,
                "quantity": quantity.get("value"),
                "unit": quantity.get("code") or quantity.get("unit"),
            }
    return line

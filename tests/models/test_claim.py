from decimal import Decimal

import orjson
import pytest
from pydantic import ValidationError

from processor.models import Claim
from tests.factories import CLEAN_CLAIM, claim_dict


def test_spec_example_parses_with_types():
    claim = Claim.model_validate(CLEAN_CLAIM)
    assert claim.lines[0].charge == Decimal("185.00")
    assert claim.lines[2].drug is not None and claim.lines[2].drug.unit == "ML"
    assert claim.payer.plan_type == "medicare"
    assert claim.patient_key == "MCR-J15|SYN100000001"


def test_charge_and_units_accept_json_numbers_and_strings():
    data = claim_dict()
    data["lines"][0]["charge"] = 185.5
    data["lines"][0]["units"] = "2.5"
    claim = Claim.model_validate_json(orjson.dumps(data))
    assert claim.lines[0].charge == Decimal("185.5")
    assert claim.lines[0].units == Decimal("2.5")


def test_unknown_fields_pass_through_at_every_level():
    data = claim_dict(x_vendor={"batch": 7})
    data["lines"][0]["x_line"] = "abc"
    data["payer"]["x_payer"] = True
    dumped = Claim.model_validate(data).model_dump(mode="json")
    assert dumped["x_vendor"] == {"batch": 7}
    assert dumped["lines"][0]["x_line"] == "abc"
    assert dumped["payer"]["x_payer"] is True


def test_defaults_per_contract():
    data = claim_dict()
    del data["schema_version"], data["frequency_code"], data["received_at"]
    claim = Claim.model_validate(data)
    assert (claim.schema_version, claim.frequency_code, claim.received_at) == ("1", "1", None)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c.pop("claim_id"), "claim_id"),
        (lambda c: c["patient"].update(birth_date="1948-02-30"), "patient.birth_date"),
        (lambda c: c["payer"].update(plan_type="tricare"), "payer.plan_type"),
        (lambda c: c.update(frequency_code="2"), "frequency_code"),
        (lambda c: c["lines"][0].update(units="one"), "lines.0.units"),
        (lambda c: c.update(lines=[]), "lines"),
        (lambda c: c.update(diagnoses=[f"I{n}" for n in range(13)]), "diagnoses"),
        (lambda c: c.update(claim_id="X" * 39), "claim_id"),
        (lambda c: c["lines"][1].update(line_number=1), "line_number 1 appears more than once"),
        (
            lambda c: c["lines"][0].update(modifiers=["25", "59", "XS", "RT", "LT"]),
            "lines.0.modifiers",
        ),
    ],
)
def test_unreadable_claims_name_the_field(change, where):
    data = claim_dict()
    change(data)
    with pytest.raises(ValidationError) as raised:
        Claim.model_validate_json(orjson.dumps(data))
    assert where in str(raised.value)

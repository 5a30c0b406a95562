import pytest

from tests.factories import claim_dict, findings_of


def _line(claim, index=0, **changes):
    claim["lines"][index].update(changes)
    return claim


def test_clean_claim_has_no_findings():
    assert findings_of(claim_dict()) == []


# -- service dates: received 2024-11-20 ---------------------------------------------------
def test_service_on_the_day_received_is_fine():
    assert findings_of(_line(claim_dict(), service_date="2024-11-20"), "DOS-DATES") == []


def test_service_after_receipt_is_rejected():
    [f] = findings_of(_line(claim_dict(), service_date="2024-11-21"), "DOS-DATES")
    assert f.line_number == 1 and f.rarc == ["MA31"] and "2024-11-21" in f.message


def test_end_before_start_is_rejected():
    [f] = findings_of(_line(claim_dict(), service_date_end="2024-11-17"), "DOS-DATES")
    assert "before the start date" in f.message


@pytest.mark.parametrize(
    ("plan_type", "end", "fires"),
    [
        ("medicare", "2025-11-18", False),  # 365 days
        ("medicare", "2025-11-19", True),  # 366 days
        ("medicaid", "2024-12-19", False),  # 31 days (medicaid profile)
        ("medicaid", "2024-12-20", True),  # 32 days
    ],
)
def test_span_limit_is_a_profile_parameter(plan_type, end, fires):
    claim = claim_dict(received_at="2026-01-01T00:00:00Z")
    claim["payer"]["plan_type"] = plan_type
    _line(claim, service_date="2024-11-18", service_date_end=end)
    assert bool(findings_of(claim, "DOS-DATES")) is fires


def test_without_received_at_processing_time_is_the_limit():
    # The test clock is 2024-12-01.
    claim = claim_dict(received_at=None)
    assert findings_of(_line(claim, service_date="2024-12-01"), "DOS-DATES") == []
    assert findings_of(_line(claim, service_date="2024-12-02"), "DOS-DATES")


# -- units and charge ----------------------------------------------------------------------
@pytest.mark.parametrize(("units", "fires"), [(0, True), (-1, True), ("0.5", False), (1, False)])
def test_units_must_be_positive(units, fires):
    found = findings_of(_line(claim_dict(), 1, units=units), "UNITS")
    assert bool(found) is fires
    if fires:
        assert found[0].rarc == ["M53"] and found[0].line_number == 2


@pytest.mark.parametrize(("charge", "fires"), [("-0.01", True), ("0", False), ("0.00", False)])
def test_charge_must_not_be_negative(charge, fires):
    found = findings_of(_line(claim_dict(), charge=charge), "CHARGE")
    assert bool(found) is fires
    if fires:
        assert found[0].rarc == ["M54"]


# -- procedure code format -------------------------------------------------------------------
@pytest.mark.parametrize(
    "code", ["99213", "1036F", "0042T", "0001U", "0002M", "J3301", "A0425", "V2020"]
)
def test_well_formed_codes_pass(code):
    assert findings_of(_line(claim_dict(), procedure_code=code), "PROC-FORMAT") == []


@pytest.mark.parametrize("code", ["9921", "992133", "W1234", "j3301", "1036X", "J33O1", ""])
def test_malformed_codes_are_rejected(code):
    [f] = findings_of(_line(claim_dict(), procedure_code=code), "PROC-FORMAT")
    assert f.carc == "16" and f.rarc == ["M51"] and repr(code) in f.message


# -- modifiers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("modifiers", "problem"),
    [
        (["2"], "'2' is not two letters or digits"),
        (["25X"], "'25X' is not two letters or digits"),
        (["rt"], "'rt' is not two letters or digits"),
        (["RT", "59", "RT"], "RT appears more than once"),
    ],
)
def test_bad_modifiers_are_rejected(modifiers, problem):
    [f] = findings_of(_line(claim_dict(), modifiers=modifiers), "MOD-FORMAT")
    assert problem in f.message and f.carc == "4" and f.category == "modifier"


# -- frequency ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frequency", "original", "fires"),
    [("7", None, True), ("8", "", True), ("7", "ICN-1", False), ("1", None, False)],
)
def test_replacement_and_void_need_the_original(frequency, original, fires):
    claim = claim_dict(frequency_code=frequency, original_claim_id=original)
    found = findings_of(claim, "FREQ-ORIGINAL")
    assert bool(found) is fires
    if fires:
        assert found[0].level == "claim" and found[0].rarc == ["M47"]


# -- place of service ----------------------------------------------------------------------------
def test_unknown_place_of_service_claim_and_line():
    claim = claim_dict(place_of_service="00")
    _line(claim, 2, place_of_service="98")
    _line(claim, 1, place_of_service="22")
    found = {
        (f.line_number, f.evidence["place_of_service"]) for f in findings_of(claim, "POS-CODE")
    }
    assert found == {(None, "00"), (3, "98")}

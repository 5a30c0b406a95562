from hypothesis import given
from hypothesis import strategies as st

from processor.edits.provider import npi_is_valid, npi_with_check_digit
from tests.factories import claim_dict, findings_of


def test_known_valid_and_invalid_npis():
    # 1234567893 is the CMS example of a valid NPI.
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678A3")


def test_check_digit_of_the_cms_example():
    assert npi_with_check_digit("123456789") == "1234567893"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(1, 9))
def test_check_digit_round_trip(stem, shift):
    npi = npi_with_check_digit(stem)
    assert npi_is_valid(npi)
    wrong = npi[:-1] + str((int(npi[-1]) + shift) % 10)
    assert not npi_is_valid(wrong)


def test_valid_claim_has_no_npi_finding():
    assert findings_of(claim_dict(), "NPI-CHECK-DIGIT") == []


def test_each_role_gets_its_rarc():
    claim = claim_dict(
        billing_provider={"npi": "1234567890"}, referring_provider={"npi": "1111111111"}
    )
    claim["lines"][1]["rendering_provider"] = {"npi": "9999999999"}
    found = {
        (f.evidence["role"], f.line_number, tuple(f.rarc))
        for f in findings_of(claim, "NPI-CHECK-DIGIT")
    }
    assert found == {
        ("billing", None, ("N257",)),
        ("referring", None, ("N265",)),
        ("rendering", 2, ("N290",)),
    }


def test_finding_metadata_and_message():
    [finding] = findings_of(claim_dict(rendering_provider={"npi": "1234567890"}), "NPI-CHECK-DIGIT")
    assert (finding.category, finding.level, finding.disposition, finding.carc) == (
        "provider",
        "claim",
        "reject",
        "16",
    )
    assert "'1234567890'" in finding.message and "rendering" in finding.message


def test_the_npi_check_agrees_with_the_general_luhn_sum():
    import random

    from processor.edits.provider import _luhn_sum

    def general(npi: str) -> bool:
        return len(npi) == 10 and npi.isdigit() and _luhn_sum("80840" + npi, False) % 10 == 0

    rng = random.Random(12)
    npis = ["".join(rng.choice("0123456789") for _ in range(10)) for _ in range(20_000)]
    npis += [npi_with_check_digit(n[:9]) for n in npis[:2_000]]
    npis += ["\uff11" * 10, "\u00b2234567893", "12345 7893", ""]  # fullwidth, superscript
    assert [npi_is_valid(n) for n in npis] == [general(n) for n in npis]
    assert sum(npi_is_valid(n) for n in npis) > 2_000

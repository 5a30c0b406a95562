import pytest

from tests.factories import claim_dict, findings_of


@pytest.mark.parametrize(
    ("pointers", "fires"), [([], True), ([3], True), ([0], True), ([1, 2], False), ([2], False)]
)
def test_pointer_must_point_at_a_diagnosis(pointers, fires):
    claim = claim_dict()  # two diagnoses
    claim["lines"][0]["diagnosis_pointers"] = pointers
    found = findings_of(claim, "DX-POINTER")
    assert bool(found) is fires
    if fires:
        assert found[0].line_number == 1 and found[0].rarc == ["M76"]
        assert "1 to 2" in found[0].fix

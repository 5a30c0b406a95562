from decimal import Decimal

import pytest

from processor.models import Finding
from processor.routing import event_id, route_claim
from tests.factories import claim_dict, parse


def _finding(disposition, line_number=None):
    return Finding(
        edit_id="X",
        category="format",
        level="line" if line_number else "claim",
        line_number=line_number,
        disposition=disposition,
        group_code="CO",
        carc="16",
        appealable=False,
        message="m",
        fix="f",
    )


@pytest.mark.parametrize(
    ("dispositions", "route", "level"),
    [
        ([], "clean", "none"),
        (["info"], "clean", "none"),
        (["review"], "risk", "medium"),
        (["review", "info"], "risk", "medium"),
        (["deny"], "risk", "high"),
        (["reject", "review"], "risk", "high"),
    ],
)
def test_route_and_risk_level(dispositions, route, level):
    claim = parse(claim_dict())
    got = route_claim(claim, [_finding(d, 1) for d in dispositions])
    assert got[:2] == (route, level)


def test_at_risk_sums_the_denied_lines_once():
    claim = parse(claim_dict())  # lines: 185.00, 140.00, 24.00
    findings = [
        _finding("deny", 2),
        _finding("reject", 2),
        _finding("reject", 3),
        _finding("review", 1),
    ]
    assert route_claim(claim, findings)[2] == Decimal("164.00")


def test_claim_level_denial_puts_every_line_at_risk():
    claim = parse(claim_dict())
    assert route_claim(claim, [_finding("reject")])[2] == Decimal("349.00")
    assert route_claim(claim, [_finding("review")])[2] == Decimal("0.00")


def test_event_id_is_deterministic_and_moves_with_each_input():
    base = event_id("abc", {"hcpcs": "2024-07", "cpt": "2024-07"}, "r1")
    assert base == event_id("abc", {"cpt": "2024-07", "hcpcs": "2024-07"}, "r1")
    assert base != event_id("abd", {"hcpcs": "2024-07", "cpt": "2024-07"}, "r1")
    assert base != event_id("abc", {"hcpcs": "2024-10", "cpt": "2024-07"}, "r1")
    assert base != event_id("abc", {"hcpcs": "2024-07", "cpt": "2024-07"}, "r2")

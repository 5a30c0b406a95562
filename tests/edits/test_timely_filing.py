"""Timely filing alone: received 2024-11-20, the default limit 365 days."""

import pytest

from processor.edits.testing import claim, line, run_edit


@pytest.mark.parametrize(
    ("dos", "end", "fires"),
    [
        ("2023-11-21", None, False),  # 365 days
        ("2023-11-20", None, True),  # 366 days
        ("2023-11-01", "2023-11-21", False),  # measured from the last day of service
    ],
)
def test_limit_from_the_last_day_of_service(dos, end, fires):
    extra = {"service_date_end": end} if end else {}
    found = run_edit("TIMELY-FILING", claim(line("99214", dos=dos, **extra)))
    assert bool(found) is fires


def test_limit_is_a_parameter():
    data = claim(line("99214", dos="2024-08-01"))  # 111 days
    assert run_edit("TIMELY-FILING", data) == []
    [finding] = run_edit("TIMELY-FILING", data, parameters={"limit_days": 90})
    assert "111 days" in finding.message and "limit is 90 days" in finding.message

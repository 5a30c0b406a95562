"""The 837P benchmark runs end to end (its figures are printed, never asserted)."""

from __future__ import annotations

from processor.devtools.x12_bench import format_rows, run


def test_bench_parses_every_generated_claim_in_a_fresh_process():
    rows = run(300, None)
    assert [row["claims"] for _, row in rows] == [300, 300]
    assert [row["unreadable"] for _, row in rows] == [0, 0]
    assert "claims/CPU-s" in format_rows(rows)

"""The benchmark's claim generator and the bench report (figures are printed, never asserted)."""

from collections import Counter

import orjson

from processor.cli import main
from processor.codesets import load_codesets
from processor.devtools.bench import format_table, run_bench
from processor.devtools.generator import ClaimGenerator
from processor.history import InMemoryHistory
from processor.models import Claim
from processor.scrubber import Source
from processor.settings import load_settings
from tests.factories import sample_scrubber


def test_generator_is_reproducible_and_valid():
    codesets = load_codesets()
    first = list(ClaimGenerator(codesets, seed=3).messages(300))
    assert first == list(ClaimGenerator(codesets, seed=3).messages(300))
    assert first != list(ClaimGenerator(codesets, seed=4).messages(300))
    claims = [Claim.model_validate_json(raw) for raw in first]
    assert all(1 <= len(c.lines) <= 8 for c in claims)
    assert len({c.claim_id for c in claims}) == 300


def test_about_the_requested_share_of_claims_carry_an_error():
    codesets = load_codesets()
    history = InMemoryHistory()
    routes = Counter()
    for offset, raw in enumerate(ClaimGenerator(codesets, seed=5, errors=0.15).messages(1000)):
        routes[
            sample_scrubber().scrub(raw, source=Source("g", 0, offset), history=history).route
        ] += 1
    assert 0.08 < routes["risk"] / 1000 < 0.30, routes
    clean_only = Counter()
    for offset, raw in enumerate(ClaimGenerator(codesets, seed=5, errors=0.0).messages(300)):
        clean_only[sample_scrubber().scrub(raw, source=Source("h", 0, offset)).route] += 1
    assert clean_only["risk"] == 0, clean_only


def test_generate_command_writes_json_lines(capsysbinary):
    assert main(["generate", "5", "--seed", "1"]) == 0
    lines = capsysbinary.readouterr().out.splitlines()
    assert len(lines) == 5 and all(orjson.loads(x)["claim_id"].startswith("GEN-") for x in lines)


def test_engine_bench_reports_its_figures():
    result = run_bench(load_settings(), 300, kafka=False)
    assert result["claims"] == 300 and result["engine"]["claims"] == 300
    assert result["engine"]["claims_per_s"] > 0 and result["engine"]["us_per_claim"] > 0
    assert result["machine"]["cores"] >= 1 and result["codeset_releases"]
    assert "engine (one core)" in format_table(result)

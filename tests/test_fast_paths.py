"""The hot path's shortcuts against the reference they replace: orjson output against
pydantic's `model_dump_json`, memoised enrichment against computing it, the patient key read
without validating against the claim's, uuid5 without UUID objects against `uuid.uuid5`."""

import uuid
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.codesets import CodeSets, load_codesets
from processor.devtools.generator import ClaimGenerator
from processor.enrichment import compute_enrichment, is_dme_supplier
from processor.history import InMemoryHistory
from processor.models import DeadLetter, ScrubResult
from processor.profiles import load_ruleset
from processor.routing import EVENT_NAMESPACE, uuid5_text
from processor.scrubber import Scrubber, Source
from tests.factories import FIXED_NOW, claim_dict, parse

DEMO = Path(__file__).parent.parent / "examples" / "demo-claims.jsonl"


def _messages(codesets: CodeSets) -> list[bytes]:
    demo = [line for line in DEMO.read_bytes().splitlines() if line]
    return demo + list(ClaimGenerator(codesets, seed=11).messages(400))


def _check_outputs(codesets: CodeSets) -> int:
    scrubber = Scrubber(codesets, load_ruleset(), clock=lambda: FIXED_NOW)
    history = InMemoryHistory()
    checked = 0
    for offset, raw in enumerate(_messages(codesets)):
        result = scrubber.scrub(raw, key="k", source=Source("t", 0, offset), history=history)
        if isinstance(result, DeadLetter):
            assert orjson.loads(result.to_json()) == orjson.loads(result.model_dump_json())
            continue
        assert isinstance(result, ScrubResult)
        assert orjson.loads(result.to_json()) == orjson.loads(result.model_dump_json())
        # The intake hop's key, read without validating, is the validated claim's.
        claim = scrubber.read(raw, key=None, source=Source())
        assert not isinstance(claim, DeadLetter)
        assert scrubber.patient_key(raw, key=None, source=Source()) == claim.patient_key
        checked += 1
    return checked


def test_fast_output_is_the_models_document_on_the_sample_code_sets():
    assert _check_outputs(load_codesets()) > 500


def test_fast_output_is_the_models_document_on_the_cms_code_sets(cms_store):
    assert _check_outputs(cms_store[2]) > 500


def test_memoised_enrichment_is_the_computed_one(cms_store):
    codesets = cms_store[2]
    scrubber = Scrubber(codesets, load_ruleset())
    seen = 0
    for raw in ClaimGenerator(codesets, seed=12).messages(300):
        claim = scrubber.read(raw, key=None, source=Source())
        assert not isinstance(claim, DeadLetter)
        enriched = scrubber.enrich(claim)
        dme = is_dme_supplier(claim)
        for line, out in zip(claim.lines, enriched.lines, strict=True):
            computed = compute_enrichment(line, codesets, dme_supplier=dme)
            assert out.enrichment.model_dump() == computed.model_dump()
            seen += 1
    assert seen > 300


def test_a_new_release_is_not_answered_from_the_old_memo():
    codesets = load_codesets()
    claim = parse(claim_dict())
    line = claim.lines[2]  # J1885, in the sample HCPCS release
    before = Scrubber(codesets, load_ruleset()).enrich(claim).lines[2].enrichment
    assert before.short_descriptor == "Ketorolac tromethamine inj"
    release = codesets.release_for("hcpcs", line.service_date)
    assert release is not None
    emptied = type(release)(info=release.info, entries={})
    after = Scrubber(codesets.with_release(emptied), load_ruleset()).enrich(claim)
    assert after.lines[2].enrichment.short_descriptor is None
    assert after.lines[2].enrichment.status == "unknown"


@given(st.text(max_size=300))
def test_uuid5_text_is_uuid5(name):
    assert uuid5_text(EVENT_NAMESPACE, name) == str(uuid.uuid5(EVENT_NAMESPACE, name))


@pytest.mark.parametrize("namespace", [uuid.NAMESPACE_DNS, EVENT_NAMESPACE])
def test_uuid5_text_matches_for_each_namespace(namespace):
    assert uuid5_text(namespace, "claim|x") == str(uuid.uuid5(namespace, "claim|x"))

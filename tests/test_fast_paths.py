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
from processor.devtools.hostile import hostile_messages
from processor.enrichment import compute_enrichment, is_dme_supplier
from processor.history import InMemoryHistory
from processor.models import Claim, DeadLetter, EnrichedClaim, ScrubResult
from processor.models.construct import construct
from processor.models.outputs import claim_document, dumps
from processor.profiles import load_ruleset
from processor.routing import EVENT_NAMESPACE, uuid5_text
from processor.scrubber import Scrubber, Source, written_values
from tests.factories import FIXED_NOW, claim_dict, parse, sample_scrubber

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


def _parsed_key(raw: bytes) -> str | None:
    """The intake hop's key the way it reads it when the bytes do not give it: parsed."""
    try:
        document = orjson.loads(raw)
        payer_id, member_id = document["payer"]["payer_id"], document["patient"]["member_id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    ok = type(payer_id) is str and type(member_id) is str and payer_id and member_id
    return f"{payer_id}|{member_id}" if ok else None


def test_the_intake_key_read_off_the_bytes_is_the_parsed_one_for_hostile_messages():
    """Seeded mutations of the demo claims: where the key is read off the bytes and the
    message also parses, both give the same key; where nothing gives a key, the message is
    a dead letter at intake."""
    scrubber = sample_scrubber()
    read_off = 0
    for raw in hostile_messages(23, 3000):
        key = scrubber.patient_key(raw, key=None, source=Source())
        parsed = _parsed_key(raw)
        if isinstance(key, DeadLetter):
            assert parsed is None
            continue
        if written_values(raw) is not None and parsed is not None:
            read_off += 1
        if parsed is not None:
            assert key == parsed, raw[:300]
    assert read_off > 1000


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


def _pydantic_claim_bytes(claim: EnrichedClaim) -> bytes:
    """The claim as pydantic's Claim serializer writes it, each line's enrichment appended."""
    document = Claim.__pydantic_serializer__.to_python(claim, mode="json")
    for line, out in zip(claim.lines, document["lines"], strict=True):
        out["enrichment"] = line.enrichment.json_fragment()
    return dumps(document)


def _with_extras() -> list[dict]:
    """Claims with pass-through fields at every level and values pydantic writes its way."""
    everywhere = claim_dict(
        received_at="2024-11-20T14:03:11.250+05:30",
        note={"x": [1, 2.5, None, True, "é\n"]},
        payer={"payer_id": "MCR-J15", "plan_type": "medicare", "extra": 1e-7},
        billing_provider={"npi": "1234567893", "contact": {"phone": "555"}},
        rendering_provider={"npi": "1234567893", "group": "A"},
        referring_provider={"npi": "1234567893"},
        patient={"member_id": "M1", "birth_date": "0999-12-31", "sex": "U", "mrn": 7},
    )
    everywhere["lines"][0].update(units="1E+2", charge="-0.000", custom=["a"])
    everywhere["lines"][1].update(rendering_provider={"npi": "1234567893", "x": -1})
    everywhere["lines"][2]["drug"].update(quantity="0.0000001", lot="L1")
    naive = claim_dict(received_at="2024-11-20T14:03:11")
    no_received = claim_dict(received_at=None)
    return [everywhere, naive, no_received]


def test_claim_document_is_pydantics_byte_for_byte(cms_store):
    scrubber = Scrubber(load_codesets(), load_ruleset(), clock=lambda: FIXED_NOW)
    messages = _messages(cms_store[2]) + [orjson.dumps(c) for c in _with_extras()]
    checked = 0
    for raw in messages:
        claim = scrubber.read(raw, key=None, source=Source())
        if isinstance(claim, DeadLetter):
            continue
        enriched = scrubber.enrich(claim)
        assert dumps(claim_document(enriched)) == _pydantic_claim_bytes(enriched)
        checked += 1
    assert checked > 500


def test_claim_document_falls_back_for_fields_out_of_order():
    scrubber = sample_scrubber()
    enriched = scrubber.enrich(parse(claim_dict()))
    values = dict(reversed(list(enriched.__dict__.items())))
    shuffled = construct(type(enriched), values, enriched.model_fields_set)
    assert dumps(claim_document(shuffled)) == _pydantic_claim_bytes(shuffled)
    assert orjson.loads(dumps(claim_document(shuffled))) == orjson.loads(
        dumps(claim_document(enriched))
    )

import base64

import jsonschema
import orjson
import pytest

from processor.models.schemas import SCHEMA_DIR, generate, render
from tests.factories import claim_bytes, claim_dict, sample_scrubber


@pytest.mark.parametrize("filename", sorted(generate()))
def test_committed_schema_matches_the_models(filename):
    committed = (SCHEMA_DIR / filename).read_text()
    assert committed == render(generate()[filename]), (
        f"schemas/{filename} is stale: run `python -m processor.models.schemas`"
    )


def _validator(filename):
    schema = orjson.loads((SCHEMA_DIR / filename).read_bytes())
    return jsonschema.Draft202012Validator(schema)


def test_the_spec_example_claim_is_valid_against_the_input_schema():
    _validator("claim-event.v1.schema.json").validate(orjson.loads(claim_bytes()))


def test_a_scrub_result_conforms_to_the_output_schema():
    bad = claim_dict()
    bad["lines"][0]["units"] = 0
    result = sample_scrubber().scrub(claim_bytes(bad))
    document = orjson.loads(result.model_dump_json())
    _validator("scrub-result.v1.schema.json").validate(document)
    assert document["findings"], "the example must exercise findings"
    assert document["claim"]["lines"][0]["enrichment"]["code_system"] == "CPT Level I"


def test_a_dead_letter_conforms_and_keeps_the_bytes():
    raw = b'{"claim_id": 5}'
    letter = sample_scrubber().scrub(raw)
    document = orjson.loads(letter.model_dump_json())
    _validator("dead-letter.v1.schema.json").validate(document)
    assert base64.b64decode(document["original"]) == raw

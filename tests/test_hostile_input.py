"""One message never stops the core: hostile input through `Scrubber.scrub_to_bytes` and the
`scrub` command. Every message gets exactly one output, the output reads back with a strict
JSON parser, and a dead letter carries the message's original bytes."""

from __future__ import annotations

import base64
import json
import os
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.devtools.hostile import hostile_messages
from processor.history import InMemoryHistory
from processor.models import DeadLetter, ScrubResult
from processor.scrubber import Scrubber, Source
from tests.factories import claim_bytes, claim_dict, sample_scrubber

HOSTILE_COUNT = int(os.environ.get("CLAIMS_TEST_HOSTILE_COUNT", "100000"))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_loads(data: bytes) -> Any:
    """What a strict consumer reads: UTF-8 text, standard JSON (no NaN / Infinity)."""
    return json.loads(data.decode("utf-8"), parse_constant=_no_constant)


def check_answer(raw: bytes, outcome: ScrubResult | DeadLetter, written: bytes) -> dict:
    document = strict_loads(written)
    if isinstance(outcome, DeadLetter):
        assert document["event_type"] == "claim.unreadable"
        assert base64.b64decode(document["original"]) == raw
        assert document["error_kind"] in ("json", "encoding", "schema", "processing")
    else:
        assert document["event_id"] == outcome.event_id
        assert document["route"] in ("clean", "risk")
    return document


def test_hostile_messages_through_the_core_each_answered_once():
    """HOSTILE_COUNT (100,000) seeded mutations of the demo claims, one history across them
    as `scrub` keeps it. Prints the CPU time it took."""
    scrubber = sample_scrubber()
    history = InMemoryHistory()
    kinds: dict[str, int] = {}
    started = time.process_time()
    answered = 0
    for n, raw in enumerate(hostile_messages(20261122, HOSTILE_COUNT)):
        outcome, written = scrubber.scrub_to_bytes(
            raw, key=f"k{n}", source=Source("hostile", 0, n), history=history
        )
        document = check_answer(raw, outcome, written)
        kind = document.get("error_kind") or document["route"]
        kinds[kind] = kinds.get(kind, 0) + 1
        answered += 1
    cpu = time.process_time() - started
    print(f"\n{answered} hostile messages through the core in {cpu:.1f}s CPU: {kinds}")
    assert answered == HOSTILE_COUNT
    # The mutations reach every outcome: routed claims as well as each kind of dead letter.
    assert {"clean", "risk", "json", "encoding", "schema"} <= set(kinds)


def test_the_generator_is_seeded():
    assert list(hostile_messages(5, 200)) == list(hostile_messages(5, 200))
    assert list(hostile_messages(5, 200)) != list(hostile_messages(6, 200))


def _with_payer_note(literal: str) -> bytes:
    raw = claim_bytes()
    return raw.replace(
        b'"plan_type":"medicare"', b'"plan_type":"medicare","note":' + literal.encode()
    )


def test_an_integer_beyond_64_bits_in_a_pass_through_field_is_carried_exactly():
    raw = _with_payer_note("1000000000000000000000000000000")
    outcome, written = sample_scrubber().scrub_to_bytes(raw)
    assert isinstance(outcome, ScrubResult)
    assert strict_loads(written)["claim"]["payer"]["note"] == 10**30


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_that_is_not_finite_is_dead_lettered_naming_the_field(literal):
    raw = _with_payer_note(literal)
    outcome, written = sample_scrubber().scrub_to_bytes(raw, key="K")
    assert isinstance(outcome, DeadLetter) and outcome.error_kind == "schema"
    assert outcome.error.startswith("payer.note:")
    check_answer(raw, outcome, written)


@pytest.mark.parametrize(
    ("place", "path"),
    [
        (lambda c: c.update(note="__X__"), "claim.note"),
        (lambda c: c["payer"].update(x={"y": ["__X__"]}), "payer.x.y.0"),
        (lambda c: c["lines"][0].update(x="__X__"), "lines.0.x"),
        (
            lambda c: c["lines"][0].update(
                drug={"ndc": "00002-1433-80", "quantity": "1", "unit": "UN", "z": "__X__"}
            ),
            "lines.0.drug.z",
        ),
        (
            lambda c: c["lines"][0].update(rendering_provider={"npi": "1234567893", "q": "__X__"}),
            "lines.0.rendering_provider.q",
        ),
    ],
)
def test_a_number_that_is_not_finite_is_named_by_its_path_at_every_level(place, path):
    claim = claim_dict()
    place(claim)
    raw = json.dumps(claim).encode().replace(b'"__X__"', b"1e999")
    outcome = sample_scrubber().scrub(raw)
    assert isinstance(outcome, DeadLetter) and outcome.error.startswith(f"{path}:")


def test_a_huge_charge_is_routed_with_its_amount_written_as_text():
    claim = claim_dict()
    claim["lines"][0]["charge"] = 1e308
    claim["billing_provider"]["npi"] = "1234567890"  # a reject on the claim: all lines at risk
    raw = json.dumps(claim).encode()
    outcome, written = sample_scrubber().scrub_to_bytes(raw)
    assert isinstance(outcome, ScrubResult) and outcome.route == "risk"
    document = strict_loads(written)
    assert Decimal(document["at_risk_amount"]) >= Decimal("1e308")


def test_a_lone_surrogate_is_dead_lettered_and_the_letter_reads_back():
    raw = _with_payer_note('"\\ud800"')
    outcome, written = sample_scrubber().scrub_to_bytes(raw, key="\udc80key")
    assert isinstance(outcome, DeadLetter)
    assert strict_loads(written)["received_key"] == "\\udc80key"


def test_any_failure_of_a_stage_is_a_dead_letter_naming_the_stage():
    class Broken(Scrubber):
        def enrich(self, claim, **options):
            raise MemoryError("out of something")

    base = sample_scrubber()
    broken = Broken(base.codesets, base.ruleset, clock=base.clock)
    raw = claim_bytes()
    outcome, written = broken.scrub_to_bytes(raw, source=Source("t", 1, 2))
    assert isinstance(outcome, DeadLetter) and outcome.error_kind == "processing"
    assert outcome.error.startswith("enrich: MemoryError")
    check_answer(raw, outcome, written)


def test_an_output_that_cannot_be_written_is_a_dead_letter_at_serialise(monkeypatch):
    def refuse(self):
        raise TypeError("cannot")

    monkeypatch.setattr(ScrubResult, "to_json", refuse)
    monkeypatch.setattr(
        ScrubResult, "__pydantic_serializer__", type("S", (), {"to_json": refuse})()
    )
    raw = claim_bytes()
    outcome, written = sample_scrubber().scrub_to_bytes(raw)
    assert isinstance(outcome, DeadLetter) and outcome.error.startswith("serialise: TypeError")
    check_answer(raw, outcome, written)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
field_paths = st.sampled_from(["", "payer", "patient", "billing_provider", "lines.0"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=field_paths, name=st.text(min_size=1, max_size=8), value=json_values)
def test_any_json_value_in_any_field_gets_one_readable_answer(where, name, value):
    claim = claim_dict()
    target: Any = claim
    for step in where.split(".") if where else []:
        target = target[int(step)] if step.isdigit() else target[step]
    target[name] = value
    raw = json.dumps(claim, allow_nan=True).encode("utf-8", "surrogatepass")
    outcome, written = sample_scrubber().scrub_to_bytes(raw)
    check_answer(raw, outcome, written)


@given(raw=st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_bytes_get_one_readable_answer(raw):
    outcome, written = sample_scrubber().scrub_to_bytes(raw)
    check_answer(raw, outcome, written)


def test_scrub_command_answers_every_line_and_exits_0(tmp_path, capsys):
    from processor.cli import main

    messages = [m for m in hostile_messages(11, 3000) if b"\n" not in m and b"\r" not in m]
    source = tmp_path / "hostile.jsonl"
    source.write_bytes(b"".join(m + b"\n" for m in messages))
    out = tmp_path / "out.jsonl"
    assert main(["scrub", str(source), "-o", str(out), "-q"]) == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == len(messages)
    for raw, line in zip(messages, lines, strict=True):
        document = strict_loads(line)
        if document["event_type"] == "claim.unreadable":
            assert base64.b64decode(document["original"]) == raw

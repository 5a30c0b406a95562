"""The engine against the reference run of the engine before edits were compiled per release
(every check on every claim): digests of its output, processed_at aside, in
tests/edits/reference/ (see its README). The real-store cases skip, naming why, without
../shared/codesets/raw."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from processor.codesets import CodeSets, load_codesets
from processor.devtools.generator import ClaimGenerator
from processor.devtools.local_stack import REPO
from processor.history import InMemoryHistory
from processor.profiles import load_ruleset
from processor.scrubber import Scrubber, Source

REFERENCE = Path(__file__).with_name("reference")
DEMO = REPO / "examples" / "demo-claims.jsonl"
CLOCK = datetime(2024, 12, 1, 12, 0, tzinfo=UTC)
GENERATED = 50_000
BLOCK = 100


def canonical(output: bytes) -> bytes:
    document = orjson.loads(output)
    document.pop("processed_at", None)
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def outputs(codesets: CodeSets, messages: Iterable[bytes], name: str) -> Iterator[bytes]:
    scrubber = Scrubber(codesets, load_ruleset(), clock=lambda: CLOCK)
    history = InMemoryHistory()
    for offset, raw in enumerate(messages, start=1):
        result = scrubber.scrub(raw, source=Source(name, None, offset), history=history)
        yield canonical(result.to_json())


def per_claim(items: Iterable[bytes]) -> list[str]:
    return [hashlib.sha256(item).hexdigest() for item in items]


def per_block(items: Iterable[bytes]) -> list[str]:
    digests, block = [], []
    for item in items:
        block.append(item)
        if len(block) == BLOCK:
            digests.append(hashlib.sha256(b"\n".join(block)).hexdigest())
            block = []
    if block:
        digests.append(hashlib.sha256(b"\n".join(block)).hexdigest())
    return digests


def reference(name: str) -> list[str]:
    return (REFERENCE / f"{name}.sha256").read_text().split()


def write_reference(name: str, digests: list[str]) -> None:
    """For a change that means to alter findings: regenerate a reference file."""
    (REFERENCE / f"{name}.sha256").write_text("".join(d + "\n" for d in digests))


def _differences(got: list[str], expected: list[str], unit: str) -> list[str]:
    assert len(got) == len(expected), f"{len(got)} {unit}s, reference has {len(expected)}"
    return [f"{unit} {n}" for n, (a, b) in enumerate(zip(got, expected, strict=True), 1) if a != b]


def test_demo_file_on_the_sample_code_sets():
    got = per_claim(outputs(load_codesets(None), DEMO.read_bytes().splitlines(), "demo"))
    assert _differences(got, reference("demo-sample"), "claim") == []


def test_demo_file_on_the_real_store(cms_store):
    _, _, codesets = cms_store
    got = per_claim(outputs(codesets, DEMO.read_bytes().splitlines(), "demo"))
    assert _differences(got, reference("demo-real"), "claim") == []


def test_generated_claims_on_the_real_store(cms_store):
    _, _, codesets = cms_store
    messages = ClaimGenerator(codesets, seed=7).messages(GENERATED)
    got = per_block(outputs(codesets, messages, "gen"))
    assert _differences(got, reference("generated-50000-real"), f"block of {BLOCK} claims") == []

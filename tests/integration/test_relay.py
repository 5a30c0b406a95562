"""The bench's faust relay on the real broker: every message crosses both hops unchanged."""

from __future__ import annotations

from collections import Counter

import pytest

from processor.devtools.bench import relay_outputs
from processor.devtools.samples import demo_claims
from processor.settings import load_settings

pytestmark = pytest.mark.kafka


def test_relay_moves_every_message_over_both_hops_unchanged(kafka, tmp_path):
    messages = demo_claims()[:60]
    (tmp_path / "full.jsonl").write_bytes(b"".join(m + b"\n" for m in messages))
    outputs = relay_outputs(load_settings(), kafka, tmp_path, len(messages))
    assert Counter(o.value for o in outputs) == Counter(messages), (
        tmp_path / "relay.log"
    ).read_text(errors="replace")[-3000:]

"""Hostile 837P input (seeded mutations): the reader says what is wrong, it never crashes."""

from __future__ import annotations

import io
from datetime import datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.formats.x12 import ReadClaim, Reader837, SetEnd, X12Error
from processor.formats.x12.ack277 import Ack277Builder
from processor.formats.x12.ack999 import write_999, write_ta1
from processor.formats.x12.writer import write_837p
from processor.models import Claim
from tests.factories import claim_dict, sample_scrubber

_BUFFER = io.StringIO()
write_837p([Claim.model_validate(claim_dict(claim_id=f"C-{i}")) for i in range(3)], _BUFFER)
VALID = _BUFFER.getvalue().encode()
WHEN = datetime(2026, 1, 1)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "cut"]))
        if action == "flip":
            data[at] = draw(st.sampled_from(b"*~:^>|\n0A\x00\xff"))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "insert":
            data[at:at] = draw(st.sampled_from([b"~", b"*", b"SE*1*1~", b"HL*9*9*23~", b"CLM*X~"]))
        else:
            del data[at:]
        if not data:
            break
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_interchanges_are_read_or_refused_never_crash(data):
    try:
        reader = Reader837(io.BytesIO(data))
        builder = Ack277Builder(control=1, when=WHEN)
        for item in reader:
            if isinstance(item, SetEnd):
                builder.end_set(item)
                continue
            assert isinstance(item, ReadClaim)
            if item.error is None:
                outcome = sample_scrubber().scrub(orjson.dumps(item.document))
            else:
                outcome = sample_scrubber().dead_letter(
                    item.text.encode(), key=None, source=__import__(
                        "processor.scrubber", fromlist=["Source"]).Source(), kind="schema",
                    error=item.error,
                )  # fmt: skip
            builder.add(item, outcome)
        builder.write_to(io.StringIO())
        builder.close()
    except X12Error:
        return
    for interchange in reader.interchanges:
        write_ta1(interchange, control=1, when=WHEN)
        write_999(interchange, control=1, when=WHEN)

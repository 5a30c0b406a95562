"""Segments from bytes: delimiters from each ISA, never assumed."""

from __future__ import annotations

import io

import pytest

from processor.formats.x12.tokens import SegmentReader, X12Error, read_isa
from tests.conftest import RAW

IMS = RAW / "x12-837p-samples-imsweb"


def _segments(data: bytes, chunk_size: int = 1 << 20) -> list[list[str]]:
    return list(SegmentReader(io.BytesIO(data), chunk_size=chunk_size))


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_delimiters_come_from_the_isa():
    valid = (IMS / "x12_valid.txt").read_bytes()
    other = (IMS / "x12_valid_different_separators.txt").read_bytes()
    assert read_isa(valid)[0].element == "*" and read_isa(valid)[0].segment == "~"
    d = read_isa(other)[0]
    assert (d.element, d.component, d.segment) == ("~", "^", "_")

    # The same interchange under other delimiters reads as the same segments (composites
    # keep their own component separator: the reader splits them with ISA16).
    def plain(segments: list[list[str]], component: str) -> list[list[str]]:
        return [[e.replace(component, "|") for e in s] for s in segments[1:]]

    assert plain(_segments(other), "^") == plain(_segments(valid), ":")
    clm = next(s for s in _segments(other) if s[0] == "CLM")
    assert clm[5] == "11^B^1"


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_interchanges_with_different_delimiters_follow_each_other():
    valid = (IMS / "x12_valid.txt").read_bytes()
    other = (IMS / "x12_valid_different_separators.txt").read_bytes()
    for chunk_size in (7, 64, 1 << 20):  # segments and ISAs split across chunks
        segments = _segments(valid + b"\n" + other + valid, chunk_size)
        assert [s[0] for s in segments].count("ISA") == 3
        assert [s[1] for s in segments if s[0] == "CLM"] == ["A37YH556", "A37YH667"] * 3


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_truncation_inside_a_segment_is_flagged():
    data = (IMS / "x12_valid.txt").read_bytes()
    data = data.rstrip()[:-5]  # IEA*1*000000905~ without its last digits and terminator
    reader = SegmentReader(io.BytesIO(data))
    segments = list(reader)
    assert reader.truncated and segments[-1] == ["IEA", "1", "00000"]


@pytest.mark.parametrize("head", [b"", b"GS*HC*X~", b"ISA*00*", b"ISA0"])
def test_no_usable_isa_is_a_clear_error(head):
    with pytest.raises(X12Error):
        _segments(head or b"   \n")
        read_isa(head)

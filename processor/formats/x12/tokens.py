"""X12 segments from a byte stream: delimiters from each ISA, never assumed.

A file is read in chunks; each chunk is decoded once and split on the segment terminator,
so memory stays bounded by the chunk size whatever the file's size. Line breaks around
segments (common in published files) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

ISA_LENGTH = 106  # fixed: 16 elements of fixed width plus the terminator
_CHUNK = 1 << 20
_WHITESPACE = b" \t\r\n"
# ISA elements 1-16: fixed widths, and the TA1 note code for a bad value in each.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_TA1_CODES = (
    "010", "011", "012", "013", "005", "006", "007", "008",
    "014", "015", "026", "017", "018", "019", "020", "027",
)  # fmt: skip


class X12Error(Exception):
    """The bytes cannot be read as X12 at all (no ISA where one must be)."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    repetition: str
    component: str
    segment: str


@dataclass(frozen=True, slots=True)
class IsaProblem:
    """An ISA that names its delimiters but breaks the fixed layout: TA1 note code + why."""

    code: str
    reason: str


def read_isa(head: bytes) -> tuple[Delimiters, list[str], IsaProblem | None]:
    """Delimiters and elements of the ISA at the start of `head` (leading whitespace already
    removed). The element separator is the byte after 'ISA'; ISA16 (one character) is the
    component separator and the byte after it the segment terminator. A field of the wrong
    width is reported, not guessed around (the delimiters are still found by counting
    separators, so the rest of the interchange can be named in a TA1)."""
    if not head.startswith(b"ISA") or len(head) < 4:
        raise X12Error("the interchange does not start with an ISA segment")
    text = head[: ISA_LENGTH + 40].decode("latin-1")
    element = text[3]
    if element.isalnum() or element in " \r\n":
        raise X12Error(f"ISA: {element!r} cannot be an element separator")
    at = 3
    for _ in range(15):
        at = text.find(element, at + 1)
        if at < 0:
            raise X12Error("ISA: fewer than 16 elements (the interchange header is truncated)")
    if len(text) < at + 3:
        raise X12Error("ISA: the interchange header is truncated")
    component, terminator = text[at + 1], text[at + 2]
    elements = text[: at + 2].split(element)
    repetition = elements[11] if len(elements[11]) == 1 else ""
    problem = None
    for index, width in enumerate(ISA_WIDTHS, start=1):
        if len(elements[index]) != width:
            problem = IsaProblem(
                ISA_TA1_CODES[index - 1],
                f"ISA{index:02d} is {len(elements[index])} characters, the standard fixes {width}",
            )
            break
    if problem is None and len({element, component, terminator, repetition or element}) < 3:
        problem = IsaProblem("026", "ISA: the delimiters are not distinct")
    return Delimiters(element, repetition, component, terminator), elements, problem


class SegmentReader:
    """Iterates the segments of a stream as lists of elements (element 0 is the segment id).

    `delimiters` holds the current interchange's delimiters; after an IEA the next ISA is
    read afresh, so interchanges with different delimiters can follow each other. `number`
    counts segments from the start of the stream (1-based)."""

    def __init__(self, stream: BinaryIO, chunk_size: int = _CHUNK) -> None:
        self.stream = stream
        self.chunk_size = chunk_size
        self.delimiters: Delimiters | None = None
        self.isa_problem: IsaProblem | None = None
        self.number = 0
        self.truncated = False  # the stream ended inside a segment (no terminator)
        self._buffer = b""
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self.stream.read(self.chunk_size)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def _start_interchange(self) -> bool:
        """Find the next ISA; False at the end of the stream."""
        while True:
            self._buffer = self._buffer.lstrip(_WHITESPACE)
            if len(self._buffer) >= ISA_LENGTH + 40 or (self._buffer and self._eof):
                break
            if not self._fill() and not self._buffer:
                return False
        self.delimiters, _, self.isa_problem = read_isa(self._buffer)
        return True

    def __iter__(self) -> Iterator[list[str]]:
        while True:
            if self.delimiters is None and not self._start_interchange():
                return
            delimiters = self.delimiters
            assert delimiters is not None
            terminator = delimiters.segment.encode("latin-1")
            end = self._buffer.rfind(terminator)
            while end < 0:
                if not self._fill():
                    break
                end = self._buffer.rfind(terminator)
            if end < 0:
                rest = self._buffer.strip(_WHITESPACE)
                self._buffer = b""
                if rest:
                    self.truncated = True
                    self.number += 1
                    yield _decode(rest).split(delimiters.element)
                return
            block, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
            parts = _decode(block).split(delimiters.segment)
            parts.pop()  # empty: the block ends with a terminator
            element = delimiters.element
            for index, part in enumerate(parts):
                part = part.strip("\r\n")
                if not part:
                    continue
                self.number += 1
                segment = part.split(element)
                yield segment
                if segment[0] == "IEA":
                    # The next interchange may use other delimiters: give back what is left
                    # of this block, exactly as it was, and read its ISA afresh.
                    remaining = parts[index + 1 :]
                    tail = delimiters.segment.join(remaining) + delimiters.segment
                    self._buffer = (tail.encode("utf-8") if remaining else b"") + self._buffer
                    self.delimiters = None
                    break
            if self.delimiters is None:
                continue
            if self._eof and not self._buffer.strip(_WHITESPACE):
                return
            if not self._buffer:
                self._fill()
                if not self._buffer:
                    return


def _decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")

"""Writing X12: segments joined with chosen delimiters, counted for the trailers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from processor.formats.x12.tokens import Delimiters

DEFAULT_DELIMITERS = Delimiters(element="*", repetition="^", component=":", segment="~")


class SegmentWriter:
    """Collects segments as text. A value that holds a delimiter would change the structure
    the receiver reads: strict (the 837P writer) refuses it; otherwise (acknowledgments,
    which echo what a submitter sent) each delimiter becomes a space."""

    def __init__(
        self,
        delimiters: Delimiters = DEFAULT_DELIMITERS,
        newline: bool = True,
        *,
        strict: bool = False,
    ) -> None:
        self.d = delimiters
        self.strict = strict
        self.end = delimiters.segment + ("\n" if newline else "")
        self.parts: list[str] = []
        self.count = 0
        self._forbidden = {delimiters.element, delimiters.segment, delimiters.component}
        if delimiters.repetition:
            self._forbidden.add(delimiters.repetition)

    def composite(self, *components: str) -> str:
        values = [self._check(value) for value in components]
        while values and not values[-1]:
            values.pop()
        return self.d.component.join(values)

    def segment(self, segment_id: str, *elements: str, composite: Iterable[int] = ()) -> None:
        """Append a segment; elements at the 1-based positions in `composite` are already
        composites (their component separators are meant)."""
        keep = set(composite)
        values = [
            value if index in keep else self._check(value)
            for index, value in enumerate(elements, start=1)
        ]
        while values and not values[-1]:
            values.pop()
        self.parts.append(self.d.element.join([segment_id, *values]) + self.end)
        self.count += 1

    def _check(self, value: str) -> str:
        bad = self._forbidden.intersection(value)
        if not bad and "\n" not in value and "\r" not in value:
            return value
        if self.strict:
            raise ValueError(f"value {value!r} holds a delimiter or a line break")
        for character in (*bad, "\n", "\r"):
            value = value.replace(character, " ")
        return value

    def text(self) -> str:
        return "".join(self.parts)


def isa(
    writer: SegmentWriter,
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    control: int,
    when: datetime,
    usage: str = "P",
    ack_requested: str = "0",
) -> None:
    """ISA with fixed widths; `sender`/`receiver` are (qualifier, id)."""
    d = writer.d
    sender = (writer._check(sender[0]), writer._check(sender[1]))
    receiver = (writer._check(receiver[0]), writer._check(receiver[1]))
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10,
        sender[0].ljust(2)[:2], sender[1].ljust(15)[:15],
        receiver[0].ljust(2)[:2], receiver[1].ljust(15)[:15],
        when.strftime("%y%m%d"), when.strftime("%H%M"), d.repetition or "^", "00501",
        f"{control:09d}", ack_requested, usage if usage in ("P", "T") else "P",
    ]  # fmt: skip
    writer.parts.append(d.element.join(fields) + d.element + d.component + writer.end)
    writer.count += 1


def money(value: object) -> str:
    """An X12 decimal: no exponent, no trailing zeros beyond what the value holds."""
    text = format(value, "f") if not isinstance(value, str) else value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"

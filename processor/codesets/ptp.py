"""The NCCI PTP table packed for speed: 2.5 million pairs in two sorted integer arrays.

A pair key is both codes in base 36 (5 characters each: 36**5 < 2**26), so the key of
(column 1, column 2) is one 52-bit integer; its value packs the effective date, the
deletion date (proleptic ordinals, 0 = none) and the modifier indicator. A lookup is a
bisect over the keys (about 21 steps), memory is 12 bytes a row, and loading is a read of
two arrays: no Python object per row.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from processor.codesets.model import PtpEdit

_BASE = 36**5
_INDICATORS = {"0": 0, "1": 1, "9": 9}
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def code_number(code: str) -> int:
    """A 5-character code in base 36; ValueError for anything else."""
    if len(code) != 5:
        raise ValueError(f"not a 5-character code: {code!r}")
    return int(code, 36)


def _code_text(number: int) -> str:
    out = []
    for _ in range(5):
        number, digit = divmod(number, 36)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


PtpRow = tuple[int, int]  # (pair key, packed value)


def ptp_row(
    column1: str, column2: str, effective: date | None, deletion: date | None, indicator: str
) -> PtpRow:
    """One PTP row packed; ValueError for a code that is not 5 characters or an unknown
    modifier indicator."""
    if indicator not in _INDICATORS:
        raise ValueError(f"modifier indicator {indicator!r} is not 0, 1 or 9")
    value = (
        ((effective.toordinal() if effective else 0) << 24)
        | ((deletion.toordinal() if deletion else 0) << 4)
        | _INDICATORS[indicator]
    )
    return code_number(column1) * _BASE + code_number(column2), value


def _pack(edit: PtpEdit) -> PtpRow:
    return ptp_row(
        edit.column1, edit.column2, edit.effective_date, edit.deletion_date, edit.modifier_indicator
    )


def _unpack(key: int, value: int) -> PtpEdit:
    effective, deletion, indicator = value >> 24, (value >> 4) & 0xFFFFF, value & 0xF
    return PtpEdit(
        column1=_code_text(key // _BASE),
        column2=_code_text(key % _BASE),
        deletion_date=date.fromordinal(deletion) if deletion else None,
        modifier_indicator=str(indicator),
        effective_date=date.fromordinal(effective) if effective else None,
    )


class PtpTable:
    def __init__(self, keys: array[int], values: array[int]) -> None:
        self.keys = keys
        self.values = values

    @classmethod
    def from_edits(cls, edits: Iterable[PtpEdit]) -> PtpTable:
        return cls.from_rows(_pack(e) for e in edits)

    @classmethod
    def from_rows(cls, rows: Iterable[PtpRow]) -> PtpTable:
        ordered = sorted(set(rows))  # identical rows from twin files count once
        return cls(array("q", (k for k, _ in ordered)), array("q", (v for _, v in ordered)))

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self, column1: str, column2: str) -> list[PtpEdit]:
        """Every row of the pair (a pair can have several, with different dates)."""
        try:
            key = code_number(column1) * _BASE + code_number(column2)
        except ValueError:
            return []
        index = bisect.bisect_left(self.keys, key)
        found = []
        while index < len(self.keys) and self.keys[index] == key:
            found.append(_unpack(key, self.values[index]))
            index += 1
        return found

    def has_column1(self, column1: str) -> bool:
        """Whether any row has this code in column 1."""
        try:
            low = code_number(column1) * _BASE
        except ValueError:
            return False
        index = bisect.bisect_left(self.keys, low)
        return index < len(self.keys) and self.keys[index] < low + _BASE

    def __iter__(self) -> Iterator[PtpEdit]:
        for key, value in zip(self.keys, self.values, strict=True):
            yield _unpack(key, value)

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            handle.write(len(self.keys).to_bytes(8, "little"))
            self.keys.tofile(handle)
            self.values.tofile(handle)

    @classmethod
    def load(cls, path: Path) -> PtpTable:
        with path.open("rb") as handle:
            count = int.from_bytes(handle.read(8), "little")
            keys, values = array("q"), array("q")
            keys.fromfile(handle, count)
            values.fromfile(handle, count)
        return cls(keys, values)

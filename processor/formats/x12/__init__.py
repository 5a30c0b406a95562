"""X12 837P in (reader, writer) and the acknowledgments out (TA1, 999, 277CA)."""

from processor.formats.x12.reader import ReadClaim, Reader837, ReadOptions, SetEnd
from processor.formats.x12.tokens import X12Error

__all__ = ["ReadClaim", "ReadOptions", "Reader837", "SetEnd", "X12Error"]

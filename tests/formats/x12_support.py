"""Shared by the format tests: the sample folders, reading a text, and pyx12 as the
independent judge of what the product writes."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from processor.formats.x12 import ReadClaim, Reader837, SetEnd
from tests.conftest import RAW

# The published 837P samples, one test case each; without them one case that skips, saying
# why (an empty parameter set would skip without naming the folder).
SAMPLES = sorted(RAW.glob("x12-837p-samples-*/**/*.txt")) or [
    pytest.param(
        None,
        id="no-samples",
        marks=pytest.mark.skip(
            reason=f"the X12 837P samples are not at {RAW} (set CLAIMS_CMS_RAW to their folder)"
        ),
    )
]


def read(text: str | bytes) -> tuple[Reader837, list[ReadClaim], list[SetEnd]]:
    data = text.encode() if isinstance(text, str) else text
    reader = Reader837(io.BytesIO(data))
    items = list(reader)
    return (
        reader,
        [i for i in items if isinstance(i, ReadClaim)],
        [i for i in items if isinstance(i, SetEnd)],
    )


def pyx12_errors(text: str, tmp_path: Path) -> list[str]:
    """What pyx12 (its 999/277CA/control maps) finds wrong with an interchange."""
    import pyx12.params
    import pyx12.x12n_document

    path = tmp_path / "ack.x12"
    path.write_text(text)
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                messages.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), str(path), None, None, None, io.StringIO()
        )
    finally:
        logger.removeHandler(handler)
    if not ok and not messages:
        messages.append("pyx12 reports failure")
    return messages

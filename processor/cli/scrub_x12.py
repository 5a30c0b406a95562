"""`scrub` and `produce` over an X12 837P interchange: one output per claim in file order,
and with `--acks DIR` the TA1, 999 and 277CA a clearinghouse sends back."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson

from processor.formats.x12 import ReadClaim, Reader837, ReadOptions, SetEnd, X12Error
from processor.formats.x12.ack277 import Ack277Builder
from processor.formats.x12.ack999 import write_999, write_ta1
from processor.history import InMemoryHistory
from processor.models import DeadLetter, ScrubResult
from processor.scrubber import Scrubber, Source
from processor.settings import Settings


@dataclass
class InterchangeSummary:
    claims: int = 0
    routes: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # rejected envelopes, in words
    warnings: list[str] = field(default_factory=list)
    acks: list[Path] = field(default_factory=list)


def read_options(settings: Settings) -> ReadOptions:
    return ReadOptions(
        received_at=settings.x12_received_at, plan_types=dict(settings.payer_plan_types)
    )


def _problems(reader: Reader837) -> list[str]:
    found = []
    for interchange in reader.interchanges:
        where = f"interchange {interchange.element(13)}"
        found += [f"{where}: TA1 {interchange.ta1_code}: {r}" for r in interchange.reasons]
        for group in interchange.groups:
            found += [f"{where} group {group.gs06}: {r}" for r in group.reasons]
            for report in group.sets:
                found += [f"{where} set {report.st02}: {r}" for r in report.reasons]
    return found


def scrub_interchange(
    scrubber: Scrubber,
    path: Path,
    output: IO[bytes],
    *,
    options: ReadOptions,
    acks_dir: Path | None = None,
) -> InterchangeSummary:
    """Raises X12Error when the file is not an interchange at all."""
    summary = InterchangeSummary()
    history = InMemoryHistory()
    now = datetime.now(UTC)
    acks_277: Ack277Builder | None = None
    with path.open("rb") as handle:
        reader = Reader837(handle, options, now=now)
        for item in reader:
            if isinstance(item, SetEnd):
                if acks_277 is not None:
                    acks_277.end_set(item)
                continue
            outcome = _scrub_one(scrubber, path, item, history)
            summary.claims += 1
            if isinstance(outcome, DeadLetter):
                summary.routes["dead_letter"] += 1
            else:
                summary.routes[outcome.route] += 1
                summary.findings.update(f"{f.edit_id} ({f.disposition})" for f in outcome.findings)
            output.write(outcome.to_json())
            output.write(b"\n")
            if acks_dir is not None:
                if acks_277 is None:
                    acks_277 = Ack277Builder(
                        control=_control(item.interchange.element(13)), when=now
                    )
                acks_277.add(item, outcome)
    summary.problems = _problems(reader)
    summary.warnings = reader.warnings
    if acks_dir is not None:
        acks_dir.mkdir(parents=True, exist_ok=True)
        summary.acks = _write_acks(reader, acks_277, acks_dir, path.name, now)
    return summary


def _scrub_one(
    scrubber: Scrubber, path: Path, item: ReadClaim, history: InMemoryHistory
) -> ScrubResult | DeadLetter:
    # The claim's CLM segment number stands where a Kafka offset would.
    source = Source(str(path), None, item.file_segment)
    key = item.claim_id or None
    if item.error is not None:
        return scrubber.dead_letter(
            item.text.encode(), key=key, source=source, kind="schema", error=item.error
        )
    return scrubber.scrub(orjson.dumps(item.document), key=key, source=source, history=history)


def _control(isa13: str) -> int:
    """The answer's control number: the interchange's own (unique per sender already)."""
    return int(isa13) if isa13.strip().isdigit() else 1


def _write_acks(
    reader: Reader837, acks_277: Ack277Builder | None, directory: Path, name: str, now: datetime
) -> list[Path]:
    written = []
    for interchange in reader.interchanges:
        control = _control(interchange.element(13))
        stem = f"{name}.{interchange.element(13).strip() or 'unknown'}"
        if not interchange.accepted or interchange.element(14) == "1":
            written.append(directory / f"{stem}.ta1")
            written[-1].write_text(write_ta1(interchange, control=control, when=now))
        ack = write_999(interchange, control=control, when=now) if interchange.groups else None
        if ack is not None:
            written.append(directory / f"{stem}.999")
            written[-1].write_text(ack)
    if acks_277 is not None:
        buffer = io.StringIO()
        if acks_277.write_to(buffer):
            written.append(directory / f"{name}.277ca")
            written[-1].write_text(buffer.getvalue())
        acks_277.close()
    return written


def interchange_messages(path: Path, options: ReadOptions) -> tuple[list[bytes], list[str]]:
    """The claim events of an interchange (for `produce`) and, in words, what could not be
    read. Raises X12Error when the file is not an interchange."""
    messages: list[bytes] = []
    problems: list[str] = []
    with path.open("rb") as handle:
        reader = Reader837(handle, options)
        for item in reader:
            if not isinstance(item, ReadClaim):
                continue
            if item.error is None:
                messages.append(orjson.dumps(item.document))
            else:
                where = f"claim {item.claim_id or '?'} (segment {item.file_segment})"
                problems.append(f"{where}: {item.error}")
    return messages, problems + _problems(reader)


__all__ = ["X12Error", "interchange_messages", "read_options", "scrub_interchange"]

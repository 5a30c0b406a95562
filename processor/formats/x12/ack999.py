"""The 999 (005010X231A1) per functional group and the TA1 per interchange, written from the
reader's envelope and segment checks.

One acknowledgment interchange answers one interchange read: its sender and receiver are
the original's swapped, and each group read gets one 999 transaction set (AK1 .. AK9). A
transaction set with errors gets IK3/IK4 per segment noted and IK5 with its status; a
skipped group (not HC, not 837P 005010X222A1) gets AK9 R with the reason code alone.
"""

from __future__ import annotations

from datetime import datetime

from processor.formats.x12.report import GroupReport, InterchangeReport, SetReport
from processor.formats.x12.segments import DEFAULT_DELIMITERS, SegmentWriter, isa
from processor.formats.x12.tokens import Delimiters

ACK_VERSION = "005010X231A1"


def _parties(report: InterchangeReport) -> tuple[tuple[str, str], tuple[str, str]]:
    """(sender, receiver) of the answer: the original's receiver and sender."""
    return (
        (report.element(7).strip(), report.element(8).strip()),
        (report.element(5).strip(), report.element(6).strip()),
    )


def write_ta1(
    report: InterchangeReport,
    *,
    control: int,
    when: datetime,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> str:
    """An interchange holding one TA1: accepted (000) or rejected with its note code."""
    w = SegmentWriter(delimiters)
    sender, receiver = _parties(report)
    isa(w, sender=sender, receiver=receiver, control=control, when=when,
        usage=report.element(15))  # fmt: skip
    w.segment(
        "TA1",
        report.element(13),
        report.element(9),
        report.element(10),
        "A" if report.accepted else "R",
        report.ta1_code,
    )
    w.segment("IEA", "0", f"{control:09d}")
    return w.text()


def write_999(
    report: InterchangeReport,
    *,
    control: int,
    when: datetime,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> str | None:
    """An interchange with one FA group: one 999 per HC group read. None when there is none
    (the interchange was rejected whole, or held no claims group: its answer is the TA1)."""
    groups = [g for g in report.groups if g.gs01 == "HC"]
    if not groups:
        return None
    w = SegmentWriter(delimiters)
    sender, receiver = _parties(report)
    isa(w, sender=sender, receiver=receiver, control=control, when=when,
        usage=report.element(15))  # fmt: skip
    w.segment("GS", "FA", receiver_gs(report, 3), receiver_gs(report, 2),
              when.strftime("%Y%m%d"), when.strftime("%H%M"), str(control), "X",
              ACK_VERSION)  # fmt: skip
    for number, group in enumerate(groups, start=1):
        _transaction(w, group, f"{number:04d}")
    w.segment("GE", str(len(groups)), str(control))
    w.segment("IEA", "1", f"{control:09d}")
    return w.text()


def receiver_gs(report: InterchangeReport, index: int) -> str:
    """GS02/GS03 of the answer: the interchange ids stand in (the reports keep no GS ids)."""
    return report.element(6 if index == 2 else 8).strip() or "UNKNOWN"


def _transaction(w: SegmentWriter, group: GroupReport, control: str) -> None:
    start = w.count
    w.segment("ST", "999", control, ACK_VERSION)
    w.segment("AK1", group.gs01, group.gs06 or "0", group.gs08)
    read_sets = [] if group.group_codes and not group.sets else group.sets
    if group.gs08.startswith("005010X222"):
        for report in read_sets:
            _set(w, report, group)
    accepted = sum(1 for s in group.sets if s.status != "R")
    codes = list(dict.fromkeys(group.group_codes))[:5]
    w.segment(
        "AK9",
        group.status,
        str(len(group.sets)),
        str(len(group.sets)),
        str(accepted if not group.group_codes else 0),
        *codes,
    )
    w.segment("SE", str(w.count - start + 1), control)


def _set(w: SegmentWriter, report: SetReport, group: GroupReport) -> None:
    w.segment("AK2", report.st01 or "837", report.st02 or "0", report.st03 or group.gs08)
    for note in report.notes:
        # IK303 holds four characters: the loop's number (2010 for 2010BA).
        segment_id = note.segment_id[:3] or "UNK"  # IK301 is required even for an empty id
        w.segment("IK3", segment_id, str(note.position), note.loop[:4], note.code)
        element = note.element
        if element is not None:
            where = str(element.position)
            if element.component is not None:
                where = w.composite(where, str(element.component))
            # Only a bad code is echoed back (IK404): other values may be PHI.
            echo = element.value if element.code == "7" else ""
            w.segment("IK4", where, element.reference, element.code, _clean(w, echo),
                      composite=(1,))  # fmt: skip
    status = report.status
    codes = list(dict.fromkeys(report.set_codes))[:5]
    if status == "E" and not codes:
        codes = ["5"]
    w.segment("IK5", status, *codes)


def _clean(w: SegmentWriter, value: str) -> str:
    return "".join(c for c in value if c not in (w.d.element, w.d.segment, w.d.component))

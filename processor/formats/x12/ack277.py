"""The 277CA (005010X214): each claim of an accepted 837 transaction set, accepted or
rejected by its scrub result.

A claim is rejected when it could not be read as a claim (a dead letter) or when a finding
has the disposition `reject`; it is accepted into adjudication (A2:20) when clean, and
acknowledged as received (A1:19) when it carries only deny or review risk (those are told
on claims.risk, not in the 277CA). Which status code and entity a rejection carries is the
table STATUS below (README: "277CA status codes"); a finding on a line is also reported on
that line (2220D SVC/STC).

Claims are written to a spooled temporary file as they come, so the 277CA of a large file
is built in bounded memory; a transaction set the 999 rejects is left out.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from processor.formats.x12.reader import ReadClaim, SetEnd
from processor.formats.x12.report import InterchangeReport
from processor.formats.x12.segments import DEFAULT_DELIMITERS, SegmentWriter, isa, money
from processor.formats.x12.tokens import Delimiters
from processor.models import DeadLetter, Finding, ScrubResult

VERSION = "005010X214"
# Claim status codes (X12 external code source 508) and entity (98) per edit, for a
# finding that rejects. An edit not listed takes 21 (missing or invalid information).
STATUS: dict[str, tuple[str, str]] = {
    "NPI-CHECK-DIGIT": ("562", "85"),  # entity's National Provider Identifier
    "PROC-FORMAT": ("454", ""),  # procedure code for services rendered
    "CODE-INACTIVE": ("454", ""),
    "CAT-II": ("454", ""),
    "SUPPLY-CPT": ("454", ""),
    "MOD-FORMAT": ("453", ""),  # procedure code modifier(s) for service(s) rendered
    "MOD-UNKNOWN": ("453", ""),
    "MOD-LATERALITY": ("453", ""),
    "MOD-PCTC": ("453", ""),
    "EM-MOD25": ("453", ""),
    "DX-INVALID": ("255", ""),  # diagnosis code
    "DX-POINTER": ("255", ""),
    "DX-MANIFESTATION-FIRST": ("254", ""),  # principal diagnosis code
    "DX-EXTERNAL-FIRST": ("254", ""),
    "DOS-DATES": ("187", ""),  # date(s) of service
    "AGE-CONFLICT": ("158", "QC"),  # entity's date of birth
}
# A claim that could not be read: the status by the field the reading stopped at.
UNREADABLE: dict[str, tuple[str, str]] = {
    "HI": ("255", ""),
    "DMG": ("158", "QC"),
    "NM1": ("21", ""),
    "SV1": ("454", ""),
    "DTP": ("187", ""),
}


def claim_status(
    read: ReadClaim, outcome: ScrubResult | DeadLetter
) -> tuple[tuple[str, str, str], dict[int, tuple[str, str, str]]]:
    """((category, status code, entity), {line number: (category, code, entity)})."""
    if isinstance(outcome, DeadLetter):
        first = read.notes[0] if read.notes else None
        code, entity = UNREADABLE.get(first.segment_id, ("21", "")) if first else ("21", "")
        return ("A3", code, entity), {}
    rejecting = [f for f in outcome.findings if f.disposition == "reject"]
    if not rejecting:
        return (("A2", "20", "") if outcome.route == "clean" else ("A1", "19", "")), {}
    lines: dict[int, tuple[str, str, str]] = {}
    for finding in rejecting:
        if finding.line_number is not None and finding.line_number not in lines:
            lines[finding.line_number] = ("A7", *_code(finding))
    claim_level = [f for f in rejecting if f.line_number is None]
    if claim_level:
        return ("A7", *_code(claim_level[0])), lines
    return ("A3", "21", ""), lines


def _code(finding: Finding) -> tuple[str, str]:
    return STATUS.get(finding.edit_id, ("21", ""))


class Ack277Builder:
    def __init__(
        self,
        *,
        control: int,
        when: datetime,
        delimiters: Delimiters = DEFAULT_DELIMITERS,
    ) -> None:
        self.control = control
        self.when = when
        self.delimiters = delimiters
        self.interchange: InterchangeReport | None = None
        self.sets = 0
        self._group: IO[str] = tempfile.SpooledTemporaryFile(4 << 20, mode="w+")  # noqa: SIM115 closed in close()
        self._body: IO[str] = tempfile.SpooledTemporaryFile(4 << 20, mode="w+")  # noqa: SIM115 closed in close()
        # One billing provider's patients: its STC04 totals them, so they wait here.
        self._provider_body: IO[str] = tempfile.SpooledTemporaryFile(4 << 20, mode="w+")  # noqa: SIM115 closed in close()
        self._reset_set()

    def _reset_set(self) -> None:
        self._body.seek(0)
        self._body.truncate()
        self._segments = 0
        self._hl = 2
        self._provider: tuple[str, str] | None = None
        self._provider_total = Decimal(0)
        self._provider_segments = 0
        self._provider_body.seek(0)
        self._provider_body.truncate()
        self._accepted: list[Any] = [0, Decimal(0)]  # claims, charges
        self._rejected: list[Any] = [0, Decimal(0)]

    def add(self, read: ReadClaim, outcome: ScrubResult | DeadLetter) -> None:
        self.interchange = self.interchange or read.interchange
        w = SegmentWriter(self.delimiters)
        doc = read.document
        provider = doc.get("billing_provider") or {}
        key = (str(provider.get("npi") or ""), read.billing_name)
        if key != self._provider:
            self._flush_provider()
            self._provider = key
            self._hl += 1
            self._provider_hl = self._hl
        self._hl += 1
        w.segment("HL", str(self._hl), str(self._provider_hl), "PT")
        last, first = read.patient_name
        patient = doc.get("patient") or {}
        w.segment("NM1", "QC", "1", _text(last, "UNKNOWN"), first, "", "", "", "MI",
                  _text(str(patient.get("member_id") or ""), "UNKNOWN"))  # fmt: skip
        w.segment("TRN", "2", _text(read.claim_id, "0"))
        (category, code, entity), line_status = claim_status(read, outcome)
        total = _amount(doc.get("x12", {}).get("total_charge"))
        accepted = category in ("A1", "A2")
        tally = self._accepted if accepted else self._rejected
        tally[0] += 1
        tally[1] += total
        self._provider_total += total
        w.segment("STC", w.composite(category, code, entity), self._date,
                  "WQ" if accepted else "U", money(total), composite=(1,))  # fmt: skip
        dates = [line.get("service_date") for line in doc.get("lines") or []]
        dates = sorted(d for d in dates if isinstance(d, str) and d)
        if dates:
            _service_date(w, dates[0], dates[-1])
        for line in doc.get("lines") or []:
            number = line.get("line_number")
            if number not in line_status:
                continue
            category, code, entity = line_status[number]
            # SVC01 echoes the line; a modifier X12 cannot carry (not two characters) is
            # left out, the line's STC already says what is wrong with it.
            modifiers = [m for m in line.get("modifiers") or [] if len(str(m)) == 2][:4]
            procedure = w.composite("HC", _text(str(line.get("procedure_code") or ""), "0"),
                                    *(_text(str(m), "") for m in modifiers))  # fmt: skip
            w.segment("SVC", procedure, money(_amount(line.get("charge"))), "", "", "", "",
                      money(_amount(line.get("units"))), composite=(1,))  # fmt: skip
            w.segment("STC", w.composite(category, code, entity), self._date, "U", composite=(1,))
            w.segment("REF", "FJ", str(number))
            if line.get("service_date"):
                _service_date(w, line["service_date"], line.get("service_date_end") or "")
        self._provider_body.write(w.text())
        self._provider_segments += w.count

    def _flush_provider(self) -> None:
        if self._provider is None:
            return
        npi, name = self._provider
        w = SegmentWriter(self.delimiters)
        w.segment("HL", str(self._provider_hl), "2", "19", "1")
        w.segment("NM1", "85", "2", _text(name, "BILLING PROVIDER"), "", "", "", "", "XX",
                  _text(npi, "0"))  # fmt: skip
        w.segment("TRN", "1", "0")
        w.segment("STC", w.composite("A1", "19"), "", "WQ", money(self._provider_total),
                  composite=(1,))  # fmt: skip
        self._body.write(w.text())
        self._provider_body.seek(0)
        for chunk in iter(lambda: self._provider_body.read(1 << 20), ""):
            self._body.write(chunk)
        self._segments += w.count + self._provider_segments
        self._provider_body.seek(0)
        self._provider_body.truncate()
        self._provider_segments = 0
        self._provider_total = Decimal(0)

    @property
    def _date(self) -> str:
        return self.when.strftime("%Y%m%d")

    def end_set(self, end: SetEnd) -> None:
        """Close the 277 for one 837 set; a set the 999 rejects is not acknowledged here."""
        self._flush_provider()
        if end.transaction.status != "R" and self._segments:
            self.sets += 1
            self._write_set(end)
        self._reset_set()

    def _write_set(self, end: SetEnd) -> None:
        report = end.transaction
        control = f"{self.sets:04d}"
        w = SegmentWriter(self.delimiters)
        w.segment("ST", "277", control, VERSION)
        w.segment("BHT", "0085", "08", _text(report.bht03 or report.st02, "0"), self._date,
                  self.when.strftime("%H%M"), "TH")  # fmt: skip
        w.segment("HL", "1", "", "20", "1")
        w.segment("NM1", "AY", "2", _text(report.receiver_name, "CLAIMS PROCESSOR"), "", "",
                  "", "", "46", _text(report.receiver_id, "0"))  # fmt: skip
        w.segment("TRN", "1", _text(report.st02, "0"))
        w.segment("DTP", "050", "D8", self._date)
        w.segment("DTP", "009", "D8", self._date)
        w.segment("HL", "2", "1", "21", "1")
        w.segment("NM1", "41", "2", _text(report.submitter_name, "SUBMITTER"), "", "", "", "",
                  "46", _text(report.submitter_id, "0"))  # fmt: skip
        w.segment("TRN", "2", _text(report.bht03 or report.st02, "0"))
        w.segment("STC", w.composite("A1", "19"), self._date, "WQ",
                  money(self._accepted[1] + self._rejected[1]), composite=(1,))  # fmt: skip
        if self._accepted[0]:
            w.segment("QTY", "90", str(self._accepted[0]))
        if self._rejected[0]:
            w.segment("QTY", "AA", str(self._rejected[0]))
        if self._accepted[0]:
            w.segment("AMT", "YU", money(self._accepted[1]))
        if self._rejected[0]:
            w.segment("AMT", "YY", money(self._rejected[1]))
        self._group.write(w.text())
        self._body.seek(0)
        for chunk in iter(lambda: self._body.read(1 << 20), ""):
            self._group.write(chunk)
        segments = w.count + self._segments + 1
        tail = SegmentWriter(self.delimiters)
        tail.segment("SE", str(segments), control)
        self._group.write(tail.text())

    def write_to(self, out: IO[str]) -> bool:
        """The 277CA interchange; False (nothing written) when no set was acknowledged."""
        if not self.sets or self.interchange is None:
            return False
        report = self.interchange
        w = SegmentWriter(self.delimiters)
        sender = (report.element(7).strip(), report.element(8).strip())
        receiver = (report.element(5).strip(), report.element(6).strip())
        isa(w, sender=sender, receiver=receiver, control=self.control, when=self.when,
            usage=report.element(15))  # fmt: skip
        w.segment("GS", "HN", sender[1] or "0", receiver[1] or "0", self._date,
                  self.when.strftime("%H%M"), str(self.control), "X", VERSION)  # fmt: skip
        out.write(w.text())
        self._group.seek(0)
        for chunk in iter(lambda: self._group.read(1 << 20), ""):
            out.write(chunk)
        tail = SegmentWriter(self.delimiters)
        tail.segment("GE", str(self.sets), str(self.control))
        tail.segment("IEA", "1", f"{self.control:09d}")
        out.write(tail.text())
        return True

    def close(self) -> None:
        self._group.close()
        self._body.close()
        self._provider_body.close()


def _service_date(w: SegmentWriter, start: str, end: str) -> None:
    first, last = start.replace("-", ""), (end or start).replace("-", "")
    if first == last:
        w.segment("DTP", "472", "D8", first)
    else:
        w.segment("DTP", "472", "RD8", f"{first}-{last}")


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _text(value: str, default: str) -> str:
    """A value fit for an element: delimiters and line breaks dropped, never empty."""
    cleaned = "".join(c for c in value if c not in "*~:^\r\n" and c.isprintable()).strip()
    return cleaned or default

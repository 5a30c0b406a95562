"""837P (005010X222A1) onto the claim event: a loop state machine over the segment stream.

One 2300 loop is one claim, emitted as soon as the next CLM, HL or SE closes it, so a file
of any size is read in bounded memory. The envelope (ISA/GS/ST and their trailers) and the
segments are checked as they pass; what is found goes into the reports from which the TA1
and the 999 are written. The field-by-field mapping is the table in the README.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, BinaryIO, Literal

from processor.formats.x12.report import (
    ElementNote,
    GroupReport,
    InterchangeReport,
    SegmentNote,
    SetReport,
)
from processor.formats.x12.tokens import Delimiters, SegmentReader, X12Error

PROFESSIONAL = "005010X222A1"
ACCEPTED_VERSIONS = {PROFESSIONAL: None, "005010X222A2": "005010X222A2 label read as 005010X222A1"}
# SBR09 claim filing indicator -> plan_type; everything else is commercial.
PLAN_TYPES = {"MB": "medicare", "MC": "medicaid", "16": "medicare_advantage"}
ICD10 = {"ABK", "ABF"}
ICD9 = {"BK", "BF"}
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_GOOD_IDS: set[str] = set()
_PAD = [""] * 12  # segment ids already matched against _SEGMENT_ID
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)\Z")
ReceivedAt = Literal["transaction", "ingest"]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    received_at: ReceivedAt = "transaction"  # BHT04/05, or the time the file is read
    plan_types: Mapping[str, str] = field(default_factory=dict)  # payer id -> plan_type


@dataclass(slots=True)
class ReadClaim:
    """One 2300 loop: the claim event document, or why it cannot be one."""

    document: dict[str, Any]
    error: str | None
    file_segment: int  # the CLM's segment number in the file (1-based)
    segments: list[list[str]]  # the claim's segments as read (CLM to its last line's end)
    delimiters: Delimiters
    patient_name: tuple[str, str]  # (last, first) of the patient: for the 277CA only
    billing_name: str
    interchange: InterchangeReport
    group: GroupReport
    transaction: SetReport
    notes: list[SegmentNote]  # what made the claim unreadable (empty when it was read)

    @property
    def claim_id(self) -> str:
        return str(self.document.get("claim_id") or "")

    @property
    def text(self) -> str:
        """The claim's segments as X12 text (joined only when asked: a dead letter's bytes)."""
        element, terminator = self.delimiters.element, self.delimiters.segment
        return "".join(element.join(segment) + terminator for segment in self.segments)


@dataclass(slots=True)
class SetEnd:
    """A transaction set is closed (by SE, or by the end of the file without one)."""

    interchange: InterchangeReport
    group: GroupReport
    transaction: SetReport


def _el(segment: list[str], index: int) -> str:
    return segment[index] if len(segment) > index else ""


def _date(text: str) -> str | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return None


class _Claim:
    """A 2300 loop being read."""

    __slots__ = ("doc", "file_segment", "line", "lines", "loop", "notes", "position", "segments")

    def __init__(self, position: int, file_segment: int) -> None:
        self.doc: dict[str, Any] = {}
        self.lines: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None
        self.loop = "2300"
        self.notes: list[SegmentNote] = []
        self.segments: list[list[str]] = []
        self.position = position
        self.file_segment = file_segment


class Reader837:
    """Iterate an 837P stream: `ReadClaim` per 2300 loop, `SetEnd` per transaction set.
    After iteration, `interchanges` holds the envelope reports (TA1/999 material) and
    `warnings` what was read but is worth saying."""

    def __init__(
        self,
        stream: BinaryIO,
        options: ReadOptions | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        self.tokens = SegmentReader(stream)
        self.options = options or ReadOptions()
        self.now = now or datetime.now(UTC)
        self.interchanges: list[InterchangeReport] = []
        self.warnings: list[str] = []
        self.claims = 0
        # state
        self._isa: InterchangeReport | None = None
        self._group: GroupReport | None = None
        self._set: SetReport | None = None
        self._set_ids: set[str] = set()
        self._set_count = 0
        self._position = 0
        self._skip_set = False
        self._skip_interchange = False
        self._groups_seen = 0
        self._reset_hierarchy()

    def _reset_hierarchy(self) -> None:
        self._loop = "HEADER"
        self._header_seen = False
        self._received_at: str | None = None
        self._provider: dict[str, Any] = {}
        self._provider_name = ""
        self._subscriber: dict[str, Any] = {}
        self._patient: dict[str, Any] | None = None
        self._patient_name = ("", "")
        self._subscriber_name = ("", "")
        self._claim: _Claim | None = None
        self._hl_position = 0

    # -- the stream ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[ReadClaim | SetEnd]:
        try:
            yield from self._segments()
        except X12Error as exc:
            if not self.interchanges:
                raise  # not an interchange at all
            # Something after an IEA that is no interchange: what was read stands.
            self.warnings.append(
                f"after segment {self.tokens.number}: {exc}; the rest of the file is not read"
            )
        yield from self._close_interchange("023", "the file ends before IEA")

    def _segments(self) -> Iterator[ReadClaim | SetEnd]:
        for segment in self.tokens:
            sid = segment[0]
            if self.tokens.truncated:
                # The stream ended inside this segment: it is not read, half a trailer
                # least of all.
                reason = f"the file ends inside segment {self.tokens.number} ({sid[:3]})"
                if self._set is not None:
                    self._set.reasons.append(reason)
                if self._isa is not None:
                    self._isa.reasons.append(reason)
                break
            if self._set is not None and sid not in _ENVELOPE:
                # The hot path: a segment inside a transaction set.
                self._position += 1
                if not self._skip_set:
                    done = self._body(segment)
                    if done is not None:
                        yield done
            elif sid == "ISA":
                yield from self._close_interchange("023", "the file ends before IEA")
                self._open_interchange(segment)
            elif self._isa is None:
                # Before any ISA only whitespace may stand (the tokenizer guarantees an ISA
                # starts the stream); after IEA, anything but ISA is out of place.
                self.warnings.append(
                    f"segment {self.tokens.number}: {sid} outside an interchange, ignored"
                )
            elif self._skip_interchange:
                if sid == "IEA":
                    self._isa = None
            elif sid == "IEA":
                yield from self._close_group("3", "the interchange ends before GE")
                self._close_iea(segment)
            elif sid == "GS":
                yield from self._close_group("3", "a new GS before GE")
                self._open_group(segment)
            elif self._group is None:
                self._isa.reject("024", f"segment {self.tokens.number}: {sid} outside a group")
            elif sid == "GE":
                yield from self._close_set("2", "GE before SE")
                self._close_ge(segment)
            elif sid == "ST":
                yield from self._close_set("2", "a new ST before SE")
                self._open_set(segment)
            elif self._set is None:
                self._group.reasons.append(
                    f"segment {self.tokens.number}: {sid} outside a transaction set"
                )
            else:  # SE
                yield from self._close_se(segment)

    # -- envelopes ----------------------------------------------------------------------------
    def _open_interchange(self, segment: list[str]) -> None:
        report = InterchangeReport(isa=segment)
        self.interchanges.append(report)
        self._isa = report
        problem = self.tokens.isa_problem
        if problem is not None:
            report.reject(problem.code, problem.reason)
        elif _el(segment, 12) != "00501":
            version = _el(segment, 12)
            what = " (4010)" if version == "00401" else ""
            report.reject(
                "017",
                f"ISA12: interchange version {version}{what} is not read; "
                f"this product reads 837P {PROFESSIONAL} in a 00501 interchange",
            )
        self._groups_seen = 0
        self._skip_interchange = not report.accepted

    def _close_iea(self, segment: list[str]) -> None:
        assert self._isa is not None
        if _el(segment, 2) != _el(self._isa.isa, 13):
            self._isa.reject("001", "IEA02 does not match the ISA13 control number")
        elif _el(segment, 1) != str(self._groups_seen):
            self._isa.reject(
                "021",
                f"IEA01 says {_el(segment, 1)} groups, the interchange has {self._groups_seen}",
            )
        self._isa = None

    def _close_interchange(self, code: str, reason: str) -> Iterator[ReadClaim | SetEnd]:
        if self._isa is None:
            return
        yield from self._close_group("3", reason)
        self._isa.reject(code, reason)
        self._isa = None

    def _open_group(self, segment: list[str]) -> None:
        assert self._isa is not None
        self._groups_seen += 1
        group = GroupReport(gs01=_el(segment, 1), gs06=_el(segment, 6), gs08=_el(segment, 8))
        self._isa.groups.append(group)
        self._group = group
        self._set_ids = set()
        self._set_count = 0
        if group.gs01 != "HC":
            group.group_codes.append("1")
            reason = f"GS01 {group.gs01}: only HC (claims) groups are read"
            group.reasons.append(reason)
            # A 999 acknowledges claim groups only: the interchange's TA1 says why.
            self._isa.reject("024", reason)
        elif group.gs08 not in ACCEPTED_VERSIONS:
            group.group_codes.append("2")
            group.reasons.append(
                f"GS08 {group.gs08}: only 837P {PROFESSIONAL} is read"
                + (" (4010 is not supported)" if group.gs08.startswith("004010") else "")
            )
        elif ACCEPTED_VERSIONS[group.gs08]:
            group.warnings.append(str(ACCEPTED_VERSIONS[group.gs08]))
            self.warnings.append(f"GS06 {group.gs06}: {ACCEPTED_VERSIONS[group.gs08]}")

    def _close_ge(self, segment: list[str]) -> None:
        assert self._group is not None
        if _el(segment, 2) != self._group.gs06:
            self._group.group_codes.append("4")
            self._group.reasons.append("GE02 does not match the GS06 control number")
        if _el(segment, 1) != str(self._set_count):
            self._group.group_codes.append("5")
            self._group.reasons.append(
                f"GE01 says {_el(segment, 1)} transaction sets, the group has {self._set_count}"
            )
        self._group = None

    def _close_group(self, code: str, reason: str) -> Iterator[ReadClaim | SetEnd]:
        if self._group is None:
            return
        yield from self._close_set("2", reason)
        self._group.group_codes.append(code)
        self._group.reasons.append(reason)
        self._group = None

    def _open_set(self, segment: list[str]) -> None:
        assert self._group is not None
        report = SetReport(st01=_el(segment, 1), st02=_el(segment, 2), st03=_el(segment, 3))
        self._group.sets.append(report)
        self._set_count += 1
        self._set = report
        self._position = 1
        self._reset_hierarchy()
        self._skip_set = bool(self._group.group_codes)
        if report.st01 != "837":
            report.set_codes.append("1")
            report.reasons.append(f"ST01 {report.st01}: only 837 transaction sets are read")
            self._skip_set = True
        elif not report.st02:
            report.set_codes.append("7")
            report.reasons.append("ST02 control number missing")
        elif report.st02 in self._set_ids:
            report.set_codes.append("23")
            report.reasons.append(f"ST02 {report.st02} is used twice in the group")
        elif report.st03 and report.st03 != self._group.gs08:
            report.set_codes.append("I6")
            report.reasons.append(f"ST03 {report.st03} differs from GS08 {self._group.gs08}")
        self._set_ids.add(report.st02)

    def _close_se(self, segment: list[str]) -> Iterator[ReadClaim | SetEnd]:
        assert self._set is not None
        self._position += 1
        done = self._finish_claim()
        if done is not None:
            yield done
        report = self._set
        if _el(segment, 2) != report.st02:
            report.set_codes.append("3")
            report.reasons.append("SE02 does not match the ST02 control number")
        if _el(segment, 1) != str(self._position):
            report.set_codes.append("4")
            report.reasons.append(
                f"SE01 says {_el(segment, 1)} segments, the transaction set has {self._position}"
            )
        if not self._skip_set:
            self._check_header(report)
        self._set = None
        assert self._isa is not None and self._group is not None
        yield SetEnd(self._isa, self._group, report)

    def _close_set(self, code: str, reason: str) -> Iterator[ReadClaim | SetEnd]:
        if self._set is None:
            return
        done = self._finish_claim()
        if done is not None:
            yield done
        report = self._set
        report.set_codes.append(code)
        report.reasons.append(reason)
        self._set = None
        assert self._isa is not None and self._group is not None
        yield SetEnd(self._isa, self._group, report)

    def _check_header(self, report: SetReport) -> None:
        if not self._header_seen:
            report.note(SegmentNote("BHT", 2, "", "3", "BHT is required after ST"))
        if not report.submitter_id:
            report.note(SegmentNote("NM1", 3, "1000A", "3", "1000A submitter (NM1*41) missing"))
        if not report.receiver_id:
            report.note(SegmentNote("NM1", 3, "1000B", "3", "1000B receiver (NM1*40) missing"))
        if report.claims == 0:
            report.set_codes.append("5")
            report.reasons.append("the transaction set has no claim (CLM)")

    # -- the transaction body -----------------------------------------------------------------
    def _note(
        self,
        segment: list[str],
        loop: str,
        code: str,
        reason: str,
        element: ElementNote | None = None,
    ) -> None:
        note = SegmentNote(segment[0], self._position, loop, code, reason, element)
        assert self._set is not None
        self._set.note(note)
        if self._claim is not None:
            self._claim.notes.append(note)

    def _bad_element(
        self,
        segment: list[str],
        loop: str,
        position: int,
        reference: str,
        code: str,
        why: str,
        component: int | None = None,
    ) -> None:
        value = _el(segment, position)
        if component is not None:
            parts = value.split(self._delimiters.component)
            value = parts[component - 1] if len(parts) >= component else ""
        name = f"{segment[0]}{position:02d}" + (f"-{component}" if component else "")
        self._note(
            segment,
            loop,
            "8",
            f"{name}: {why}",
            ElementNote(position, component, reference, code, value[:99]),
        )

    @property
    def _delimiters(self) -> Delimiters:
        assert self.tokens.delimiters is not None
        return self.tokens.delimiters

    def _composite(
        self, segment: list[str], loop: str, position: int, reference: str
    ) -> list[str] | None:
        """A composite element's components, or None (noted) when its value holds none of
        ISA16's separators but does hold another separator-like character: a file whose
        body uses a different component separator than its ISA declares is not guessed."""
        value = _el(segment, position)
        separator = self._delimiters.component
        if separator in value:
            return value.split(separator)
        stray = next((c for c in value if c in ":>^|\\!"), None)
        if stray is not None:
            self._bad_element(
                segment,
                loop,
                position,
                reference,
                "6",
                f"holds {stray!r}, not the component separator {separator!r} that ISA16 declares",
                component=1,
            )
            return None
        return [value]

    def _body(self, segment: list[str]) -> ReadClaim | None:
        sid = segment[0]
        if sid not in _GOOD_IDS:
            if not _SEGMENT_ID.match(sid):
                self._note(segment, self._loop, "1", f"{sid[:3]!r} is not a segment identifier")
                return None
            if len(_GOOD_IDS) < 1000:
                _GOOD_IDS.add(sid)
        claim = self._claim
        if claim is not None and sid != "HL" and sid != "CLM":
            claim.segments.append(segment)
        # Padded: the handlers below index elements directly (an absent one reads as "").
        segment = segment + _PAD
        if sid == "HL":
            done = self._finish_claim()
            self._hl(segment)
            return done
        if sid == "CLM":
            done = self._finish_claim()
            self._clm(segment)
            return done
        if claim is not None:
            self._claim_segment(claim, segment)
        else:
            self._hierarchy_segment(segment)
        return None

    def _hl(self, segment: list[str]) -> None:
        level = segment[3]
        self._hl_position = self._position
        if level == "20":
            self._loop = "2000A"
            self._provider = {}
            self._provider_name = ""
        elif level == "22":
            self._loop = "2000B"
            self._subscriber = {}
            self._patient = None
            self._subscriber_name = ("", "")
            self._patient_name = ("", "")
        elif level == "23":
            self._loop = "2000C"
            self._patient = {}
            self._patient_name = ("", "")
        else:
            self._bad_element(
                segment, "2000A", 3, "735", "7", f"HL level {level!r} is not 20/22/23"
            )

    def _hierarchy_segment(self, segment: list[str]) -> None:
        sid = segment[0]
        loop = self._loop
        if sid == "BHT":
            self._header_seen = True
            assert self._set is not None
            self._set.bht03 = segment[3]
            self._received_at = self._bht_time(segment)
        elif sid == "NM1":
            entity = segment[1]
            if loop == "HEADER" or loop.startswith("1000"):
                assert self._set is not None
                if entity == "41":
                    self._loop = "1000A"
                    self._set.submitter_name = segment[3]
                    self._set.submitter_id = segment[9]
                elif entity == "40":
                    self._loop = "1000B"
                    self._set.receiver_name = segment[3]
                    self._set.receiver_id = segment[9]
            elif loop.startswith("2000A") or loop.startswith("2010A"):
                if entity == "85":
                    self._loop = "2010AA"
                    self._provider["npi"] = segment[9]
                    self._provider_name = _name(segment)
                    self._provider["name"] = self._provider_name
                else:
                    self._loop = "2010AB" if entity == "87" else "2010AC"
            elif loop.startswith("2000B") or loop.startswith("2010B"):
                if entity == "IL":
                    self._loop = "2010BA"
                    self._subscriber["member_id"] = segment[9]
                    self._subscriber_name = (segment[3], segment[4])
                elif entity == "PR":
                    self._loop = "2010BB"
                    self._subscriber["payer_id"] = segment[9]
                    self._subscriber["payer_name"] = segment[3]
            elif (loop.startswith("2000C") or loop.startswith("2010C")) and entity == "QC":
                self._loop = "2010CA"
                self._patient_name = (segment[3], segment[4])
        elif sid == "PRV" and loop == "2000A" and segment[1] == "BI":
            self._provider["taxonomy"] = segment[3]
        elif sid == "REF" and loop == "2010AA" and segment[1] in ("EI", "SY"):
            self._provider.setdefault("tax_id", segment[2])
        elif sid == "SBR" and loop == "2000B":
            self._subscriber["sbr09"] = segment[9]
        elif sid == "DMG" and loop in ("2010BA", "2010CA"):
            target = self._subscriber if loop == "2010BA" else self._patient
            assert target is not None
            birth = _date(segment[2]) if segment[1] == "D8" else None
            if birth is None:
                self._bad_element(segment, loop, 2, "1251", "8", "not a D8 date (CCYYMMDD)")
            target["birth_date"] = birth
            target["sex"] = segment[3]

    def _bht_time(self, segment: list[str]) -> str | None:
        if self.options.received_at == "ingest":
            return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        day = _date(segment[4])
        clock = segment[5]
        if day is None:
            self._bad_element(segment, "", 4, "373", "8", "not a date (CCYYMMDD)")
            return None
        if not (len(clock) in (4, 6, 7, 8) and clock.isdigit()) or int(clock[:2]) > 23:
            self._bad_element(segment, "", 5, "337", "9", "not a time (HHMM[SS])")
            return None
        seconds = clock[4:6] or "00"
        return f"{day}T{clock[:2]}:{clock[2:4]}:{seconds}Z"

    # -- the claim ----------------------------------------------------------------------------
    def _clm(self, segment: list[str]) -> None:
        assert self._set is not None and self._isa is not None and self._group is not None
        claim = _Claim(self._position, self.tokens.number)
        claim.segments.append(segment[: len(segment) - len(_PAD)])
        self._claim = claim
        self._set.claims += 1
        self._loop = "2300"
        doc = claim.doc
        clm01 = segment[1]
        if not clm01:
            self._bad_element(
                segment, "2300", 1, "1028", "1", "claim submitter's identifier missing"
            )
        total = segment[2]
        if not _NUMBER.match(total):
            self._bad_element(segment, "2300", 2, "782", "6", "total charge is not a number")
        doc["claim_id"] = clm01
        composite = self._composite(segment, "2300", 5, "1331")
        doc["place_of_service"] = composite[0] if composite else ""
        frequency = composite[2] if composite and len(composite) > 2 else ""
        doc["frequency_code"] = frequency or "1"
        doc["x12"] = {
            "isa13": self._isa.element(13),
            "gs06": self._group.gs06,
            "st02": self._set.st02,
            "clm01": clm01,
            "segment": self._position,
            "total_charge": total,
        }

    def _claim_segment(self, claim: _Claim, segment: list[str]) -> None:
        sid = segment[0]
        loop = claim.loop
        if sid == "LX":
            claim.loop = "2400"
            number = segment[1]
            if not number.isdigit():
                self._bad_element(segment, "2400", 1, "554", "6", "line number is not a number")
            claim.line = {"line_number": int(number) if number.isdigit() else 0}
            claim.lines.append(claim.line)
        elif loop in ("2320", "2330") or (loop == "2430" and sid != "LX"):
            # Other payers' loops and line adjudication: their NM1*IL/PR and amounts belong
            # to another payer's view of the claim, never to this claim's subscriber/payer.
            if sid == "NM1":
                claim.loop = "2330"
        elif sid == "SBR" and claim.line is None:
            claim.loop = "2320"
        elif claim.line is None:
            self._claim_level(claim, segment)
        else:
            self._line_level(claim, claim.line, segment)

    def _claim_level(self, claim: _Claim, segment: list[str]) -> None:
        sid = segment[0]
        doc = claim.doc
        if sid == "HI":
            self._hi(claim, segment)
        elif sid == "REF":
            qualifier = segment[1]
            if qualifier == "F8":
                doc["original_claim_id"] = segment[2]
            elif qualifier == "G1":
                doc["prior_authorization"] = segment[2]
        elif sid == "NM1":
            entity = segment[1]
            if entity == "DN":
                claim.loop = "2310A"
                doc["referring_provider"] = {"npi": segment[9]}
            elif entity == "82":
                claim.loop = "2310B"
                doc["rendering_provider"] = {"npi": segment[9]}
            else:
                claim.loop = "2310C"
        elif sid == "PRV" and claim.loop == "2310B" and segment[1] == "PE":
            doc["rendering_provider"]["taxonomy"] = segment[3]

    def _hi(self, claim: _Claim, segment: list[str]) -> None:
        diagnoses = claim.doc.setdefault("diagnoses", [])
        for position in range(1, len(segment)):
            if not segment[position]:
                continue
            parts = self._composite(segment, "2300", position, "1270")
            if parts is None:
                return
            qualifier = parts[0]
            if qualifier in ICD10:
                code = parts[1] if len(parts) > 1 else ""
                if not code:
                    self._bad_element(
                        segment, "2300", position, "1271", "1", "diagnosis code missing", 2
                    )
                diagnoses.append(code)
            elif qualifier in ICD9:
                self._bad_element(
                    segment,
                    "2300",
                    position,
                    "1270",
                    "7",
                    f"qualifier {qualifier} is ICD-9-CM; only ICD-10-CM (ABK/ABF) is read",
                    1,
                )
                return
            elif position == 1 and not diagnoses:
                return  # another HI (condition codes, anesthesia): not diagnoses

    def _line_level(self, claim: _Claim, line: dict[str, Any], segment: list[str]) -> None:
        sid = segment[0]
        if sid == "SV1":
            self._sv1(line, segment)
        elif sid == "DTP" and segment[1] == "472":
            self._dtp472(line, segment)
        elif sid == "LIN":
            claim.loop = "2410"
            if segment[2] == "N4":
                line["drug"] = {"ndc": segment[3]}
        elif sid == "CTP" and claim.loop == "2410" and "drug" in line:
            line["drug"]["quantity"] = segment[4]
            unit = segment[5].split(self._delimiters.component)[0]
            line["drug"]["unit"] = unit
        elif sid == "NM1":
            if segment[1] == "82":
                claim.loop = "2420A"
                line["rendering_provider"] = {"npi": segment[9]}
            else:
                claim.loop = "2420"
        elif sid == "PRV" and claim.loop == "2420A" and segment[1] == "PE":
            line["rendering_provider"]["taxonomy"] = segment[3]
        elif sid == "SVD":
            claim.loop = "2430"

    def _sv1(self, line: dict[str, Any], segment: list[str]) -> None:
        line["_sv1"] = True
        procedure = self._composite(segment, "2400", 1, "235")
        if procedure is not None:
            if len(procedure) < 2 or not procedure[1]:
                self._bad_element(segment, "2400", 1, "234", "1", "procedure code missing", 2)
            line["procedure_code"] = procedure[1] if len(procedure) > 1 else ""
            line["modifiers"] = [m for m in procedure[2:6] if m]
            if len(procedure) > 6 and procedure[6]:
                line["description"] = procedure[6]
        charge = segment[2]
        if not _NUMBER.match(charge):
            self._bad_element(segment, "2400", 2, "782", "6", "line charge is not a number")
        line["charge"] = charge
        units = segment[4]
        if not _NUMBER.match(units):
            self._bad_element(segment, "2400", 4, "380", "6", "units are not a number")
        line["units"] = units
        if segment[5]:
            line["place_of_service"] = segment[5]
        pointers = self._composite(segment, "2400", 7, "1328")
        if pointers is not None:
            if all(p.isdigit() for p in pointers if p):
                line["diagnosis_pointers"] = [int(p) for p in pointers if p]
            else:
                self._bad_element(segment, "2400", 7, "1328", "6", "pointer is not a number")

    def _dtp472(self, line: dict[str, Any], segment: list[str]) -> None:
        form, value = segment[2], segment[3]
        if form == "D8":
            day = _date(value)
            if day is None:
                self._bad_element(segment, "2400", 3, "1251", "8", "not a D8 date (CCYYMMDD)")
            line["service_date"] = day
        elif form == "RD8":
            first, _, last = value.partition("-")
            start, end = _date(first), _date(last)
            if start is None or end is None:
                self._bad_element(segment, "2400", 3, "1251", "8", "not an RD8 range")
            line["service_date"] = start
            line["service_date_end"] = end
        else:
            self._bad_element(segment, "2400", 2, "1250", "7", f"date format {form!r}")

    def _finish_claim(self) -> ReadClaim | None:
        claim = self._claim
        if claim is None:
            return None
        self._claim = None
        self._loop = "2300-done"
        self.claims += 1
        doc = claim.doc
        assert self._set is not None and self._isa is not None and self._group is not None
        provider, subscriber = self._provider, self._subscriber
        patient = self._patient if self._patient is not None else subscriber
        if not provider.get("npi"):
            self._missing(claim, "NM1", "2010AA", "billing provider (NM1*85) missing")
        if not subscriber.get("member_id"):
            self._missing(claim, "NM1", "2010BA", "subscriber (NM1*IL) missing")
        if not subscriber.get("payer_id"):
            self._missing(claim, "NM1", "2010BB", "payer (NM1*PR) missing")
        if "birth_date" not in patient:
            where = "2010CA" if self._patient is not None else "2010BA"
            self._missing(claim, "DMG", where, "patient birth date and sex (DMG) missing")
        if not doc.get("diagnoses") and not any(n.segment_id == "HI" for n in claim.notes):
            self._missing(claim, "HI", "2300", "no ICD-10-CM diagnosis (HI*ABK)")
        if not claim.lines:
            self._missing(claim, "LX", "2400", "the claim has no service line (LX/SV1)")
        for line in claim.lines:
            if not line.pop("_sv1", False):
                self._missing(claim, "SV1", "2400", f"line {line['line_number']} has no SV1")
            if "service_date" not in line:
                self._missing(
                    claim, "DTP", "2400", f"line {line['line_number']} has no DTP*472 date"
                )
        payer_id = subscriber.get("payer_id", "")
        plan = self.options.plan_types.get(payer_id) or PLAN_TYPES.get(
            subscriber.get("sbr09", ""), "commercial"
        )
        doc["received_at"] = self._received_at
        doc["payer"] = {
            "payer_id": payer_id,
            "plan_type": plan,
            "name": subscriber.get("payer_name") or None,
        }
        doc["billing_provider"] = dict(provider)
        doc["patient"] = {
            "member_id": subscriber.get("member_id", ""),
            "birth_date": patient.get("birth_date"),
            "sex": patient.get("sex", ""),
        }
        doc["lines"] = claim.lines
        doc.setdefault("diagnoses", [])
        # Keep the keys in the claim event's order, x12 last.
        ordered = {key: doc[key] for key in _ORDER if key in doc}
        ordered["x12"] = doc["x12"]
        error = None
        if claim.notes:
            first = claim.notes[0]
            more = len(claim.notes) - 1
            error = (
                f"{first.segment_id} at segment {first.position} of transaction set "
                f"{self._set.st02}"
                + (f" (loop {first.loop})" if first.loop else "")
                + f": {first.reason}"
                + (f"; and {more} more" if more else "")
            )
            self._set.claims_rejected += 1
        patient_name = self._patient_name if self._patient is not None else self._subscriber_name
        return ReadClaim(
            ordered,
            error,
            claim.file_segment,
            claim.segments,
            self._delimiters,
            patient_name,
            self._provider_name,
            self._isa,
            self._group,
            self._set,
            claim.notes,
        )

    def _missing(self, claim: _Claim, segment_id: str, loop: str, reason: str) -> None:
        note = SegmentNote(segment_id, claim.position, loop, "3", reason)
        assert self._set is not None
        self._set.note(note)
        claim.notes.append(note)


_ORDER = (
    "claim_id",
    "frequency_code",
    "original_claim_id",
    "received_at",
    "payer",
    "billing_provider",
    "rendering_provider",
    "referring_provider",
    "patient",
    "place_of_service",
    "diagnoses",
    "prior_authorization",
    "lines",
)


def _name(segment: list[str]) -> str:
    last, first = _el(segment, 3), _el(segment, 4)
    return f"{last} {first}".strip() if _el(segment, 2) == "1" else last

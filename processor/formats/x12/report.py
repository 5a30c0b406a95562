"""What the envelope and segment checks found, per interchange, group and transaction set:
the material of the TA1 and the 999. Small: a set keeps at most MAX_NOTES segment notes."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_NOTES = 100  # the IK3 loop of a 999 allows more, but a submitter needs the first ones


@dataclass(slots=True)
class ElementNote:
    """IK4: element position (and component), data element number, IK403 code, bad value."""

    position: int
    component: int | None
    reference: str
    code: str
    value: str = ""


@dataclass(slots=True)
class SegmentNote:
    """IK3: segment id, position in the set (ST = 1), loop, IK304 code; and why, in words."""

    segment_id: str
    position: int
    loop: str
    code: str
    reason: str
    element: ElementNote | None = None


@dataclass(slots=True)
class SetReport:
    st01: str
    st02: str
    st03: str
    notes: list[SegmentNote] = field(default_factory=list)
    set_codes: list[str] = field(default_factory=list)  # IK502..: set-level syntax errors
    reasons: list[str] = field(default_factory=list)  # set-level errors, in words
    claims: int = 0
    claims_rejected: int = 0
    dropped_notes: int = 0
    # 1000A submitter and 1000B receiver: the 277CA's information receiver and source
    submitter_name: str = ""
    submitter_id: str = ""
    receiver_name: str = ""
    receiver_id: str = ""
    bht03: str = ""

    def note(self, note: SegmentNote) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(note)
        else:
            self.dropped_notes += 1

    @property
    def status(self) -> str:
        """IK501: R when the set cannot be taken, E when segments had errors, else A."""
        if self.set_codes:
            return "R"
        return "E" if self.notes or self.dropped_notes else "A"


@dataclass(slots=True)
class GroupReport:
    gs01: str
    gs06: str
    gs08: str
    sets: list[SetReport] = field(default_factory=list)
    group_codes: list[str] = field(default_factory=list)  # AK905..
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """AK901."""
        statuses = [s.status for s in self.sets]
        accepted = sum(1 for s in statuses if s != "R")
        if self.group_codes or accepted == 0:
            return "R"
        if accepted < len(statuses):
            return "P"
        return "E" if "E" in statuses else "A"


@dataclass(slots=True)
class InterchangeReport:
    isa: list[str]  # ISA elements as read (ISA01..ISA16 at 1..16)
    ta1_code: str = "000"  # TA105; 000 = no error
    reasons: list[str] = field(default_factory=list)
    groups: list[GroupReport] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.ta1_code == "000"

    def reject(self, code: str, reason: str) -> None:
        if self.ta1_code == "000":
            self.ta1_code = code
        self.reasons.append(reason)

    def element(self, index: int) -> str:
        return self.isa[index] if len(self.isa) > index else ""

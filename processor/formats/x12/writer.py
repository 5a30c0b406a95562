"""Claim events as an 837P (005010X222A1) interchange: the inverse of the reader's mapping.

Used to build test and benchmark files and round-trip checks (claim -> 837P -> claim). A new
transaction set starts whenever `received_at` changes (BHT04/05 carries it) or a set holds
`claims_per_set` claims. What the claim event does not carry (names, addresses) is written
as neutral placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

from processor.formats.x12.reader import PROFESSIONAL
from processor.formats.x12.segments import DEFAULT_DELIMITERS, SegmentWriter, isa, money
from processor.formats.x12.tokens import Delimiters
from processor.models import Claim

SBR09 = {
    "medicare": "MB",
    "medicaid": "MC",
    "medicare_advantage": "16",
    "commercial": "CI",
    "other": "ZZ",
}


def _date(value: object) -> str:
    return str(value).replace("-", "")


def write_837p(
    claims: Iterable[Claim],
    out: TextIO,
    *,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    control: int = 1,
    claims_per_set: int = 5000,
    newline: bool = True,
    when: datetime | None = None,
) -> int:
    """Write one interchange with one group; returns the number of claims written."""
    when = when or datetime.now(UTC)
    head = SegmentWriter(delimiters, newline, strict=True)
    isa(head, sender=("ZZ", "SUBMITTER"), receiver=("ZZ", "CLAIMSPROCESSOR"), control=control,
        when=when, usage="T")  # fmt: skip
    head.segment("GS", "HC", "SUBMITTER", "CLAIMSPROCESSOR", when.strftime("%Y%m%d"),
                 when.strftime("%H%M"), "1", "X", PROFESSIONAL)  # fmt: skip
    out.write(head.text())
    sets = 0
    written = 0
    for batch in _batches(claims, claims_per_set):
        sets += 1
        out.write(_transaction(batch, f"{sets:04d}", delimiters, newline, when))
        written += len(batch)
    tail = SegmentWriter(delimiters, newline, strict=True)
    tail.segment("GE", str(sets), "1")
    tail.segment("IEA", "1", f"{control:09d}")
    out.write(tail.text())
    return written


def _batches(claims: Iterable[Claim], size: int) -> Iterator[list[Claim]]:
    batch: list[Claim] = []
    for claim in claims:
        if batch and (len(batch) >= size or claim.received_at != batch[0].received_at):
            yield batch
            batch = []
        batch.append(claim)
    if batch:
        yield batch


def _transaction(
    claims: list[Claim], control: str, delimiters: Delimiters, newline: bool, when: datetime
) -> str:
    w = SegmentWriter(delimiters, newline, strict=True)
    created = claims[0].received_at or when
    created = created.astimezone(UTC) if created.tzinfo else created
    w.segment("ST", "837", control, PROFESSIONAL)
    w.segment("BHT", "0019", "00", control, created.strftime("%Y%m%d"),
              created.strftime("%H%M%S"), "CH")  # fmt: skip
    w.segment("NM1", "41", "2", "SUBMITTER", "", "", "", "", "46", "SUBMITTER")
    w.segment("PER", "IC", "CONTACT", "TE", "5555550100")
    w.segment("NM1", "40", "2", "CLAIMS PROCESSOR", "", "", "", "", "46", "CLAIMSPROCESSOR")
    hl = 0
    for claim in claims:
        hl += 1
        provider = hl
        bp = claim.billing_provider
        w.segment("HL", str(hl), "", "20", "1")
        if bp.taxonomy:
            w.segment("PRV", "BI", "PXC", bp.taxonomy)
        w.segment("NM1", "85", "2", bp.name or "BILLING PROVIDER", "", "", "", "", "XX", bp.npi)
        w.segment("N3", "1 MAIN ST")
        w.segment("N4", "ANYTOWN", "MD", "207050000")
        if bp.tax_id:
            w.segment("REF", "EI", bp.tax_id)
        hl += 1
        w.segment("HL", str(hl), str(provider), "22", "0")
        w.segment("SBR", "P", "18", "", "", "", "", "", "", SBR09[claim.payer.plan_type])
        w.segment("NM1", "IL", "1", "MEMBER", "", "", "", "", "MI", claim.patient.member_id)
        w.segment("DMG", "D8", _date(claim.patient.birth_date), claim.patient.sex)
        w.segment("NM1", "PR", "2", claim.payer.name or "PAYER", "", "", "", "", "PI",
                  claim.payer.payer_id)  # fmt: skip
        _claim(w, claim)
    w.segment("SE", str(w.count + 1), control)
    return w.text()


def _claim(w: SegmentWriter, claim: Claim) -> None:
    total = sum((line.charge for line in claim.lines), start=claim.lines[0].charge * 0)
    w.segment(
        "CLM", claim.claim_id, money(total), "", "",
        w.composite(claim.place_of_service, "B", claim.frequency_code),
        "Y", "A", "Y", "Y", composite=(5,),
    )  # fmt: skip
    if claim.original_claim_id:
        w.segment("REF", "F8", claim.original_claim_id)
    if claim.prior_authorization:
        w.segment("REF", "G1", claim.prior_authorization)
    codes = [
        w.composite("ABK" if i == 0 else "ABF", code.replace(".", ""))
        for i, code in enumerate(claim.diagnoses)
    ]
    w.segment("HI", *codes, composite=range(1, len(codes) + 1))
    if claim.referring_provider:
        w.segment("NM1", "DN", "1", "REFERRING", "", "", "", "", "XX",
                  claim.referring_provider.npi)  # fmt: skip
    if claim.rendering_provider:
        w.segment("NM1", "82", "1", "RENDERING", "", "", "", "", "XX",
                  claim.rendering_provider.npi)  # fmt: skip
        if claim.rendering_provider.taxonomy:
            w.segment("PRV", "PE", "PXC", claim.rendering_provider.taxonomy)
    for line in claim.lines:
        w.segment("LX", str(line.line_number))
        modifiers = [*line.modifiers, "", "", "", ""][:4]
        procedure = w.composite("HC", line.procedure_code, *modifiers, line.description or "")
        pointers = w.composite(*(str(p) for p in line.diagnosis_pointers))
        w.segment("SV1", procedure, money(line.charge), "UN", money(line.units),
                  line.place_of_service or "", "", pointers, composite=(1, 7))  # fmt: skip
        if line.service_date_end is not None:
            w.segment("DTP", "472", "RD8",
                      f"{_date(line.service_date)}-{_date(line.service_date_end)}")  # fmt: skip
        else:
            w.segment("DTP", "472", "D8", _date(line.service_date))
        if line.drug is not None:
            w.segment("LIN", "", "N4", line.drug.ndc)
            w.segment("CTP", "", "", "", money(line.drug.quantity), line.drug.unit)
        if line.rendering_provider is not None:
            w.segment("NM1", "82", "1", "RENDERING", "", "", "", "", "XX",
                      line.rendering_provider.npi)  # fmt: skip
            if line.rendering_provider.taxonomy:
                w.segment("PRV", "PE", "PXC", line.rendering_provider.taxonomy)

"""Claim history per patient, for the stateful edits (duplicates, replacements and voids,
NCCI pairs and MUE day totals across claims).

The history of one patient (payer_id + member_id) is a JSON-able dict kept by a
`HistoryStore`: in memory across a file for `scrub`, in a faust table partitioned like
claims.enriched in the worker, so that whichever worker takes over a partition after a
crash or rebalance sees the same history. Retention is bounded by date of service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Protocol

from processor.models import Claim, ServiceLine


# Records are never changed once made (`replace` makes a new one); they are not frozen
# because a frozen dataclass pays for every field it sets, and a claim makes one per line.
@dataclass(slots=True)
class LineRecord:
    service_date: date
    code: str
    modifiers: tuple[str, ...]
    units: str
    rendering_npi: str


@dataclass(slots=True)
class ClaimRecord:
    claim_id: str
    frequency: str
    source: str  # where it was read ("topic/partition/offset", or "file:line")
    lines: tuple[LineRecord, ...]
    status: str = "active"  # "replaced" or "voided": the id stays known, its lines stop counting
    last_service_date: date | None = None  # kept for retention once the lines are gone


class HistoryStore(Protocol):
    """Where the scrubber keeps each patient's claims (`records`, `put_records`)."""

    def records(self, key: str) -> dict[str, ClaimRecord]: ...
    def put_records(self, key: str, claims: dict[str, ClaimRecord]) -> None: ...


class DocumentHistory:
    """A store that holds each patient's history as its JSON-able document (`get`, `put`:
    the worker's table, whose changelog carries the document), decoded and encoded at the
    edge."""

    def get(self, key: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def put(self, key: str, value: dict[str, Any]) -> None:
        raise NotImplementedError

    def records(self, key: str) -> dict[str, ClaimRecord]:
        return decode(self.get(key))

    def put_records(self, key: str, claims: dict[str, ClaimRecord]) -> None:
        self.put(key, encode(claims))


class InMemoryHistory:
    """The `scrub` command's store: one file is one stream. It keeps the decoded records
    and encodes only when asked for the document (`get`)."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, ClaimRecord]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._records.get(key)
        return encode(found) if found is not None else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._records[key] = decode(value)

    def records(self, key: str) -> dict[str, ClaimRecord]:
        """The patient's claims (not to be changed: `updated` makes a new dict)."""
        return self._records.get(key) or {}

    def put_records(self, key: str, claims: dict[str, ClaimRecord]) -> None:
        self._records[key] = claims


def decode(document: dict[str, Any] | None) -> dict[str, ClaimRecord]:
    if not document:
        return {}
    claims = {}
    for claim_id, item in document.get("claims", {}).items():
        last = item.get("last_service_date")
        claims[claim_id] = ClaimRecord(
            claim_id,
            item["frequency"],
            item["source"],
            tuple(
                LineRecord(date.fromisoformat(x[0]), x[1], tuple(x[2]), x[3], x[4])
                for x in item["lines"]
            ),
            item.get("status", "active"),
            date.fromisoformat(last) if last else None,
        )
    return claims


def encode(claims: dict[str, ClaimRecord]) -> dict[str, Any]:
    return {
        "claims": {
            c.claim_id: {
                "frequency": c.frequency,
                "source": c.source,
                "status": c.status,
                "last_service_date": c.last_service_date.isoformat()
                if c.last_service_date
                else None,
                "lines": [
                    [
                        x.service_date.isoformat(),
                        x.code,
                        list(x.modifiers),
                        x.units,
                        x.rendering_npi,
                    ]
                    for x in c.lines
                ],
            }
            for c in claims.values()
        }
    }


@dataclass(frozen=True)
class PatientHistory:
    """The patient's earlier claims, as an edit sees them: without the claim being judged
    (a redelivery of it) and without the claim a replacement or void refers to."""

    claims: dict[str, ClaimRecord]

    def lines(self, exclude: set[str] | None = None) -> Iterator[tuple[ClaimRecord, LineRecord]]:
        for record in self.claims.values():
            if record.status != "active" or (exclude and record.claim_id in exclude):
                continue
            for line in record.lines:
                yield record, line


EMPTY = PatientHistory({})


def updated(
    claims: dict[str, ClaimRecord], record: ClaimRecord, original: str | None, retention_days: int
) -> dict[str, ClaimRecord]:
    """The history after this claim: an original is added (an earlier original of the same
    id stays: the new one was a duplicate); a replacement (7) takes the place of the claim it
    names and a void (8) withdraws it (the named claim's id stays known, its lines stop
    counting). Claims whose last date of service is older than the retention before the
    newest are dropped, and so are older lines."""
    last = max((x.service_date for x in record.lines), default=None)
    if record.last_service_date != last:
        record = replace(record, last_service_date=last)
    return _updated(claims, record, original, retention_days)


def _updated(
    claims: dict[str, ClaimRecord], record: ClaimRecord, original: str | None, retention_days: int
) -> dict[str, ClaimRecord]:
    """`updated` for a record whose last date of service is its lines' latest."""
    if not claims and record.frequency != "8":
        # The patient's first claim (the usual case): the record alone, unless retention
        # drops some of its lines (as below: the horizon is before its own last date).
        last = record.last_service_date
        if last is None:
            return {record.claim_id: record}
        horizon = last - _retention(retention_days, last)
        for x in record.lines:
            if x.service_date < horizon:
                break
        else:
            return {record.claim_id: record}
    result = dict(claims)
    if record.frequency in ("7", "8") and original and original in result:
        status = "replaced" if record.frequency == "7" else "voided"
        result[original] = replace(result[original], lines=(), status=status)
    if record.frequency != "8":
        existing = result.get(record.claim_id)
        if existing is None or existing.source == record.source or record.frequency == "7":
            result[record.claim_id] = record
    newest = None
    for item in result.values():
        day = item.last_service_date
        if day is not None and (newest is None or day > newest):
            newest = day
    if newest is None:
        return result
    horizon = newest - _retention(retention_days, newest)
    if _all_within(result, horizon):
        return result  # nothing to drop (the usual case)
    kept = {}
    for claim_id, item in result.items():
        if item.last_service_date is not None and item.last_service_date < horizon:
            continue
        if any(x.service_date < horizon for x in item.lines):
            item = replace(item, lines=tuple(x for x in item.lines if x.service_date >= horizon))
        kept[claim_id] = item
    return kept


def _retention(retention_days: int, newest: date) -> timedelta:
    """How far back from the newest date of service history is kept (never before
    `date.min`)."""
    return min(timedelta(days=retention_days), newest - date.min)


def _all_within(claims: dict[str, ClaimRecord], horizon: date) -> bool:
    """Whether retention keeps every claim and every line of them as they are."""
    for item in claims.values():
        last = item.last_service_date
        if last is not None and last < horizon:
            return False
        for line in item.lines:
            if line.service_date < horizon:
                return False
    return True


def earlier_claims(
    store: HistoryStore | None, claim: Claim, where: str
) -> tuple[dict[str, ClaimRecord], PatientHistory]:
    """The patient's stored claims, and what the edits may see of them: a redelivery of this
    claim (same id, read from the same source position) is left out, so that it is judged as
    its first delivery was and keeps its findings and event_id."""
    prior = store.records(claim.patient_key) if store is not None else {}
    if not prior:
        return prior, EMPTY  # the patient's first claim (the usual case)
    visible = {
        cid: rec
        for cid, rec in prior.items()
        if not (cid == claim.claim_id and rec.source == where)
    }
    return prior, PatientHistory(visible)


def record_claim(
    store: HistoryStore,
    claim: Claim,
    prior: dict[str, ClaimRecord],
    where: str,
    rendering_npi: Callable[[Any], str],
    retention_days: int,
) -> None:
    """Store the patient's history with this claim added after the ones it was judged by."""
    values = claim.__dict__  # the fields, without pydantic's attribute hook on each
    lines: list[ServiceLine] = values["lines"]
    records = []
    for line in lines:
        v = line.__dict__
        records.append(
            LineRecord(
                v["service_date"],
                v["procedure_code"],
                tuple(v["modifiers"]),
                str(v["units"].normalize()),
                rendering_npi(line),
            )
        )
    last = max([x.service_date for x in records]) if records else None
    record = ClaimRecord(
        values["claim_id"], values["frequency_code"], where, tuple(records), "active", last
    )
    store.put_records(
        claim.patient_key, _updated(prior, record, values["original_claim_id"], retention_days)
    )


def idle(document: dict[str, Any] | None, today: date, retention_days: int) -> bool:
    """True when a patient's history holds nothing within the retention before `today`: the
    newest last date of service of its claims is older than that (a patient who sent no
    claim for longer than the retention). A history with no dated claim is kept. Reads the
    stored ISO dates as they are (they order as text): the sweep runs over every patient."""
    claims = (document or {}).get("claims") or {}
    newest = max((c.get("last_service_date") or "" for c in claims.values()), default="")
    return bool(newest) and newest < (today - timedelta(days=retention_days)).isoformat()

"""The core: read → enrich → edits → route. Knows nothing of Kafka.

The offline `scrub` command calls `Scrubber.scrub` per line, and so does the streaming
worker's edit hop on the original bytes (its intake hop only finds `patient_key` and
re-keys). Both run the same code, so they cannot disagree.

One message never stops the stream. `Scrubber.scrub` never raises: whatever fails for one
message — reading, enrichment, an edit, the history, routing, building the result —
becomes a `DeadLetter` with error kind `processing`, the stage named in its error
("enrich: KeyError: ...") and the original bytes. `Scrubber.scrub_to_bytes` goes one step
further and also serialises: it returns the outcome with bytes that are known to be
written (the serialising stage is `serialise`), so a caller sends bytes and never meets
an exception of its own. `output_bytes` is that serialising step for any output.

Values that the consumers' JSON tools could not read back, case by case:
- a number in a pass-through field that is not finite — the `NaN` / `Infinity` literals
  (not JSON by RFC 8259, though the parser accepts them) or a float beyond the double range
  such as `1e400` — cannot be carried without changing it (orjson and pydantic would write
  `null`): the message is dead-lettered at read, error kind `schema`, naming the field;
- an integer beyond 64 bits in a pass-through field is carried exactly, as the same JSON
  integer literal (orjson refuses it, so such an output is written by pydantic's
  serializer, the reference document of `to_json`); tools limited to doubles read it as
  they read the input;
- charges, units and quantities are decimals, written as strings ("1E+308"), whatever
  their size; an at-risk amount with more digits than the cents can hold (a charge of
  `1e308`, itself rejected by the CHARGE edit) is written as summed, also as a string;
- tiny floats (`1e-400`) in pass-through fields underflow to 0.0, as in any double-based
  JSON tool;
- lone surrogates (`"\\ud800"`) and bytes that are not UTF-8 are dead-lettered at read
  (`json` / `encoding`); dead letters themselves are built only from text that encodes.
"""

from __future__ import annotations

import base64
import gc
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
from pydantic import BaseModel, ValidationError

from processor.codesets import CodeSets, load_codesets
from processor.edits.base import ClaimContext
from processor.edits.engine import EditFailed, StageTimer, run_edits
from processor.enrichment import enrich_claim, enrich_claim_in_place, service_dates
from processor.formats import FhirError, read_claim_bytes
from processor.history import HistoryStore, earlier_claims, record_claim
from processor.models import Claim, DeadLetter, EnrichedClaim, ScrubResult, SourcePosition
from processor.models.claim import CLAIM_NESTED, LINE_NESTED
from processor.models.construct import construct
from processor.models.outputs import ErrorKind
from processor.profiles import Ruleset, load_ruleset
from processor.routing import content_digest, event_id_of_text, route_claim, versions_text
from processor.settings import Settings

log = logging.getLogger("processor")
Clock = Callable[[], datetime]
_MAX_ERRORS_IN_MESSAGE = 5
_MAX_VERSIONS = 20_000  # dates of service kept with their releases (the cache starts over)


def utcnow() -> datetime:
    return datetime.now(UTC)


def describe_validation_error(exc: ValidationError) -> tuple[ErrorKind, str]:
    """(error_kind, message) for a claim that could not be read. Messages name the field
    and the rule, never the value (values may be PHI)."""
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return "json", f"not valid JSON: {errors[0]['msg']}"
    parts = []
    for error in errors[:_MAX_ERRORS_IN_MESSAGE]:
        where = ".".join(str(p) for p in error["loc"]) or "(message)"
        parts.append(f"{where}: {error['msg']}")
    if len(errors) > _MAX_ERRORS_IN_MESSAGE:
        parts.append(f"... and {len(errors) - _MAX_ERRORS_IN_MESSAGE} more")
    return "schema", "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Source:
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None

    def position(self) -> SourcePosition:
        return construct(
            SourcePosition,
            {"topic": self.topic, "partition": self.partition, "offset": self.offset},
        )


class Scrubber:
    def __init__(
        self,
        codesets: CodeSets,
        ruleset: Ruleset,
        *,
        clock: Clock = utcnow,
        stage_timer: StageTimer | None = None,
        history_retention_days: int = 400,
        payer_plan_types: Mapping[str, str] | None = None,
    ) -> None:
        self.codesets = codesets
        self.payer_plan_types = payer_plan_types or {}
        self.ruleset = ruleset
        self.clock = clock
        self.stage_timer = stage_timer
        self.history_retention_days = history_retention_days
        self._versions_of: dict[tuple[date, ...], tuple[CodeSets, dict[str, str], str]] = {}

    # -- the hops ---------------------------------------------------------------------------
    def read(self, raw: bytes | None, *, key: str | None, source: Source) -> Claim | DeadLetter:
        if raw is None or raw == b"":
            return self.dead_letter(
                raw, key=key, source=source, kind="json", error="empty message (no value)"
            )
        try:
            # A JSON claim event, or a FHIR R4 Claim recognised by its resourceType.
            claim = read_claim_bytes(raw, plan_types=self.payer_plan_types)
        except FhirError as exc:
            return self.dead_letter(raw, key=key, source=source, kind="schema", error=str(exc))
        except ValidationError as exc:
            kind, message = describe_validation_error(exc)
            if kind == "json" and not _is_utf8(raw):
                kind, message = "encoding", "the message is not UTF-8 text"
            return self.dead_letter(raw, key=key, source=source, kind=kind, error=message)
        where = non_finite_field(claim)
        if where is not None:
            return self.dead_letter(
                raw,
                key=key,
                source=source,
                kind="schema",
                error=f"{where}: a number that is not finite (NaN, Infinity or beyond the "
                "double range) cannot be carried in an output",
            )
        return claim

    def enrich(self, claim: Claim, *, own: bool = False) -> EnrichedClaim:
        """The claim with each line's enrichment. With `own` (a claim nobody else holds, as
        the one `scrub` has just read) the claim itself becomes the enriched claim rather
        than being copied, and must not be used as a `Claim` afterwards."""
        if own:
            return enrich_claim_in_place(claim, self.codesets)
        return enrich_claim(claim, self.codesets)

    def patient_key(
        self, raw: bytes | None, *, key: str | None, source: Source
    ) -> str | DeadLetter:
        """The intake hop's work: the patient key (payer_id|member_id) the claim is re-keyed
        by, read without validating the claim (the edit hop validates it once). A message
        whose key is not where a claim event has it is read in full, so that another input
        format is keyed as its claim would be, or the message is dead-lettered with the
        reason it cannot be read."""
        if raw:
            values = written_values(raw)
            if values is not None and values[0] and values[1]:
                try:
                    return f"{values[0].decode()}|{values[1].decode()}"
                except UnicodeDecodeError:
                    pass
            try:
                document = orjson.loads(raw)
                payer_id = document["payer"]["payer_id"]
                member_id = document["patient"]["member_id"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                pass
            else:
                if type(payer_id) is str and type(member_id) is str and payer_id and member_id:
                    return f"{payer_id}|{member_id}"
        claim = self.read(raw, key=key, source=source)
        return claim if isinstance(claim, DeadLetter) else claim.patient_key

    def evaluate(
        self,
        claim: EnrichedClaim,
        *,
        digest: str,
        source: SourcePosition | None = None,
        history: HistoryStore | None = None,
    ) -> ScrubResult:
        """The edit agent's work: every stage in order, then routing. Raises EditFailed.

        With a history store, the patient's earlier claims are visible to the stateful edits
        and this claim is recorded after them. A redelivery of a claim (same id, read from
        the same source position) is judged against the history without itself, so it gets
        the same findings and event_id as the first delivery."""
        stage = "history"
        try:
            now = self.clock()
            profile = self.ruleset.for_plan_type(claim.payer.plan_type)
            where = _source_text(source)
            prior, visible = earlier_claims(history, claim, where)
            context = ClaimContext(
                claim=claim, codesets=self.codesets, processed_at=now, history=visible
            )
            stage = "edits"
            findings = run_edits(context, profile.stages, self.stage_timer)
            stage = "route"
            route, risk_level, amount = route_claim(claim, findings)
            versions, versions_text = self._versions(service_dates(claim))
            stage = "history"
            if history is not None:
                record_claim(
                    history,
                    claim,
                    prior,
                    where,
                    context.rendering_npi,
                    self.history_retention_days,
                )
        except EditFailed:
            raise
        except Exception as exc:
            raise StageFailed(stage, exc) from exc
        return construct(
            ScrubResult,
            {
                "event_id": event_id_of_text(digest, versions_text, self.ruleset.version),
                "event_type": "claim.denial_risk" if route == "risk" else "claim.clean",
                "schema_version": "1",
                "claim_id": claim.claim_id,
                "route": route,
                "risk_level": risk_level,
                "at_risk_amount": amount,
                "findings": findings,
                "codeset_versions": versions,
                "ruleset_version": self.ruleset.version,
                "received_at": claim.received_at,
                "processed_at": now,
                "claim": claim,
            },
        )

    def _versions(self, dates: list[date]) -> tuple[dict[str, str], str]:
        """The releases in force on the dates (the result's own copy) and their text for the
        event id, kept per dates of service and code sets (which a new release replaces)."""
        key = tuple(dates)
        found = self._versions_of.get(key)
        if found is None or found[0] is not self.codesets:
            versions = self.codesets.versions_for(key)
            if len(self._versions_of) >= _MAX_VERSIONS:
                self._versions_of.clear()
            found = self._versions_of[key] = (self.codesets, versions, versions_text(versions))
        return dict(found[1]), found[2]

    # -- offline ----------------------------------------------------------------------------
    def scrub(
        self,
        raw: bytes | None,
        *,
        key: str | None = None,
        source: Source | None = None,
        history: HistoryStore | None = None,
    ) -> ScrubResult | DeadLetter:
        """All hops for one message, as `claims-processor scrub` runs them. Never raises:
        what fails for this message is its dead letter (module docstring)."""
        source = source or Source()
        stage = "read"
        try:
            claim = self.read(raw, key=key, source=source)
            if isinstance(claim, DeadLetter):
                return claim
            assert raw is not None
            stage = "enrich"
            enriched = self.enrich(claim, own=True)  # read here, held by nobody else
            return self.evaluate(
                enriched, digest=content_digest(raw), source=source.position(), history=history
            )
        except Exception as exc:  # one message never stops the stream
            if isinstance(exc, EditFailed | StageFailed):
                error = str(exc)
            else:
                error = f"{stage}: {type(exc).__name__}: {exc}"
            return self.dead_letter(raw, key=key, source=source, kind="processing", error=error)

    def scrub_to_bytes(
        self,
        raw: bytes | None,
        *,
        key: str | None = None,
        source: Source | None = None,
        history: HistoryStore | None = None,
    ) -> tuple[ScrubResult | DeadLetter, bytes]:
        """`scrub`, then the outcome serialised: bytes known to be written, readable by
        standard JSON tools. An outcome that cannot be serialised becomes its dead letter
        (stage `serialise`). Never raises."""
        source = source or Source()
        outcome = self.scrub(raw, key=key, source=source, history=history)
        try:
            return outcome, output_bytes(outcome)
        except Exception as exc:
            letter = self.dead_letter(
                raw,
                key=key,
                source=source,
                kind="processing",
                error=f"serialise: {type(exc).__name__}: {exc}",
            )
            return letter, letter.to_json()

    def dead_letter(
        self, raw: bytes | None, *, key: str | None, source: Source, kind: ErrorKind, error: str
    ) -> DeadLetter:
        source = Source(
            _text(source.topic), source.partition, source.offset
        )  # a file name need not be UTF-8
        return DeadLetter(
            received_key=_text(key),
            error=_text(error),
            error_kind=kind,
            original=base64.b64encode(raw or b"").decode("ascii"),
            source=source.position(),
            processed_at=self.clock(),
        )


class StageFailed(RuntimeError):
    """A stage of the core failed on one claim for a reason other than an edit's check (the
    message names the stage): the claim is dead-lettered."""

    def __init__(self, stage: str, exc: BaseException) -> None:
        super().__init__(f"{stage}: {type(exc).__name__}: {exc}")
        self.stage = stage


def output_bytes(output: BaseModel) -> bytes:
    """An output (result, envelope or dead letter) as JSON bytes. Its own `to_json` (the
    fast path, orjson) first; what orjson refuses (an integer beyond 64 bits in a
    pass-through field) is written by pydantic's serializer, whose document is the same and
    which writes such an integer exactly. Raises when neither can write it (e.g. text that
    does not encode as UTF-8)."""
    try:
        return output.to_json()  # type: ignore[attr-defined]
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return output.__pydantic_serializer__.to_json(output)


def non_finite_field(claim: Claim) -> str | None:
    """The first pass-through field of the claim that holds a non-finite float (a `NaN` or
    `Infinity` literal, or a number beyond the double range), as a dotted path; None when
    there is none. The typed numbers (charge, units, quantity) are decimals that pydantic
    keeps finite already. Cheap when, as usual, the claim has no extra fields: one test of
    each model's extras, its fields read from its `__dict__`."""
    values = claim.__dict__
    if claim.__pydantic_extra__ or any(
        values[name] is not None and values[name].__pydantic_extra__ for name in CLAIM_NESTED
    ):
        return _non_finite_in_models(claim)
    for line in values["lines"]:
        v = line.__dict__
        if line.__pydantic_extra__ or any(
            v[name] is not None and v[name].__pydantic_extra__ for name in LINE_NESTED
        ):
            return _non_finite_in_models(claim)
    return None


def _non_finite_in_models(claim: Claim) -> str | None:
    """`non_finite_field` for a claim with extra fields somewhere."""
    for line, name, model in _models(claim):
        extra = model.__pydantic_extra__
        if extra:
            where = name if line is None else f"lines.{line}" + (f".{name}" if name else "")
            found = _non_finite_in(extra, where or "claim")
            if found is not None:
                return found
    return None


def _models(claim: Claim) -> Iterator[tuple[int | None, str, BaseModel]]:
    """Each model of the claim as (line index or None, attribute name or "" for the claim
    or line itself, model): the path is built only where it is needed."""
    yield None, "", claim
    for name in CLAIM_NESTED:
        model = getattr(claim, name)
        if model is not None:
            yield None, name, model
    for i, line in enumerate(claim.lines):
        yield i, "", line
        for name in LINE_NESTED:
            model = getattr(line, name)
            if model is not None:
                yield i, name, model


def _non_finite_in(value: object, where: str) -> str | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    if isinstance(value, dict):
        items: Iterator[tuple[object, object]] = iter(value.items())
    elif isinstance(value, list):
        items = iter(enumerate(value))
    else:
        return None
    for name, item in items:
        found = _non_finite_in(item, f"{where}.{name}")
        if found is not None:
            return found
    return None


def _text(value: str | None) -> str | None:
    """Text that encodes as UTF-8 (lone surrogates escaped), for what a dead letter says."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _source_text(source: SourcePosition | None) -> str:
    if source is None:
        return ""
    v = source.__dict__  # the fields, without pydantic's attribute hook on each
    return f"{v['topic']}/{v['partition']}/{v['offset']}"


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_scrubber(settings: Settings) -> Scrubber:
    started = time.perf_counter()
    codesets = load_codesets(settings.codesets_dir)
    loaded_in = time.perf_counter() - started
    # The code sets live as long as the process: half a million objects that the cyclic
    # collector would otherwise walk on every full collection.
    gc.freeze()
    ruleset = load_ruleset(settings.profiles_dir)
    releases = codesets.releases()
    log.info(
        "code sets: %d releases loaded in %.2fs from %s; rule set %s, profiles %s",
        len(releases),
        loaded_in,
        settings.codesets_dir or "the shipped sample",
        ruleset.version,
        ", ".join(sorted(ruleset.profiles)),
    )
    log.debug("releases: %s", ", ".join(f"{r.kind} {r.release_id}" for r in releases))
    return Scrubber(
        codesets,
        ruleset,
        history_retention_days=settings.history_retention_days,
        payer_plan_types=settings.payer_plan_types,
    )


_PAYER_ID, _MEMBER_ID = b'"payer_id"', b'"member_id"'


def written_values(raw: bytes) -> tuple[bytes, bytes] | None:
    """payer_id and member_id read off a message written as claim events are: no escape
    anywhere in it, each key name once, followed directly by a string. Then they are the
    UTF-8 of what parsing a claim event would read (a key name written once is the only one
    the document has; without escapes a string's bytes are its text), for about two thirds
    of the cost and no document built. None for any other message. A message that is no
    claim event (not JSON, no payer) may still give values: reading it whole then fails,
    and it is a dead letter either way."""
    if b"\\" in raw:
        return None
    values = []
    for name in (_PAYER_ID, _MEMBER_ID):
        at = raw.find(name)
        if at < 0 or raw.find(name, at + 1) >= 0:
            return None
        start = at + len(name)
        if raw[start : start + 2] != b':"':
            return None
        end = raw.find(b'"', start + 2)
        values.append(raw[start + 2 : end])
    return values[0], values[1]

"""The core: read → enrich → edits → route. Knows nothing of Kafka.

The offline `scrub` command calls `Scrubber.scrub` per line, and so does the streaming
worker's edit hop on the original bytes (its intake hop only finds `patient_key` and
re-keys). Both run the same code, so they cannot disagree.
"""

from __future__ import annotations

import base64
import gc
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from processor.codesets import CodeSets, load_codesets
from processor.edits.base import ClaimContext
from processor.edits.engine import EditFailed, StageTimer, run_edits
from processor.enrichment import enrich_claim, service_dates
from processor.formats import FhirError, read_claim_bytes
from processor.history import HistoryStore, earlier_claims, record_claim
from processor.models import Claim, DeadLetter, EnrichedClaim, ScrubResult, SourcePosition
from processor.models.construct import construct
from processor.models.outputs import ErrorKind
from processor.profiles import Ruleset, load_ruleset
from processor.routing import content_digest, event_id, route_claim
from processor.settings import Settings

log = logging.getLogger("processor")
Clock = Callable[[], datetime]
_MAX_ERRORS_IN_MESSAGE = 5


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

    # -- the hops ---------------------------------------------------------------------------
    def read(self, raw: bytes | None, *, key: str | None, source: Source) -> Claim | DeadLetter:
        if raw is None or raw == b"":
            return self.dead_letter(
                raw, key=key, source=source, kind="json", error="empty message (no value)"
            )
        try:
            # A JSON claim event, or a FHIR R4 Claim recognised by its resourceType.
            return read_claim_bytes(raw, plan_types=self.payer_plan_types)
        except FhirError as exc:
            return self.dead_letter(raw, key=key, source=source, kind="schema", error=str(exc))
        except ValidationError as exc:
            kind, message = describe_validation_error(exc)
            if kind == "json" and not _is_utf8(raw):
                kind, message = "encoding", "the message is not UTF-8 text"
            return self.dead_letter(raw, key=key, source=source, kind=kind, error=message)

    def enrich(self, claim: Claim) -> EnrichedClaim:
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
        now = self.clock()
        profile = self.ruleset.for_plan_type(claim.payer.plan_type)
        where = _source_text(source)
        prior, visible = earlier_claims(history, claim, where)
        context = ClaimContext(
            claim=claim, codesets=self.codesets, processed_at=now, history=visible
        )
        findings = run_edits(context, profile.stages, self.stage_timer)
        if history is not None:
            record_claim(
                history,
                claim,
                prior,
                where,
                context.rendering_npi,
                self.history_retention_days,
            )
        route, risk_level, amount = route_claim(claim, findings)
        versions = self.codesets.versions_for(service_dates(claim))
        return construct(
            ScrubResult,
            {
                "event_id": event_id(digest, versions, self.ruleset.version),
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

    # -- offline ----------------------------------------------------------------------------
    def scrub(
        self,
        raw: bytes | None,
        *,
        key: str | None = None,
        source: Source | None = None,
        history: HistoryStore | None = None,
    ) -> ScrubResult | DeadLetter:
        """Read, enrich, every edit stage, route: one message, as `claims-processor scrub`
        and the worker's edit hop run it (the intake hop only re-keys the original bytes).
        A claim that cannot be read, or a stage that fails on it, gives a DeadLetter with the
        original bytes."""
        source = source or Source()
        claim = self.read(raw, key=key, source=source)
        if isinstance(claim, DeadLetter):
            return claim
        assert raw is not None
        try:
            return self.evaluate(
                self.enrich(claim),
                digest=content_digest(raw),
                source=source.position(),
                history=history,
            )
        except EditFailed as exc:
            return self.dead_letter(raw, key=key, source=source, kind="processing", error=str(exc))

    def dead_letter(
        self, raw: bytes | None, *, key: str | None, source: Source, kind: ErrorKind, error: str
    ) -> DeadLetter:
        return DeadLetter(
            received_key=key,
            error=error,
            error_kind=kind,
            original=base64.b64encode(raw or b"").decode("ascii"),
            source=source.position(),
            processed_at=self.clock(),
        )


def _source_text(source: SourcePosition | None) -> str:
    if source is None:
        return ""
    return f"{source.topic}/{source.partition}/{source.offset}"


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

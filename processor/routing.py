"""Routing per outputs.md: route, risk level, amount at risk, deterministic event id."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from processor.models import Claim, Finding
from processor.models.outputs import RiskLevel, Route

_BLOCKING = frozenset({"reject", "deny"})
_RISK = frozenset({"reject", "deny", "review"})
# Namespace of claims-processor event ids (uuid5 over content, code sets and rule set).
EVENT_NAMESPACE = uuid.UUID("6c1b2f0e-5a43-4f5e-9d0b-4c6c9f7a2e11")


def route_claim(claim: Claim, findings: Sequence[Finding]) -> tuple[Route, RiskLevel, Decimal]:
    dispositions = {f.disposition for f in findings}
    if dispositions & _BLOCKING:
        risk_level: RiskLevel = "high"
    elif "review" in dispositions:
        risk_level = "medium"
    else:
        risk_level = "none"
    route: Route = "risk" if dispositions & _RISK else "clean"
    if risk_level != "high":
        return route, risk_level, _NOTHING_AT_RISK  # no reject or deny finding
    return route, risk_level, at_risk_amount(claim, findings)


_NOTHING_AT_RISK = Decimal("0.00")


def at_risk_amount(claim: Claim, findings: Sequence[Finding]) -> Decimal:
    """Charges on lines with a reject or deny finding; every line when a claim-level finding
    rejects or denies the claim. Negative charges (themselves a finding) count as zero."""
    blocking = [f for f in findings if f.disposition in _BLOCKING]
    if not blocking:
        return Decimal("0.00")
    if any(f.line_number is None for f in blocking):
        lines = claim.lines
    else:
        numbers = {f.line_number for f in blocking}
        lines = [line for line in claim.lines if line.line_number in numbers]
    total = sum((max(line.charge, Decimal(0)) for line in lines), Decimal(0))
    try:
        return total.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than decimal's 28 (a charge like 1e308): as summed
        return total


_VERSIONS_TEXT: dict[tuple[tuple[str, str], ...], str] = {}


def event_id(content_digest: str, codeset_versions: Mapping[str, str], ruleset_version: str) -> str:
    """Same claim content (the input message bytes), code-set releases and rule set: same id,
    so consumers can drop the duplicates at-least-once delivery brings."""
    return event_id_of_text(content_digest, versions_text(codeset_versions), ruleset_version)


def versions_text(codeset_versions: Mapping[str, str]) -> str:
    """The code-set releases as the event id names them (kept per set of releases)."""
    key = tuple(codeset_versions.items())
    versions = _VERSIONS_TEXT.get(key)
    if versions is None:
        versions = ",".join(f"{k}={v}" for k, v in sorted(codeset_versions.items()))
        if len(_VERSIONS_TEXT) >= 4096:
            _VERSIONS_TEXT.clear()
        _VERSIONS_TEXT[key] = versions
    return versions


def event_id_of_text(content_digest: str, versions: str, ruleset_version: str) -> str:
    """`event_id` with the releases given as their `versions_text`."""
    return uuid5_text(EVENT_NAMESPACE, f"{content_digest}|{versions}|{ruleset_version}")


_NAMESPACE_BYTES: dict[uuid.UUID, bytes] = {}
_VERSION_5 = 0x5 << 76
_VARIANT_RFC4122 = 0x2 << 62
_KEEP = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))` without building UUID objects (RFC 4122 §4.3:
    SHA-1 of namespace and name, version 5, RFC 4122 variant)."""
    prefix = _NAMESPACE_BYTES.get(namespace)
    if prefix is None:  # `UUID.bytes` builds the bytes on every read
        prefix = _NAMESPACE_BYTES[namespace] = namespace.bytes
    digest = hashlib.sha1(prefix + name.encode(), usedforsecurity=False).digest()
    value = (int.from_bytes(digest[:16]) & _KEEP) | _VERSION_5 | _VARIANT_RFC4122
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def content_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()

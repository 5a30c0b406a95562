"""What `claims-processor codesets list|show|diff` print."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from processor.codes import code_system
from processor.codesets.mce import DiagnosisFacts, diagnosis_facts
from processor.codesets.model import CodeSetRelease, ReleaseInfo
from processor.codesets.ptp import PtpTable
from processor.codesets.store import CodeSets


def list_releases(codesets: CodeSets) -> str:
    rows = [("kind", "release", "in force from", "to", "entries", "source")]
    releases = sorted(codesets.all_releases(), key=lambda r: (r.info.kind, r.info.effective_start))
    for release in releases:
        info = release.info
        end = (
            "(partial: not used)"
            if info.partial
            else (str(info.effective_end) if info.effective_end else "newest")
        )
        rows.append(
            (
                info.kind,
                info.release_id,
                str(info.effective_start),
                end,
                f"{len(release):,}",
                info.source,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5]
        for r in rows
    )


def show_code(codesets: CodeSets, code: str, on: date) -> dict[str, Any]:
    """What the code sets say about one code on one date (procedure or diagnosis)."""
    from processor.enrichment import enrich_line
    from processor.models import ServiceLine

    out: dict[str, Any] = {"code": code, "date": str(on)}
    if code_system(code) != "unknown":
        line = ServiceLine(line_number=1, procedure_code=code, units=1, charge=0, service_date=on)
        out["procedure"] = enrich_line(line, codesets, dme_supplier=False).model_dump(
            exclude_none=True
        )
        dme = codesets.mue(code, on, dme_supplier=True)
        if dme.value is not None:
            out["procedure"]["mue_dme_supplier"] = {"value": dme.value.value, "mai": dme.value.mai}
    diagnosis = codesets.diagnosis(code, on)
    if diagnosis.value is not None or code_system(code) == "unknown":
        out["diagnosis"] = (
            {
                "billable": diagnosis.value.billable,
                # a "code first" note in the tabular (a sequencing instruction); the edits
                # take manifestation status from the MCE below
                "code_first_note": diagnosis.value.manifestation,
                "description": diagnosis.value.description,
                "release": diagnosis.release.release_id,
            }
            if diagnosis.value is not None and diagnosis.release is not None
            else {
                "found": False,
                "release": diagnosis.release.release_id if diagnosis.release else None,
            }
        )
    facts = diagnosis_facts(codesets, code, on)
    if isinstance(facts, DiagnosisFacts):
        out["mce"] = facts.evidence()
    stale = sorted(
        codesets.stale_on(("hcpcs", "icd10cm", "mce", "ncci_ptp", "mue_practitioner", "pfs"), on)
    )
    if stale:
        out["stale"] = stale
    return out


@dataclass
class Diff:
    kind: str
    a: ReleaseInfo
    b: ReleaseInfo
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    changed: list[tuple[str, dict[str, tuple[Any, Any]]]] = field(default_factory=list)


_IGNORED = {"action_code"}  # the action code says what changed; it is not a change itself


def diff_releases(a: CodeSetRelease, b: CodeSetRelease) -> Diff:
    if a.info.kind != b.info.kind:
        raise ValueError(f"releases of different kinds: {a.info.kind} and {b.info.kind}")
    result = Diff(a.info.kind, a.info, b.info)
    if isinstance(a.entries, PtpTable):
        old = set(zip(a.entries.keys, a.entries.values, strict=True))
        new = set(zip(b.entries.keys, b.entries.values, strict=True))
        from processor.codesets.ptp import _unpack

        result.added = [
            f"{e.column1}/{e.column2}" for e in (_unpack(k, v) for k, v in sorted(new - old))
        ]
        result.removed = [
            f"{e.column1}/{e.column2}" for e in (_unpack(k, v) for k, v in sorted(old - new))
        ]
        return result
    for code in sorted(set(a.entries) | set(b.entries)):
        before, after = a.entries.get(code), b.entries.get(code)
        if before is None:
            result.added.append(code)
        elif after is None:
            result.removed.append(code)
        elif before != after:
            fields = (
                {
                    name: (x, y)
                    for name, x, y in zip(before._fields, before, after, strict=True)
                    if x != y and name not in _IGNORED
                }
                if hasattr(before, "_fields")
                else {"value": (before, after)}
            )
            if not fields:
                continue
            if "term_date" in fields and fields["term_date"][0] is None:
                result.terminated.append(code)
            else:
                result.changed.append((code, fields))
    return result


def format_diff(diff: Diff, limit: int = 50) -> str:
    lines = [
        f"{diff.kind}: {diff.a.release_id} ({diff.a.effective_start}) -> {diff.b.release_id} "
        f"({diff.b.effective_start})",
        f"  added {len(diff.added)}, terminated {len(diff.terminated)}, removed {len(diff.removed)}, "
        f"changed {len(diff.changed)}",
    ]
    for title, codes in (
        ("added", diff.added),
        ("terminated", diff.terminated),
        ("removed", diff.removed),
    ):
        if codes:
            shown = ", ".join(codes[:limit]) + (
                f" ... (+{len(codes) - limit})" if len(codes) > limit else ""
            )
            lines.append(f"  {title}: {shown}")
    for code, fields in diff.changed[:limit]:
        lines.append(
            f"  changed {code}: " + "; ".join(f"{k} {x!s} -> {y!s}" for k, (x, y) in fields.items())
        )
    if len(diff.changed) > limit:
        lines.append(f"  ... (+{len(diff.changed) - limit} more changed)")
    return "\n".join(lines)

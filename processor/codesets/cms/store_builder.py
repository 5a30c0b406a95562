"""`claims-processor codesets build SOURCE_DIR --out STORE`: find the CMS files by their
content, import each, merge the files of one release, and write the store."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from processor.codesets.cms.importers import Imported, ImportError_, detect
from processor.codesets.cms.importers.icd10cm import merge as merge_diagnosis
from processor.codesets.model import CodeSetKind, CodeSetRelease, DiagnosisCode, ReleaseInfo
from processor.codesets.ptp import PtpTable
from processor.codesets.store_files import save_release, sha256_of, write_manifest

Progress = Callable[[str], None]


@dataclass
class BuildReport:
    releases: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _merge_tables(kind: str, parts: list[Imported]) -> Any:
    if kind == "ncci_ptp":
        return PtpTable.from_rows(itertools.chain.from_iterable(p.entries for p in parts))
    merged: dict[str, Any] = {}
    for part in parts:
        for code, entry in part.entries.items():
            if code not in merged:
                merged[code] = entry
            elif isinstance(entry, DiagnosisCode):
                merged[code] = merge_diagnosis(merged[code], entry)
    return merged


def build_store(source: Path, out: Path, progress: Progress | None = None) -> BuildReport:
    say = progress or (lambda _: None)
    started = time.perf_counter()
    if not source.is_dir():
        raise ImportError_(f"{source}: not a directory")
    files = sorted(p for p in source.rglob("*") if p.is_file())
    grouped: dict[tuple[str, str], list[Imported]] = {}
    report = BuildReport()
    checksums: dict[Path, str] = {}
    for path in files:
        importer = detect(path)
        relative = str(path.relative_to(source))
        if importer is None:
            report.skipped.append(
                {"file": relative, "why": "not a code-set format this version reads"}
            )
            continue
        say(f"{relative}: {importer.name}")
        checksums[path] = sha256_of(path)
        for imported in importer.read(path):
            key = (imported.kind, imported.release_id)
            if key in grouped and imported.kind == "ncci_ptp":
                # Materialise generator rows now: several files of one PTP release merge.
                imported.entries = list(imported.entries)
            grouped.setdefault(key, []).append(imported)
    if out.exists():
        shutil.rmtree(out / "releases", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    for (kind, release_id), parts in sorted(grouped.items()):
        table = _merge_tables(kind, parts)
        sources = tuple(
            (str(p.relative_to(source)), checksums[p]) for part in parts for p in part.sources
        )
        notes = "; ".join(sorted({p.note for p in parts if p.note}))
        # A file named *.excerpt.* holds a few rows of a release (a format fixture): it is
        # stored and listed, but a lookup never takes it for the release in force.
        partial = all(".excerpt" in src.name for part in parts for src in part.sources)
        if partial:
            notes = "; ".join(filter(None, [notes, "partial (excerpt): not used for lookups"]))
        info = ReleaseInfo(
            cast(CodeSetKind, kind),
            release_id,
            parts[0].effective_start,
            None,
            sources[0][0],
            sources[0][1],
            sources,
            notes,
            partial,
            max((p.valid_until for p in parts if p.valid_until is not None), default=None),
        )
        entry = save_release(out, CodeSetRelease(info, table))
        report.releases.append(entry)
        say(f"  {kind} {release_id}: {entry['count']:,} entries from {len(sources)} file(s)")
    write_manifest(out, report.releases, report.skipped)
    report.seconds = time.perf_counter() - started
    return report


def summarise(entries: Iterable[dict[str, Any]]) -> str:
    rows = [("kind", "release", "from", "entries", "sources")]
    for e in entries:
        rows.append(
            (
                e["kind"],
                e["release_id"],
                e["effective_start"],
                f"{e['count']:,}",
                ", ".join(s["file"] for s in e["sources"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    )

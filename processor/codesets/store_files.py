"""The code-set store on disk: manifest.json and one file per release.

STORE/manifest.json                 releases: kind, id, effective start, provenance
STORE/releases/<kind>/<id>.pickle   a dict table (read with an allow-listed unpickler)
STORE/releases/ncci_ptp/<id>.ptp    the packed PTP arrays (processor.codesets.ptp)
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from processor.codesets import model
from processor.codesets.model import CodeSetRelease, ReleaseInfo
from processor.codesets.ptp import PtpTable

MANIFEST = "manifest.json"
FORMAT = 1
_ALLOWED = {
    ("datetime", "date"),
    *(
        ("processor.codesets.model", name)
        for name in (
            "ProcedureCode",
            "FeeScheduleIndicators",
            "DiagnosisCode",
            "MceRow",
            "MceCode",
            "MceAgeRange",
            "MueValue",
            "Modifier",
            "PlaceOfService",
            "RbcsClass",
            "AddOnCode",
            "AspPrice",
            "NdcCrosswalk",
        )
    ),
}


class StoreError(ValueError):
    """A store that cannot be read; names the file and why."""


class _TableUnpickler(pickle.Unpickler):
    """Only the code-set classes and dates: a store file cannot run code when loaded."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not a code-set class")
        if module == "datetime":
            return date
        return getattr(model, name)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release_path(store: Path, kind: str, release_id: str) -> Path:
    suffix = ".ptp" if kind == "ncci_ptp" else ".pickle"
    return store / "releases" / kind / f"{release_id}{suffix}"


def save_release(store: Path, release: CodeSetRelease) -> dict[str, Any]:
    info = release.info
    path = release_path(store, info.kind, info.release_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(release.entries, PtpTable):
        release.entries.save(path)
    else:
        with path.open("wb") as handle:
            pickle.dump(release.entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "kind": info.kind,
        "release_id": info.release_id,
        "effective_start": info.effective_start.isoformat(),
        "file": str(path.relative_to(store)),
        "sha256": sha256_of(path),
        "count": len(release.entries),
        "sources": [{"file": name, "sha256": digest} for name, digest in info.sources],
        "note": info.note,
        "partial": info.partial,
        **({"valid_until": info.valid_until.isoformat()} if info.valid_until else {}),
    }


def write_manifest(
    store: Path, entries: Iterable[dict[str, Any]], skipped: list[dict[str, str]]
) -> None:
    document = {
        "format": FORMAT,
        "releases": sorted(entries, key=lambda e: (e["kind"], e["effective_start"])),
        "skipped": skipped,
    }
    (store / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")


def read_manifest(store: Path) -> dict[str, Any]:
    path = store / MANIFEST
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(
            f"{store}: no {MANIFEST} (build one with `claims-processor codesets build`)"
        ) from None
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}: {exc}") from None
    if document.get("format") != FORMAT:
        raise StoreError(
            f"{path}: store format {document.get('format')!r}, this version reads {FORMAT}"
        )
    return document


def load_release(store: Path, entry: dict[str, Any], *, verify: bool = True) -> CodeSetRelease:
    path = store / entry["file"]
    if not path.is_file():
        raise StoreError(f"{path}: missing (listed in {MANIFEST})")
    if verify and sha256_of(path) != entry["sha256"]:
        raise StoreError(
            f"{path}: checksum differs from {MANIFEST}: the file changed after the build"
        )
    if entry["kind"] == "ncci_ptp":
        table: Any = PtpTable.load(path)
    else:
        with path.open("rb") as handle:
            try:
                table = _TableUnpickler(handle).load()
            except (pickle.UnpicklingError, EOFError) as exc:
                raise StoreError(f"{path}: {exc}") from None
    sources = tuple((s["file"], s["sha256"]) for s in entry.get("sources", []))
    info = ReleaseInfo(
        kind=entry["kind"],
        release_id=entry["release_id"],
        effective_start=date.fromisoformat(entry["effective_start"]),
        effective_end=None,
        source=", ".join(name for name, _ in sources) or path.name,
        checksum=sources[0][1] if sources else entry["sha256"],
        sources=sources,
        note=entry.get("note", ""),
        partial=bool(entry.get("partial", False)),
        valid_until=date.fromisoformat(entry["valid_until"]) if entry.get("valid_until") else None,
    )
    return CodeSetRelease(info=info, entries=table)

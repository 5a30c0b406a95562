"""Importers for the CMS code-set files, each recognised by its content."""

from pathlib import Path

from processor.codesets.cms.importers import hcpcs, icd10cm, mce, ncci, pfs, reference
from processor.codesets.cms.importers.base import Imported, Importer, ImportError_, head

IMPORTERS: list[Importer] = [
    *ncci.IMPORTERS,
    *hcpcs.IMPORTERS,
    *icd10cm.IMPORTERS,
    *mce.IMPORTERS,
    *pfs.IMPORTERS,
    *reference.IMPORTERS,
]


def detect(path: Path) -> Importer | None:
    """The importer whose format this file has, by its first bytes; None when none does."""
    if path.suffix.lower() in (".md", ".pdf", ".zip"):
        return None  # documentation and archives, never a table
    try:
        first = head(path)
    except OSError:
        return None
    for importer in IMPORTERS:
        if importer.detect(path, first):
            return importer
    return None


__all__ = ["IMPORTERS", "ImportError_", "Imported", "Importer", "detect"]

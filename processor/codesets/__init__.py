"""Code sets by date of service: the interface (model, store) and the loaders."""

from processor.codesets.loader import SAMPLE_DIR, CodeSetError, load_codesets, load_store
from processor.codesets.model import (
    CodeSetKind,
    CodeSetRelease,
    DiagnosisCode,
    FeeScheduleIndicators,
    Lookup,
    Modifier,
    MueValue,
    PlaceOfService,
    ProcedureCode,
    PtpEdit,
    ReleaseInfo,
)
from processor.codesets.store import CodeSets

__all__ = [
    "SAMPLE_DIR",
    "CodeSetError",
    "CodeSetKind",
    "CodeSetRelease",
    "CodeSets",
    "DiagnosisCode",
    "FeeScheduleIndicators",
    "Lookup",
    "Modifier",
    "MueValue",
    "PlaceOfService",
    "ProcedureCode",
    "PtpEdit",
    "ReleaseInfo",
    "load_codesets",
    "load_store",
]

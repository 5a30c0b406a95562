"""The edit catalogue: every module in this package registers its edits on import."""

import importlib
import pkgutil

from processor.edits.base import (
    STAGES,
    ActiveEdit,
    ClaimContext,
    Edit,
    EditSpec,
    Hit,
    Stage,
    edit,
)

_SKIP = {"base", "engine"}


def load_catalogue() -> dict[str, Edit]:
    """Import every edit module of this package and return the registered edits by id."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SKIP:
            importlib.import_module(f"{__name__}.{module.name}")
    from processor.edits.base import registered_edits

    return registered_edits()


__all__ = [
    "STAGES",
    "ActiveEdit",
    "ClaimContext",
    "Edit",
    "EditSpec",
    "Hit",
    "Stage",
    "edit",
    "load_catalogue",
]

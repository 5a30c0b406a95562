"""The edit catalogue: the rows of catalogue.toml, each with the check registered under its id
by a module of this package."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

from processor.edits.base import (
    STAGES,
    ActiveEdit,
    CatalogueError,
    ClaimContext,
    Edit,
    EditSpec,
    GroupCode,
    Hit,
    Stage,
    check,
    registered_checks,
)
from processor.edits.facts import FACTS
from processor.models.outputs import Category, Disposition

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")
_SKIP = {"base", "engine", "facts", "testing"}
_COLUMNS = {
    "id": str,
    "name": str,
    "stage": str,
    "category": str,
    "level": str,
    "disposition": str,
    "group_code": str,
    "carc": str,
    "rarc": list,
    "appealable": bool,
    "message": str,
    "fix": str,
    "parameters": dict,
}
_ALLOWED = {
    "stage": set(STAGES),
    "category": set(get_args(Category)),
    "level": {"claim", "line"},
    "disposition": set(get_args(Disposition)),
    "group_code": set(get_args(GroupCode)) | {""},
}


def _spec(row: dict[str, Any], where: str) -> EditSpec:
    missing = sorted(set(_COLUMNS) - set(row))
    extra = sorted(set(row) - set(_COLUMNS))
    if missing or extra:
        raise CatalogueError(f"{where}: missing column(s) {missing}, unknown column(s) {extra}")
    for column, kind in _COLUMNS.items():
        if not isinstance(row[column], kind):
            raise CatalogueError(f"{where}: {column} must be a {kind.__name__}")
        if column in _ALLOWED and row[column] not in _ALLOWED[column]:
            raise CatalogueError(
                f"{where}: {column} {row[column]!r} is not one of {sorted(_ALLOWED[column])}"
            )
    return EditSpec(
        edit_id=row["id"],
        name=row["name"],
        stage=row["stage"],
        category=row["category"],
        level=row["level"],
        disposition=row["disposition"],
        group_code=row["group_code"] or None,
        carc=row["carc"] or None,
        rarc=tuple(row["rarc"]),
        appealable=row["appealable"],
        message=row["message"],
        fix=row["fix"],
        parameters=MappingProxyType(dict(row["parameters"])),
    )


def read_table(path: Path = CATALOGUE_FILE) -> dict[str, EditSpec]:
    """The catalogue table's rows by edit id, checked column by column."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    rows = document.get("edit")
    if not isinstance(rows, list) or set(document) != {"edit"}:
        raise CatalogueError(f"{path}: expected [[edit]] rows only")
    specs: dict[str, EditSpec] = {}
    for number, row in enumerate(rows, start=1):
        where = f"{path}: row {number} ({row.get('id', 'no id')})"
        spec = _spec(row, where)
        if spec.edit_id in specs:
            raise CatalogueError(f"{where}: edit {spec.edit_id} has two rows")
        specs[spec.edit_id] = spec
    return specs


def match(specs: dict[str, EditSpec], checks: dict[str, Any]) -> dict[str, Edit]:
    """Rows and checks one to one, or CatalogueError naming every mismatch."""
    no_check = sorted(set(specs) - set(checks))
    no_row = sorted(set(checks) - set(specs))
    if no_check or no_row:
        problems = []
        if no_check:
            problems.append(f"row(s) without a check: {', '.join(no_check)}")
        if no_row:
            problems.append(f"check(s) without a row: {', '.join(no_row)}")
        raise CatalogueError(f"{CATALOGUE_FILE.name}: {'; '.join(problems)}")
    for edit_id, (_, when, needs) in checks.items():
        unknown = sorted(((when or frozenset()) | needs) - FACTS)
        if unknown:
            raise CatalogueError(f"edit {edit_id}: check names unknown fact(s) {unknown}")
    return {
        edit_id: Edit(
            spec=spec, check=checks[edit_id][0], when=checks[edit_id][1], needs=checks[edit_id][2]
        )
        for edit_id, spec in specs.items()
    }


def import_checks() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SKIP:
            importlib.import_module(f"{__name__}.{module.name}")


@cache
def _catalogue() -> MappingProxyType[str, Edit]:
    import_checks()
    return MappingProxyType(match(read_table(), registered_checks()))


def load_catalogue() -> dict[str, Edit]:
    """Every edit by id: the table's rows with their checks. Raises CatalogueError unless
    rows and checks match one to one."""
    return dict(_catalogue())


__all__ = [
    "CATALOGUE_FILE",
    "STAGES",
    "ActiveEdit",
    "CatalogueError",
    "ClaimContext",
    "Edit",
    "EditSpec",
    "Hit",
    "Stage",
    "check",
    "load_catalogue",
    "read_table",
]

"""Payer rule profiles: data files that adjust the edit catalogue per payer type.

A profile (TOML) can switch an edit off, change its disposition, or set its parameters:

    name = "medicaid"
    plan_types = ["medicaid"]
    [edits.DOS-DATES]
    disposition = "review"
    [edits.DOS-DATES.parameters]
    max_span_days = 31

The built-in profiles live in processor/profiles/; a folder named by the
CLAIMS_PROFILES_DIR setting adds profiles or replaces built-ins of the same name.
A claim's payer.plan_type picks the profile listing it in plan_types.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

from processor import __version__
from processor.edits import STAGES, ActiveEdit, Edit, Stage, load_catalogue
from processor.models.claim import PlanType
from processor.models.outputs import Disposition

BUILTIN_PROFILES_DIR = Path(__file__).with_name("profiles")
_DISPOSITIONS = set(get_args(Disposition))
_PLAN_TYPES = set(get_args(PlanType))


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the setting."""


@dataclass(frozen=True)
class Profile:
    name: str
    plan_types: tuple[str, ...]
    description: str
    source: str
    edits: tuple[ActiveEdit, ...]  # enabled edits, in stage order
    disabled: tuple[str, ...]

    @cached_property
    def stages(self) -> tuple[tuple[Stage, tuple[ActiveEdit, ...]], ...]:
        """Every stage, in order, with this profile's enabled edits in it."""
        return tuple(
            (stage, tuple(a for a in self.edits if a.spec.stage == stage)) for stage in STAGES
        )


def _apply(path: Path, catalogue: Mapping[str, Edit], document: dict[str, Any]) -> Profile:
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"{path}: 'name' must be a non-empty string")
    plan_types = document.get("plan_types", [])
    if not isinstance(plan_types, list) or any(p not in _PLAN_TYPES for p in plan_types):
        raise ProfileError(f"{path}: plan_types must list values of {sorted(_PLAN_TYPES)}")
    overrides = document.get("edits", {})
    if not isinstance(overrides, dict):
        raise ProfileError(f"{path}: [edits] must be a table")
    for edit_id in overrides:
        if edit_id not in catalogue:
            raise ProfileError(f"{path}: edits.{edit_id}: no such edit in the catalogue")
    active: list[ActiveEdit] = []
    disabled: list[str] = []
    ordered = sorted(catalogue.values(), key=lambda e: (STAGES.index(e.spec.stage), e.spec.edit_id))
    for item in ordered:
        spec = item.spec
        change = overrides.get(spec.edit_id, {})
        where = f"{path}: edits.{spec.edit_id}"
        if not isinstance(change, dict):
            raise ProfileError(f"{where} must be a table")
        unknown = set(change) - {"enabled", "disposition", "parameters"}
        if unknown:
            raise ProfileError(f"{where}: unknown setting(s) {sorted(unknown)}")
        enabled = change.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ProfileError(f"{where}.enabled must be true or false")
        if not enabled:
            disabled.append(spec.edit_id)
            continue
        disposition = change.get("disposition", spec.disposition)
        if disposition not in _DISPOSITIONS:
            raise ProfileError(f"{where}.disposition must be one of {sorted(_DISPOSITIONS)}")
        parameters = dict(spec.parameters)
        for key, value in change.get("parameters", {}).items():
            if key not in spec.parameters:
                raise ProfileError(
                    f"{where}.parameters.{key}: the edit has no such parameter "
                    f"(it has: {', '.join(spec.parameters) or 'none'})"
                )
            if type(value) is not type(spec.parameters[key]):
                raise ProfileError(
                    f"{where}.parameters.{key}: expected {type(spec.parameters[key]).__name__}, "
                    f"got {value!r}"
                )
            parameters[key] = value
        active.append(
            ActiveEdit(
                spec=replace(
                    spec, disposition=disposition, parameters=MappingProxyType(parameters)
                ),
                edit=item,
            )
        )
    return Profile(
        name=name,
        plan_types=tuple(plan_types),
        description=str(document.get("description", "")),
        source=str(path),
        edits=tuple(active),
        disabled=tuple(disabled),
    )


@dataclass(frozen=True)
class Ruleset:
    """The edit catalogue under every profile, resolved once at start-up."""

    profiles: Mapping[str, Profile]
    by_plan_type: Mapping[str, Profile]
    version: str

    def for_plan_type(self, plan_type: str) -> Profile:
        return self.by_plan_type[plan_type]


def load_ruleset(extra_dir: Path | str | None = None) -> Ruleset:
    catalogue = load_catalogue()
    files = {p.stem: p for p in sorted(BUILTIN_PROFILES_DIR.glob("*.toml"))}
    if extra_dir is not None:
        folder = Path(extra_dir)
        if not folder.is_dir():
            raise ProfileError(f"CLAIMS_PROFILES_DIR={folder}: not a directory")
        files.update({p.stem: p for p in sorted(folder.glob("*.toml"))})
    profiles: dict[str, Profile] = {}
    digest = hashlib.sha256(__version__.encode())
    for edit_id in sorted(catalogue):
        digest.update(repr(catalogue[edit_id].spec).encode())
    for stem, path in sorted(files.items()):
        raw = path.read_bytes()
        digest.update(stem.encode() + b"\0" + raw)
        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: {exc}") from None
        profile = _apply(path, catalogue, document)
        profiles[profile.name] = profile
    by_plan_type: dict[str, Profile] = {}
    for profile in profiles.values():
        for plan_type in profile.plan_types:
            if plan_type in by_plan_type and by_plan_type[plan_type].name != profile.name:
                raise ProfileError(
                    f"plan type {plan_type!r} is claimed by profiles {by_plan_type[plan_type].name}"
                    f" and {profile.name}"
                )
            by_plan_type[plan_type] = profile
    missing = _PLAN_TYPES - set(by_plan_type)
    if missing:
        raise ProfileError(f"no profile covers plan type(s) {sorted(missing)}")
    return Ruleset(
        profiles=MappingProxyType(profiles),
        by_plan_type=MappingProxyType(by_plan_type),
        version=digest.hexdigest()[:16],
    )

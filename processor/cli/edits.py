"""`edits list`: the edit catalogue as a payer profile applies it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from processor.cli.common import CommandError
from processor.profiles import Profile, load_ruleset
from processor.settings import Settings
from processor.text_table import text_table


def catalogue_rows(profile: Profile) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for active in profile.edits:
        spec = active.spec
        rows.append(
            {
                "edit_id": spec.edit_id,
                "name": spec.name,
                "stage": spec.stage,
                "category": spec.category,
                "level": spec.level,
                "disposition": spec.disposition,
                "group_code": spec.group_code,
                "carc": spec.carc,
                "rarc": list(spec.rarc),
                "appealable": spec.appealable,
                "parameters": dict(spec.parameters),
                "enabled": True,
            }
        )
    rows += [{"edit_id": edit_id, "enabled": False} for edit_id in profile.disabled]
    return rows


def _adjustment_codes(row: dict[str, Any]) -> str:
    carc = f"{row['group_code'] or ''}-{row['carc']}" if row["carc"] else ""
    return "/".join(filter(None, [carc, ",".join(row["rarc"])])) or "-"


def format_catalogue(rows: list[dict[str, Any]]) -> list[str]:
    table = [("edit", "category", "level", "disposition", "CARC/RARC", "appeal", "parameters")]
    for row in rows:
        if not row["enabled"]:
            table.append((str(row["edit_id"]), "", "", "off (profile)", "", "", ""))
            continue
        table.append(
            (
                row["edit_id"],
                row["category"],
                row["level"],
                row["disposition"],
                _adjustment_codes(row),
                "yes" if row["appealable"] else "no",
                ", ".join(f"{k}={v}" for k, v in row["parameters"].items()),
            )
        )
    return text_table(table)


def cmd_edits(settings: Settings, args: argparse.Namespace) -> int:
    ruleset = load_ruleset(settings.profiles_dir)
    if args.profile not in ruleset.profiles:
        raise CommandError(
            f"no profile {args.profile!r} (have: {', '.join(sorted(ruleset.profiles))})"
        )
    profile = ruleset.profiles[args.profile]
    rows = catalogue_rows(profile)
    if args.json:
        document = {
            "profile": profile.name,
            "plan_types": list(profile.plan_types),
            "ruleset_version": ruleset.version,
            "edits": rows,
        }
        print(json.dumps(document, indent=2))
        return 0
    print(
        f"profile {profile.name} (plan types {', '.join(profile.plan_types)}; rule set {ruleset.version})"
    )
    print("\n".join(format_catalogue(rows)))
    return 0


def register(commands: Any) -> None:
    edits = commands.add_parser("edits", help="the edit catalogue as it applies under a profile")
    edits.add_argument("action", choices=["list"])
    edits.add_argument("--profile", default="medicare", help="profile name (default: medicare)")
    edits.add_argument("--json", action="store_true", help="machine-readable")
    edits.set_defaults(run=cmd_edits)

"""Building the core from settings: code sets, rule set, scrubber. Shared by every command."""

from __future__ import annotations

import logging

from processor.codesets import load_codesets
from processor.pipeline import Scrubber
from processor.profiles import load_ruleset
from processor.settings import Settings

log = logging.getLogger("processor")


def build_scrubber(settings: Settings) -> Scrubber:
    codesets = load_codesets(settings.codesets_dir)
    ruleset = load_ruleset(settings.profiles_dir)
    releases = codesets.releases()
    log.info(
        "code sets: %d releases (%s); rule set %s, profiles %s",
        len(releases),
        ", ".join(f"{r.kind} {r.release_id}" for r in releases),
        ruleset.version,
        ", ".join(sorted(ruleset.profiles)),
    )
    return Scrubber(codesets, ruleset)

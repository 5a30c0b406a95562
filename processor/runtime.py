"""Building the core from settings: code sets, rule set, scrubber. Shared by every command."""

from __future__ import annotations

import gc
import logging
import time

from processor.codesets import load_codesets
from processor.pipeline import Scrubber
from processor.profiles import load_ruleset
from processor.settings import Settings

log = logging.getLogger("processor")


def build_scrubber(settings: Settings) -> Scrubber:
    started = time.perf_counter()
    codesets = load_codesets(settings.codesets_dir)
    loaded_in = time.perf_counter() - started
    # The code sets live as long as the process: half a million objects that the cyclic
    # collector would otherwise walk on every full collection.
    gc.freeze()
    ruleset = load_ruleset(settings.profiles_dir)
    releases = codesets.releases()
    log.info(
        "code sets: %d releases loaded in %.2fs from %s; rule set %s, profiles %s",
        len(releases),
        loaded_in,
        settings.codesets_dir or "the shipped sample",
        ruleset.version,
        ", ".join(sorted(ruleset.profiles)),
    )
    log.debug("releases: %s", ", ".join(f"{r.kind} {r.release_id}" for r in releases))
    return Scrubber(codesets, ruleset, history_retention_days=settings.history_retention_days)

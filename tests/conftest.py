"""The real CMS files in ../shared/codesets/raw (never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from processor.devtools.local_stack import REPO

RAW = Path(os.environ.get("CLAIMS_CMS_RAW", REPO.parent / "shared" / "codesets" / "raw"))


@pytest.fixture(scope="session")
def raw() -> Path:
    if not RAW.is_dir():
        pytest.skip(f"the CMS files are not at {RAW} (set CLAIMS_CMS_RAW to their folder)")
    return RAW


@pytest.fixture(scope="session")
def cms_store(raw, tmp_path_factory):
    """The whole raw folder built once into a store, and the store loaded."""
    from processor.codesets import load_codesets
    from processor.codesets.cms.store_builder import build_store

    out = tmp_path_factory.mktemp("store")
    report = build_store(raw, out)
    return out, report, load_codesets(out)


@pytest.fixture(autouse=True)
def _every_case_checks_edit_selection(monkeypatch):
    """Every claim a test scrubs in this process is also run through every edit, applicable
    or not: the findings must be the same (processor.edits.facts)."""
    from processor import scrubber
    from processor.edits import engine

    def checked(ctx, stages, timer=None):
        found = engine.run_edits(ctx, stages, timer)
        full = engine.run_edits(ctx, stages, select=False)
        assert [f.__dict__ for f in found] == [f.__dict__ for f in full], "edit selection"
        return found

    monkeypatch.setattr(scrubber, "run_edits", checked)

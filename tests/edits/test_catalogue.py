"""The catalogue table (processor/edits/catalogue.toml) and its checks, one to one."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.edits import CATALOGUE_FILE, CatalogueError, load_catalogue, read_table
from processor.edits import match as match_checks
from processor.edits.base import registered_checks


def test_every_row_has_its_check_and_every_check_its_row():
    catalogue = load_catalogue()
    assert set(catalogue) == set(read_table()) == set(registered_checks())
    assert all(edit.check.__name__.startswith("check_") for edit in catalogue.values())


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text)
    return path


def test_a_row_without_a_check_fails_loudly():
    specs = read_table()
    checks = registered_checks()
    del checks["UNITS"]
    with pytest.raises(CatalogueError, match="row\\(s\\) without a check: UNITS"):
        match_checks(specs, checks)


def test_a_check_without_a_row_fails_loudly():
    specs = read_table()
    del specs["CHARGE"]
    with pytest.raises(CatalogueError, match="check\\(s\\) without a row: CHARGE"):
        match_checks(specs, registered_checks())


def test_a_row_missing_a_column_names_it(tmp_path):
    text = CATALOGUE_FILE.read_text().replace('carc = "18"\n', "", 1)
    with pytest.raises(
        CatalogueError, match=r"row \d+ \(DUP-\w+\): missing column\(s\) \['carc'\]"
    ):
        read_table(_table(tmp_path, text))


def test_a_value_outside_its_set_names_the_column(tmp_path):
    text = CATALOGUE_FILE.read_text().replace('stage = "items"', 'stage = "itemz"', 1)
    with pytest.raises(CatalogueError, match="stage 'itemz' is not one of"):
        read_table(_table(tmp_path, text))


def test_two_rows_with_one_id_fail(tmp_path):
    text = CATALOGUE_FILE.read_text().replace('id = "UNITS"', 'id = "DOS-DATES"', 1)
    with pytest.raises(CatalogueError, match="DOS-DATES has two rows"):
        read_table(_table(tmp_path, text))


def test_empty_group_code_and_carc_read_as_none():
    spec = read_table()["STALE-CODESETS"]
    assert spec.group_code is None and spec.carc is None and spec.rarc == ()

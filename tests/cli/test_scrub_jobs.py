"""`scrub --jobs N`: the same outputs in the same order as one process, history included."""

from __future__ import annotations

import orjson

from processor.cli import main
from processor.cli.scrub_parallel import partition_of
from processor.devtools.local_stack import REPO

DEMO = REPO / "examples" / "demo-claims.jsonl"


def _without_time(path):
    documents = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for document in documents:
        document.pop("processed_at", None)
    return documents


def test_jobs_give_the_one_process_outputs_in_input_order(tmp_path, capsys):
    # The demo file twice: the second copy's claims are duplicates of the first's, which only
    # the history edits can tell, and only if each patient's claims meet in one process.
    source = tmp_path / "claims.jsonl"
    source.write_bytes(DEMO.read_bytes() * 2)
    one, three = tmp_path / "one.jsonl", tmp_path / "three.jsonl"
    assert main(["scrub", str(source), "-o", str(one)]) == 0
    summary_one = capsys.readouterr().err.split("\n", 1)[1]
    assert main(["scrub", str(source), "-o", str(three), "--jobs", "3"]) == 0
    summary_three = capsys.readouterr().err.split("\n", 1)[1]
    expected = _without_time(one)
    assert _without_time(three) == expected
    duplicates = sum(
        any(f["edit_id"] == "DUP-CLAIM" for f in d.get("findings", [])) for d in expected
    )
    assert duplicates > 50  # the history was seen
    # Same counts and top findings (the timing part of the first line aside).
    assert summary_one.split("\n", 1)[1] == summary_three.split("\n", 1)[1]


def test_a_patient_always_goes_to_one_partition():
    claim = b'{"payer": {"payer_id": "P"}, "patient": {"member_id": "M1"}}'
    assert len({partition_of(claim, n, 4) for n in range(1, 50)}) == 1
    assert {partition_of(b"not json", n, 4) for n in range(1, 9)} == {0, 1, 2, 3}


def test_jobs_must_be_positive(tmp_path, capsys):
    source = tmp_path / "claims.jsonl"
    source.write_bytes(DEMO.read_bytes())
    assert main(["scrub", str(source), "--jobs", "0"]) == 2
    assert "--jobs 0" in capsys.readouterr().err

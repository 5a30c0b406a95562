"""`scrub --jobs N`: the same outputs in the same order as one process, history included."""

from __future__ import annotations

import multiprocessing
import os

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.cli import main, scrub_parallel
from processor.cli.scrub_parallel import line_ranges, partition_of
from processor.devtools.hostile import hostile_messages
from processor.devtools.local_stack import REPO
from processor.devtools.samples import demo_claims
from processor.scrubber import written_values
from tests.factories import claim_dict, sample_scrubber
from tests.formats.test_fhir import _fhir_for

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


def test_fhir_claim_lines_of_one_patient_meet_in_one_process(tmp_path):
    """A file of FHIR Claims, one per line: each line goes by its patient's key too, so the
    history edits see what one process sees (before, such lines went by line number)."""
    lines = []
    for n in range(12):
        resource = _fhir_for(claim_dict())
        resource["id"] = f"FHIR-{n % 4}"  # each claim sent three times: duplicates
        lines.append(orjson.dumps(resource))
    source = tmp_path / "fhir.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    one, three = tmp_path / "one.jsonl", tmp_path / "three.jsonl"
    assert main(["scrub", str(source), "-o", str(one)]) == 0
    assert main(["scrub", str(source), "-o", str(three), "--jobs", "3"]) == 0
    expected = _without_time(one)
    assert any(f["edit_id"] == "DUP-CLAIM" for d in expected for f in d.get("findings", []))
    assert _without_time(three) == expected


def test_a_patient_always_goes_to_one_partition():
    claim = b'{"payer": {"payer_id": "P"}, "patient": {"member_id": "M1"}}'
    scrubber = sample_scrubber()
    assert len({partition_of(scrubber, claim, n, 4) for n in range(1, 50)}) == 1
    assert {partition_of(scrubber, b"not json", n, 4) for n in range(1, 9)} == {0, 1, 2, 3}


def test_jobs_must_be_positive(tmp_path, capsys):
    source = tmp_path / "claims.jsonl"
    source.write_bytes(DEMO.read_bytes())
    assert main(["scrub", str(source), "--jobs", "0"]) == 2
    assert "--jobs 0" in capsys.readouterr().err
    assert main(["scrub", str(source), "--jobs", "257"]) == 2
    assert "--jobs 257" in capsys.readouterr().err


@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    st.booleans(),
    st.integers(1, 6),
    st.integers(1, 64),
)
def test_line_ranges_cut_the_lines_as_iterating_the_file_gives_them(
    tmp_path_factory, lines, trailing_newline, jobs, chunk
):
    path = tmp_path_factory.mktemp("ranges") / "lines"
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    path.write_bytes(data)
    with path.open("rb") as handle:
        starts, at = [], 0
        for line in handle:
            starts.append(at)
            at += len(line)
    total, ranges = line_ranges(path, jobs, chunk)  # small chunks: lines across their edges
    assert total == len(starts)
    assert [first for first, _, _ in ranges] == [total * k // jobs for k in range(jobs)]
    assert [end for _, _, end in ranges] == [total * k // jobs for k in range(1, jobs + 1)]
    for first, offset, end in ranges:
        if first < end:
            assert offset == starts[first]


def test_a_file_without_a_last_newline_and_an_empty_file(tmp_path):
    lines = DEMO.read_bytes().rstrip(b"\n")
    for name, data in [("last.jsonl", lines), ("empty.jsonl", b"")]:
        source = tmp_path / name
        source.write_bytes(data)
        one, two = tmp_path / f"one-{name}", tmp_path / f"two-{name}"
        assert main(["scrub", str(source), "-o", str(one), "--jobs", "1"]) == 0
        assert main(["scrub", str(source), "-o", str(two), "--jobs", "2"]) == 0
        assert _without_time(two) == _without_time(one)
        assert len(_without_time(one)) == data.count(b"\n") + bool(data)


def written_key(raw: bytes) -> bytes | None:
    """The key's bytes as `written_values` reads them off the line, or None."""
    values = written_values(raw)
    return None if values is None else values[0] + b"|" + values[1]


def _parsed_key(raw: bytes) -> bytes | None:
    try:
        document = orjson.loads(raw)
        text = f"{document['payer']['payer_id']}|{document['patient']['member_id']}"
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return text.encode("utf-8", "surrogatepass")


def test_the_key_read_off_the_bytes_is_the_parsed_one_or_nothing():
    """A line's key is read off its bytes only where that gives what parsing gives: over the
    demo claims (all read off their bytes) and seeded hostile mutations of them."""
    demo = demo_claims()
    compact = [raw for raw in demo if _parsed_key(raw) and b'"payer_id":"' in raw]
    claims = [raw for raw in compact if b"\\" not in raw]
    assert len(claims) > 150
    assert all(written_key(raw) is not None for raw in claims)
    # A line with no key to parse is no claim: a dead letter wherever it is scrubbed.
    for raw in [*demo, *hostile_messages(11, 3000)]:
        key, parsed = written_key(raw), _parsed_key(raw)
        if key is not None and parsed is not None:
            assert key == parsed, raw[:300]


@given(
    st.dictionaries(
        st.sampled_from(["payer_id", "member_id", "name", "note", "payer_id "]),
        st.one_of(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), st.none()),
    ),
    st.dictionaries(
        st.sampled_from(["member_id", "payer_id", "dob"]),
        st.one_of(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1)),
    ),
    st.booleans(),
    st.booleans(),
)
def test_the_key_read_off_any_written_claim_is_the_parsed_one(payer, patient, spaced, extra):
    document = {"claim_id": "C", "payer": payer, "patient": patient}
    if extra:  # the key names a second time, elsewhere in the document
        document["extra"] = {"payer": payer, "patient": patient}
    raw = orjson.dumps(document)
    if spaced:
        raw = raw.replace(b'":', b'": ')
    key, parsed = written_key(raw), _parsed_key(raw)
    if key is not None and parsed is not None:  # (no key to parse: a dead letter anywhere)
        assert key == parsed


@pytest.mark.parametrize("phase", ["finding partitions", "scrubbing"])
def test_a_process_that_dies_fails_the_command_and_stops_the_others(tmp_path, monkeypatch, phase):
    """A process that dies while the others wait for it (at the end of finding partitions)
    or work on: the command fails, naming it, instead of waiting for ever."""
    source = tmp_path / "claims.jsonl"
    source.write_bytes(DEMO.read_bytes())
    lines = DEMO.read_bytes().count(b"\n")
    if phase == "finding partitions":
        real = scrub_parallel.partition_of

        def dying(scrubber, raw, line_no, jobs):
            if line_no == lines:  # the last line: in the second process's range
                os._exit(3)
            return real(scrubber, raw, line_no, jobs)

        monkeypatch.setattr(scrub_parallel, "partition_of", dying)
    else:
        real_scrub = scrub_parallel.scrub_counted

        def dying_scrub(scrubber, raw, source, *rest):
            if source.offset == lines:
                os._exit(3)
            return real_scrub(scrubber, raw, source, *rest)

        monkeypatch.setattr(scrub_parallel, "scrub_counted", dying_scrub)
    with (
        (tmp_path / "out.jsonl").open("wb") as output,
        pytest.raises(RuntimeError, match=r"scrub process scrub-\d exited with code 3"),
    ):
        scrub_parallel.scrub_file_parallel(
            sample_scrubber(), source, output, progress=False, jobs=2
        )
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("scrub-")]

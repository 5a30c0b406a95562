"""The `claims-processor` command: scrub end to end on files, and its errors."""

import orjson
import pytest

from processor.cli import main
from processor.devtools.samples import demo_claims
from tests.factories import claim_bytes, claim_dict


def _write(path, lines):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_scrub_writes_one_line_per_input_line_in_order(tmp_path, capsys):
    bad = claim_dict(claim_id="BAD")
    bad["lines"][0]["units"] = 0
    source = _write(tmp_path / "in.jsonl", [claim_bytes(), b"not json", claim_bytes(bad), b""])
    out = tmp_path / "out.jsonl"
    assert main(["scrub", str(source), "--output", str(out)]) == 0
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r.get("route", r["event_type"]) for r in rows] == [
        "clean",
        "claim.unreadable",
        "risk",
        "claim.unreadable",
    ]
    assert rows[1]["source"] == {"topic": str(source), "partition": None, "offset": 2}
    assert rows[2]["claim_id"] == "BAD"
    summary = capsys.readouterr().err
    assert "scrubbed 4 lines" in summary and "clean 1, risk 1, dead letter 2" in summary
    assert "UNITS (reject)" in summary


def test_scrub_to_stdout(tmp_path, capsysbinary):
    source = _write(tmp_path / "in.jsonl", [claim_bytes()])
    assert main(["scrub", str(source), "--quiet"]) == 0
    captured = capsysbinary.readouterr()
    assert orjson.loads(captured.out)["route"] == "clean"
    assert captured.err == b""


def test_scrub_matches_the_demo_file_counts(tmp_path):
    source = _write(tmp_path / "demo.jsonl", demo_claims())
    out = tmp_path / "out.jsonl"
    assert main(["scrub", str(source), "-o", str(out), "-q"]) == 0
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(rows) == 200
    assert sum(r["event_type"] == "claim.unreadable" for r in rows) == 6


def test_missing_input_file(tmp_path, capsys):
    assert main(["scrub", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_bad_setting_names_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLAIMS_WEB_PORT", "sixty")
    source = _write(tmp_path / "in.jsonl", [claim_bytes()])
    assert main(["scrub", str(source)]) == 2
    assert "CLAIMS_WEB_PORT" in capsys.readouterr().err


def test_bad_codesets_dir_names_the_problem(tmp_path, capsys):
    source = _write(tmp_path / "in.jsonl", [claim_bytes()])
    assert main(["scrub", str(source), "--codesets", str(tmp_path)]) == 2
    assert "nor releases.toml" in capsys.readouterr().err


def test_settings_lists_every_variable(capsys):
    assert main(["settings"]) == 0
    text = capsys.readouterr().out
    for variable in (
        "CLAIMS_KAFKA_BOOTSTRAP",
        "CLAIMS_TOPIC_PREFIX",
        "CLAIMS_WEB_HOST",
        "CLAIMS_CODESETS_DIR",
    ):
        assert variable in text


def test_produce_to_unreachable_kafka_fails_with_a_message(tmp_path, monkeypatch, capsys):
    from processor.devtools.local_stack import free_port

    monkeypatch.setenv("CLAIMS_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    source = _write(tmp_path / "in.jsonl", [claim_bytes()])
    assert main(["produce", str(source)]) == 1
    assert "Kafka" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["nope"], ["topics", "delete"]])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2


def test_edits_list_shows_the_profile_differences(capsys):
    import json

    assert main(["edits", "list", "--profile", "commercial", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    by_id = {e["edit_id"]: e for e in listing["edits"]}
    assert by_id["MCR-COVERAGE"]["enabled"] is False
    assert by_id["TIMELY-FILING"]["parameters"] == {"limit_days": 180}
    assert (by_id["NCCI-PTP"]["carc"], by_id["NCCI-PTP"]["appealable"]) == ("236", True)
    assert main(["edits", "list", "--profile", "medicare"]) == 0
    table = capsys.readouterr().out
    assert "MCR-COVERAGE" in table and "limit_days=365" in table and "required=False" in table
    assert main(["edits", "list", "--profile", "tricare"]) == 2

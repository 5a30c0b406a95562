"""The stateful edits over a stream of claims, in the core and through `scrub`. Facts of the
sample code sets (from the 2024 Q3 CMS files): 20611/20610 is an active NCCI pair with
modifier indicator 1; 20610 has an MUE of 2 per day, MAI 3."""

from __future__ import annotations

import orjson

from processor.cli import main
from processor.history import InMemoryHistory
from processor.scrubber import Source
from tests.factories import claim_dict, sample_scrubber


def _claim(claim_id, *lines, **changes):
    data = claim_dict(claim_id=claim_id, **changes)
    data["lines"] = [
        {
            "line_number": n,
            "procedure_code": code,
            "modifiers": list(mods),
            "units": units,
            "charge": "100.00",
            "service_date": dos,
            "diagnosis_pointers": [1],
        }
        for n, (code, mods, units, dos) in enumerate(lines, start=1)
    ]
    return data


def _line(code, *mods, units=1, dos="2024-11-18"):
    return (code, mods, units, dos)


class Stream:
    def __init__(self):
        self.history = InMemoryHistory()
        self.offset = 0

    def send(self, data):
        self.offset += 1
        result = sample_scrubber().scrub(
            orjson.dumps(data), source=Source("s", 0, self.offset), history=self.history
        )
        return {f.edit_id: f for f in result.findings}


def test_duplicate_claim_and_service():
    stream = Stream()
    assert stream.send(_claim("A-1", _line("99213"))) == {}
    again = stream.send(_claim("A-1", _line("99213")))
    assert again["DUP-CLAIM"].carc == "18" and again["DUP-CLAIM"].disposition == "reject"
    other = stream.send(_claim("B-1", _line("99213")))
    assert other["DUP-SERVICE"].evidence["other_claim_id"] == "A-1"
    # Same code and date but other units, modifiers or provider: not a duplicate.
    assert "DUP-SERVICE" not in stream.send(_claim("C-1", _line("99213", units=2)))
    assert "DUP-SERVICE" not in stream.send(_claim("D-1", _line("99213", "95")))


def test_replacement_and_void_are_not_duplicates():
    stream = Stream()
    stream.send(_claim("A-1", _line("99213")))
    replacement = stream.send(
        _claim("A-2", _line("99213"), frequency_code="7", original_claim_id="A-1")
    )
    assert "DUP-SERVICE" not in replacement and "DUP-CLAIM" not in replacement
    # The replacement took the original's place: billing the service again duplicates A-2.
    assert (
        stream.send(_claim("B-1", _line("99213")))["DUP-SERVICE"].evidence["other_claim_id"]
        == "A-2"
    )
    void = stream.send(_claim("A-3", _line("99213"), frequency_code="8", original_claim_id="A-2"))
    assert "DUP-SERVICE" not in void
    # After the void of A-2 only B-1 still holds the service.
    assert (
        stream.send(_claim("C-1", _line("99213")))["DUP-SERVICE"].evidence["other_claim_id"]
        == "B-1"
    )


def test_ncci_pair_split_over_claims_is_reviewed_on_the_later_claim():
    stream = Stream()
    assert "NCCI-PTP-CROSS" not in stream.send(_claim("A-1", _line("20611")))
    later = stream.send(_claim("B-1", _line("20610")))
    finding = later["NCCI-PTP-CROSS"]
    assert finding.disposition == "review" and finding.evidence["column1"] == "20611"
    # Another date of service: no pair.
    assert "NCCI-PTP-CROSS" not in stream.send(_claim("C-1", _line("20610", dos="2024-11-19")))


def test_mue_day_total_over_claims():
    stream = Stream()
    stream.send(_claim("A-1", _line("20610", "RT")))
    assert "MUE-CROSS" not in stream.send(_claim("B-1", _line("20610", "LT")))  # 2 = MUE
    third = stream.send(_claim("C-1", _line("20610", "59")))
    assert third["MUE-CROSS"].evidence["total_units"] == "3"
    assert third["MUE-CROSS"].evidence["other_claim_ids"] == ["A-1", "B-1"]


def test_history_keeps_only_the_retention_window():
    stream = Stream()
    stream.send(
        _claim("OLD-1", _line("99213", dos="2023-01-02"), received_at="2023-01-03T00:00:00Z")
    )
    stream.send(_claim("NEW-1", _line("99212"), received_at="2024-11-20T00:00:00Z"))
    kept = orjson.loads(orjson.dumps(stream.history.get("MCR-J15|SYN100000001")))
    assert set(kept["claims"]) == {"NEW-1"}  # 2023-01-02 is more than 400 days before 2024-11-18


def test_scrub_keeps_history_across_the_file(tmp_path):
    claims = [
        _claim("A-1", _line("99213")),
        _claim("A-1", _line("99213")),
        _claim("B-1", _line("99213")),
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in claims))
    out = tmp_path / "out.jsonl"
    assert main(["scrub", str(source), "-o", str(out), "-q"]) == 0
    found = [
        {f["edit_id"] for f in orjson.loads(x)["findings"]} for x in out.read_bytes().splitlines()
    ]
    assert found[0] == set() and "DUP-CLAIM" in found[1] and "DUP-SERVICE" in found[2]


def test_a_replaced_original_sent_again_is_still_a_duplicate_claim():
    stream = Stream()
    stream.send(_claim("A-1", _line("99213")))
    stream.send(_claim("A-2", _line("99213"), frequency_code="7", original_claim_id="A-1"))
    again = stream.send(_claim("A-1", _line("99213")))
    assert {"DUP-CLAIM", "DUP-SERVICE"} <= set(again)
    assert again["DUP-SERVICE"].evidence["other_claim_id"] == "A-2"

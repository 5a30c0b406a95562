"""A running worker takes a newly published code-set release without a restart."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from processor.codesets.cms.store_builder import build_store
from processor.devtools.local_stack import collect
from processor.settings import load_settings
from processor.stream.produce import produce_file
from processor.stream.topics import load_topics
from tests.conftest import RAW
from tests.factories import claim_dict

pytestmark = pytest.mark.kafka


def _claim(claim_id):
    claim = claim_dict(claim_id=claim_id, received_at="2026-02-10T09:00:00Z", diagnoses=["M17.11"])
    claim["lines"] = [
        {
            "line_number": 1,
            "procedure_code": "J3301",
            "modifiers": ["JZ"],
            "units": 4,
            "charge": "24.00",
            "service_date": "2026-02-02",
            "diagnosis_pointers": [1],
            "drug": {"ndc": "00003-0293-05", "quantity": 1, "unit": "ML"},
        }
    ]
    return orjson.dumps(claim)


def _send_and_read(kafka, specs, tmp_path, claim_id):
    path = tmp_path / f"{claim_id}.jsonl"
    path.write_bytes(_claim(claim_id) + b"\n")
    asyncio.run(produce_file(kafka, specs["submitted"].name, path))
    names = [specs["clean"].name, specs["risk"].name, specs["dlq"].name]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for record in asyncio.run(collect(kafka, names, 1, timeout=5)).records:
            result = orjson.loads(record.value)
            if result.get("claim_id") == claim_id:
                return result
    raise AssertionError(f"no result for {claim_id}")


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_worker_switches_to_a_published_release_mid_stream(
    kafka, topic_prefix, worker_factory, tmp_path, monkeypatch
):
    from processor.cli import main

    specs = load_topics(load_settings(kafka_bootstrap=kafka, topic_prefix=topic_prefix))
    worker = worker_factory()
    pid = worker.process.pid

    before = _send_and_read(kafka, specs, tmp_path, "SWAP-BEFORE")
    # Only the sample release (HCPCS July 2024) is loaded: a February 2026 claim is judged
    # by it, and says the code sets are stale.
    assert before["codeset_versions"]["hcpcs"] == "2024-07"
    stale = [f for f in before["findings"] if f["edit_id"] == "STALE-CODESETS"]
    assert stale and "hcpcs" in stale[0]["evidence"]

    # The January 2026 HCPCS release (CMS ANWEB, fixed width and workbook), built and published.
    store = tmp_path / "store"
    build_store(RAW / "cms-hcpcs-level2" / "2026-jan-quarterly", store)
    monkeypatch.setenv("CLAIMS_KAFKA_BOOTSTRAP", kafka)
    monkeypatch.setenv("CLAIMS_TOPIC_PREFIX", topic_prefix)
    assert main(["codesets", "publish", str(store)]) == 0

    deadline = time.monotonic() + 30
    while 'release_id="2026-01"' not in worker.get("/metrics")[1]:
        assert time.monotonic() < deadline, worker.log_tail()
        time.sleep(0.2)

    after = _send_and_read(kafka, specs, tmp_path, "SWAP-AFTER")
    assert after["codeset_versions"]["hcpcs"] == "2026-01"
    line = after["claim"]["lines"][0]["enrichment"]
    assert line["releases"]["hcpcs"] == "2026-01" and line["status"] == "active"
    stale_after = [f for f in after["findings"] if f["edit_id"] == "STALE-CODESETS"]
    assert not stale_after or "hcpcs" not in stale_after[0]["evidence"]
    assert after["event_id"] != before["event_id"]
    assert worker.process.pid == pid and worker.process.poll() is None  # no restart
    assert orjson.loads(worker.get("/ready")[1])["releases_topic_read"] is True


@pytest.mark.usefixtures("raw")  # the samples in ../shared: skipped, saying why, without them
def test_a_new_worker_reads_releases_published_before_it_started(
    kafka, topic_prefix, worker_factory, tmp_path, monkeypatch
):
    from processor.cli import main

    store = tmp_path / "store"
    build_store(RAW / "cms-hcpcs-level2" / "2026-jan-quarterly", store)
    monkeypatch.setenv("CLAIMS_KAFKA_BOOTSTRAP", kafka)
    monkeypatch.setenv("CLAIMS_TOPIC_PREFIX", topic_prefix)
    assert main(["topics", "apply"]) == 0
    assert main(["codesets", "publish", str(store)]) == 0
    worker_factory()  # ready only once the releases topic has been read
    specs = load_topics(load_settings(kafka_bootstrap=kafka, topic_prefix=topic_prefix))
    result = _send_and_read(kafka, specs, tmp_path, "LATE-WORKER")
    assert result["codeset_versions"]["hcpcs"] == "2026-01"

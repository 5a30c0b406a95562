"""The whole flow through a real broker: claims.submitted → worker → clean / risk / dlq."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections import Counter

import orjson
import pytest

from processor.devtools.local_stack import REPO, collect
from processor.devtools.samples import demo_claims
from processor.history import InMemoryHistory
from processor.models import DeadLetter
from processor.scrubber import Source
from processor.settings import load_settings
from processor.stream.produce import produce_file
from processor.stream.topics import apply, load_topics
from tests.factories import sample_scrubber

pytestmark = pytest.mark.kafka


def _topics(kafka, prefix):
    return load_topics(load_settings(kafka_bootstrap=kafka, topic_prefix=prefix))


def _produce(kafka, topic, tmp_path, messages):
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"".join(m + b"\n" for m in messages))
    return asyncio.run(produce_file(kafka, topic, path))


def _outputs(kafka, specs, expected, timeout=90):
    names = [specs["clean"].name, specs["risk"].name, specs["dlq"].name]
    return asyncio.run(collect(kafka, names, expected, timeout))


def test_every_claim_comes_out_exactly_once_and_agrees_with_scrub(
    kafka, topic_prefix, worker_factory, tmp_path
):
    specs = _topics(kafka, topic_prefix)
    worker = worker_factory()
    messages = demo_claims()
    produced = _produce(kafka, specs["submitted"].name, tmp_path, messages)
    collected = _outputs(kafka, specs, produced.count)
    assert len(collected.records) == len(messages) == 200

    # Clean and risk: every claim once, keyed by claim_id, on the topic of its route, with
    # what `scrub` says of it. Claims of one patient sent together may reach the edit agent
    # in either order (claims.submitted is keyed by claim id), so the history edits may
    # land on either claim of a pair: they are compared apart.
    history = InMemoryHistory()
    offline = {}
    for n, raw in enumerate(messages):
        outcome = sample_scrubber().scrub(raw, source=Source("file", 0, n), history=history)
        if not isinstance(outcome, DeadLetter):
            offline[outcome.event_id] = outcome
    routed = [r for r in collected.records if r.topic != specs["dlq"].name]
    assert Counter(orjson.loads(r.value)["claim_id"] for r in routed) == Counter(
        o.claim_id for o in offline.values()
    )
    history_edits = {"DUP-CLAIM", "DUP-SERVICE", "NCCI-PTP-CROSS", "MUE-CROSS"}
    for record in routed:
        result = orjson.loads(record.value)
        expected = offline[result["event_id"]]  # same content, releases, rule set: same id
        assert record.key == result["claim_id"].encode()
        assert record.topic == specs[result["route"]].name
        streamed = [f["edit_id"] for f in result["findings"]]
        scrubbed = [f.edit_id for f in expected.findings]
        assert [e for e in streamed if e not in history_edits] == [
            e for e in scrubbed if e not in history_edits
        ]
        if not history_edits & (set(streamed) | set(scrubbed)):
            assert result["route"] == expected.route

    # Dead letters: the original bytes, byte for byte, and where they were read.
    letters = [orjson.loads(r.value) for r in collected.by_topic(specs["dlq"].name)]
    unreadable = [m for m in messages if isinstance(sample_scrubber().scrub(m), DeadLetter)]
    assert sorted(base64.b64decode(d["original"]) for d in letters) == sorted(unreadable)
    for letter in letters:
        source = letter["source"]
        assert source["topic"] == specs["submitted"].name
        assert (source["partition"], source["offset"]) in produced.timestamps_by_position
    assert worker.process.poll() is None, "the worker must survive unreadable messages"


def test_metrics_count_what_went_through(kafka, topic_prefix, worker_factory, tmp_path):
    specs = _topics(kafka, topic_prefix)
    worker = worker_factory()
    produced = _produce(kafka, specs["submitted"].name, tmp_path, demo_claims())
    _outputs(kafka, specs, produced.count)
    status, text = worker.get("/metrics")
    assert status == 200

    def total(name, **labels):
        out = 0.0
        for line in text.splitlines():
            if line.startswith((name + "{", name + " ")) and all(
                f'{k}="{v}"' in line for k, v in labels.items()
            ):
                out += float(line.rsplit(" ", 1)[1])
        return out

    assert total("claims_routed_total") == 200
    offline = [sample_scrubber().scrub(raw) for raw in demo_claims()]
    letters = sum(isinstance(o, DeadLetter) for o in offline)
    npi = sum(
        f.edit_id == "NPI-CHECK-DIGIT"
        for o in offline
        if not isinstance(o, DeadLetter)
        for f in o.findings
    )
    assert letters == 6 and npi > 0
    assert total("claims_routed_total", route="dead_letter") == letters
    assert total("claims_dead_letters_total") == letters
    assert total("claims_findings_total", edit_id="NPI-CHECK-DIGIT") == npi
    assert total("claims_end_to_end_latency_seconds_count") == 200 - letters
    assert total("claims_codeset_release_info", kind="hcpcs", release_id="2024-07") == 1
    # What each agent read: 200 submitted, and on claims.enriched every one with a patient
    # key (the others were dead-lettered at intake; schema errors are found on the edit hop).
    keyed = sum(
        not isinstance(sample_scrubber().patient_key(raw, key=None, source=Source()), DeadLetter)
        for raw in demo_claims()
    )
    assert 194 <= keyed < 200
    assert total("claims_messages_read_total", topic=specs["submitted"].name) == 200
    assert total("claims_messages_read_total", topic=specs["enriched"].name) == keyed
    assert total("claims_dead_letters_total", agent="intake") == 200 - keyed
    assert total("claims_dead_letters_total", agent="edits") == letters - (200 - keyed)
    # Lag per assigned partition of both input topics, down to 0 once the worker committed.
    inputs = (specs["submitted"].name, specs["enriched"].name)
    lag_lines = [line for line in text.splitlines() if line.startswith("claims_consumer_lag{")]
    assert {re.search(r'topic="([^"]+)"', line)[1] for line in lag_lines} >= set(inputs)
    deadline = time.monotonic() + 30
    while True:
        text = worker.get("/metrics")[1]
        lags = [total("claims_consumer_lag", topic=name) for name in inputs]
        if lags == [0, 0] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert lags == [0, 0]
    # No PHI in labels: no member id, birth date or claim id anywhere in the exposition.
    for raw in demo_claims()[:50]:
        try:
            claim = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(claim, dict) and isinstance(claim.get("patient"), dict):
            assert claim["patient"]["member_id"] not in text
            assert claim["claim_id"] not in text


def test_every_metric_the_alerts_and_dashboard_use_is_exported(
    kafka, topic_prefix, worker_factory, tmp_path
):
    specs = _topics(kafka, topic_prefix)
    worker = worker_factory()
    produced = _produce(kafka, specs["submitted"].name, tmp_path, demo_claims()[:20])
    _outputs(kafka, specs, produced.count)
    text = worker.get("/metrics")[1]
    exported = set(re.findall(r"^# TYPE (\S+) (\S+)", text, re.M))
    names = set()
    for name, kind in exported:
        names.add(name)
        if kind == "counter":
            names.add(name + "_total")
        if kind == "histogram":
            names |= {name + "_bucket", name + "_count", name + "_sum"}
    sources = (REPO / "ops/prometheus/alerts.yml").read_text() + (
        REPO / "ops/grafana/dashboards/claims-processor.json"
    ).read_text()
    used = set(re.findall(r"\b((?:claims|faust)_[a-z_]+)\b", sources))
    assert used and used <= names, used - names


def test_health_and_ready(kafka, topic_prefix, worker_factory):
    worker = worker_factory()
    status, body = worker.get("/health")
    assert status == 200 and orjson.loads(body)["status"] == "ok"
    status, body = worker.get("/ready")
    ready = orjson.loads(body)
    assert (
        status == 200 and ready["ready"] is True and ready["assigned_partitions"] == 12 + 12 + 12
    )  # submitted, enriched, history changelog
    assert ready["codeset_releases"] == 12  # the sample releases, the MCE among them


def test_a_restarted_worker_loses_nothing(kafka, topic_prefix, worker_factory, tmp_path):
    """At-least-once across a stop: every claim comes out, duplicates share an event_id."""
    specs = _topics(kafka, topic_prefix)
    messages, seen = [], set()
    for raw in demo_claims():  # readable claims, one message per claim id
        if raw.startswith(b'{"schema_version') and orjson.loads(raw)["claim_id"] not in seen:
            seen.add(orjson.loads(raw)["claim_id"])
            messages.append(raw)
    first = worker_factory()
    _produce(kafka, specs["submitted"].name, tmp_path, messages[:100])
    _outputs(kafka, specs, 60, timeout=60)
    assert first.stop() == 0, first.log_tail()  # SIGTERM: a clean shutdown
    worker_factory()
    (tmp_path / "more").mkdir()
    _produce(kafka, specs["submitted"].name, tmp_path / "more", messages[100:])
    collected = _outputs(kafka, specs, len(messages))
    by_claim: dict[str, set[str]] = {}
    for record in collected.records:
        result = orjson.loads(record.value)
        assert "claim_id" in result, result  # a dead letter: every message is readable
        by_claim.setdefault(result["claim_id"], set()).add(result["event_id"])
    expected_ids = {orjson.loads(m)["claim_id"] for m in messages}
    assert set(by_claim) == expected_ids
    assert all(len(ids) == 1 for ids in by_claim.values())


def test_topics_apply_is_idempotent_and_list_shows_drift(kafka, topic_prefix, capsys, monkeypatch):
    from processor.cli import main

    monkeypatch.setenv("CLAIMS_KAFKA_BOOTSTRAP", kafka)
    monkeypatch.setenv("CLAIMS_TOPIC_PREFIX", topic_prefix)
    assert main(["topics", "list", "--check"]) == 1
    assert "missing" in capsys.readouterr().out
    assert main(["topics", "apply"]) == 0
    assert capsys.readouterr().out.count("created") == 6
    assert main(["topics", "apply"]) == 0
    assert capsys.readouterr().out.count("unchanged") == 6
    assert main(["topics", "list", "--check"]) == 0
    listing = capsys.readouterr().out
    assert f"{topic_prefix}claims.dlq" in listing and "2592000000" in listing


def test_topics_apply_adds_partitions_and_fixes_configs(kafka, topic_prefix):
    settings = load_settings(kafka_bootstrap=kafka, topic_prefix=topic_prefix)
    specs = load_topics(settings)
    from dataclasses import replace

    small = [
        replace(s, partitions=1, retention_ms=1000) if s.role == "dlq" else s
        for s in specs.values()
    ]
    asyncio.run(apply(settings, small))
    actions = dict(asyncio.run(apply(settings, list(specs.values()))))
    assert actions[specs["dlq"].name] == "partitions 1 -> 3; configs updated"


def test_history_edits_on_the_broker_survive_a_worker_restart(
    kafka, topic_prefix, worker_factory, tmp_path
):
    """Original, duplicate, replacement and void through the worker; the history lives in a
    faust table whose changelog lets the next worker recover it. claims.submitted is keyed
    by claim id, so claims sent together may be routed in either order: each step waits for
    the previous claim's result, as a billing system's corrections follow its claims."""
    from tests.edits.test_cross_claim import _claim, _line

    specs = _topics(kafka, topic_prefix)
    sent = 0

    def step(claim):
        nonlocal sent
        sent += 1
        folder = tmp_path / str(sent)
        folder.mkdir()
        _produce(kafka, specs["submitted"].name, folder, [orjson.dumps(claim)])
        return _outputs(kafka, specs, sent)

    first = worker_factory()
    step(_claim("H-1", _line("99213")))
    step(_claim("H-2", _line("99213"), frequency_code="7", original_claim_id="H-1"))
    assert first.stop() == 0
    worker_factory()  # recovers the history table from its changelog
    step(_claim("H-1", _line("99213")))  # sent again: a duplicate claim
    step(_claim("H-3", _line("99213")))  # the service H-2 (the replacement) holds
    collected = step(_claim("H-4", _line("99213"), frequency_code="8", original_claim_id="H-2"))
    findings: dict[str, list[set[str]]] = {}
    for record in collected.records:
        result = orjson.loads(record.value)
        findings.setdefault(result["claim_id"], []).append(
            {f["edit_id"] for f in result["findings"]}
        )
    assert findings["H-2"] == [set()]
    # H-1 again: its id was seen as an original (even though H-2 replaced it), and its
    # service is the one H-2 holds.
    assert sorted(map(sorted, findings["H-1"])) == [[], ["DUP-CLAIM", "DUP-SERVICE"]]
    assert findings["H-3"] == [{"DUP-SERVICE"}]
    assert findings["H-4"] == [set()]

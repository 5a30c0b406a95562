"""The history's changelog written by the edit hop, with the RocksDB store: the store holds
the history, the changelog record goes to the input's partition, and the store remembers
the changelog offset it holds (so that a restart replays only what is past it)."""

import asyncio
from collections import namedtuple

import orjson
from faust.types import TP

from processor.settings import load_settings
from processor.stream.app import create_app
from processor.stream.topics import load_topics
from tests.factories import claim_dict, sample_scrubber
from tests.stream.test_agents import _put_enriched

Stored = namedtuple("Stored", "topic partition offset")  # as aiokafka's RecordMetadata


def _rocksdb_app(tmp_path):
    settings = load_settings(
        web_enabled=False, app_id="changelog-tests", table_store="rocksdb", data_dir=tmp_path
    )
    built = create_app(settings, sample_scrubber(), load_topics(settings), watch_releases=False)
    app = built.app
    app.loop = asyncio.get_running_loop()
    app.finalize()
    app.flow_control.resume()
    sent = []

    async def transmit(topic, key, value, headers, partition=None):
        sent.append((topic, partition, key, value))
        stored = asyncio.get_running_loop().create_future()
        stored.set_result(Stored(topic, partition or 0, 100 + len(sent)))
        return stored

    for outbox in built.outboxes.values():
        outbox.transmit = transmit
    return built, sent


async def _until(sent, count):
    deadline = asyncio.get_running_loop().time() + 10
    while len(sent) < count:
        assert asyncio.get_running_loop().time() < deadline, sent
        await asyncio.sleep(0.01)


async def test_rocksdb_store_holds_the_history_and_the_changelog_offset(tmp_path):
    built, sent = _rocksdb_app(tmp_path)
    table = built.app.tables["patient-history"]
    async with built.edits.test_context() as agent:
        await _put_enriched(agent, claim_dict(claim_id="R-1"), offset=1)
        await _until(sent, 2)
    [(topic, partition, key, value)] = [s for s in sent if s[1] is not None]
    assert (topic, partition) == (table.changelog_topic_name, 0)
    assert orjson.loads(key) == "MCR-J15|SYN100000001"
    assert list(orjson.loads(value)["claims"]) == ["R-1"]
    # the store has it under the same key and partition as faust's recovery would put it
    assert orjson.loads(table.data._db_for_partition(0).get(key)) == orjson.loads(value)
    changelog = TP(table.changelog_topic_name, 0)
    assert table.data.persisted_offset(changelog) is None
    # the offset the broker stored it at is written with the next batch's history
    other = claim_dict(claim_id="R-2")
    other["patient"]["member_id"] = "SYN200000002"
    async with built.edits.test_context() as agent:
        await _put_enriched(agent, other, offset=2)
        await _until(sent, 4)
    assert table.data.persisted_offset(changelog) == 102


async def test_claims_of_a_batch_see_the_history_written_before_them_in_it(tmp_path):
    """The store is written when the batch is delivered; until then a claim reads what
    earlier claims of its batch wrote for the patient."""
    built, sent = _rocksdb_app(tmp_path)
    table = built.app.tables["patient-history"]
    first = claim_dict(claim_id="R-1")
    again = claim_dict(claim_id="R-1")
    again["lines"][0]["charge"] = "190.00"  # a new message, not a redelivery
    async with built.edits.test_context() as agent:
        await _put_enriched(agent, first, offset=1, wait=False)
        await _put_enriched(agent, claim_dict(claim_id="R-2"), offset=2, wait=False)
        await _put_enriched(agent, again, offset=3, wait=False)
        await _until(sent, 4)
        await asyncio.sleep(0.1)
    outputs = [orjson.loads(v) for _, partition, _, v in sent if partition is None]
    changelog = [(k, v) for _, partition, k, v in sent if partition is not None]
    assert [o["claim_id"] for o in outputs] == ["R-1", "R-2", "R-1"]
    # the claim sent again saw the first in the history, whichever batch each was in
    assert "DUP-CLAIM" in [f["edit_id"] for f in outputs[2]["findings"]]
    key, newest = changelog[-1]
    assert orjson.loads(key) == "MCR-J15|SYN100000001"
    assert sorted(orjson.loads(newest)["claims"]) == ["R-1", "R-2"]
    # the store holds the newest value, as the changelog does
    assert table.data._db_for_partition(0).get(key) == newest

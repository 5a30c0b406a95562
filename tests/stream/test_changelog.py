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


async def test_rocksdb_store_holds_the_history_and_the_changelog_offset(tmp_path):
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
    table = app.tables["patient-history"]
    async with built.edits.test_context() as agent:
        await _put_enriched(agent, claim_dict(claim_id="R-1"), offset=1)
        deadline = asyncio.get_running_loop().time() + 10
        while len(sent) < 2:
            assert asyncio.get_running_loop().time() < deadline, sent
            await asyncio.sleep(0.01)
    [(topic, partition, key, value)] = [s for s in sent if s[1] is not None]
    assert (topic, partition) == (table.changelog_topic_name, 0)
    assert orjson.loads(key) == "MCR-J15|SYN100000001"
    assert list(orjson.loads(value)["claims"]) == ["R-1"]
    # the store has it under the same key and partition as faust's recovery would put it
    assert orjson.loads(table.data._db_for_partition(0).get(key)) == orjson.loads(value)
    assert table.data.persisted_offset(TP(table.changelog_topic_name, 0)) == 102

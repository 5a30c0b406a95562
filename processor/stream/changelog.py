"""The worker's claim history: a faust table whose changelog records the worker writes itself,
once per batch, alongside the batch's outputs.

faust's own table write (`table[key] = value`) encodes the value twice (for the store and
for the changelog), goes through the table's sensors and its changelog buffer, and produces
one changelog record per claim outside the batch's deliveries. Here a write keeps the
value until the batch is delivered (a later claim of the batch reads it from there): the
outbox's `delivered` first writes the newest value of each patient written in the batch
into the local store (with RocksDB, one write batch per partition, as faust's recovery
writes them) and sends it (one record per patient and batch, in faust's changelog format:
JSON key and value, on the changelog partition of the input partition the claim came
from), and waits for them with the batch's outputs. So a batch is acknowledged only once
the history it wrote is stored, and faust's table recovery (a restart, a rebalance) reads
these records as its own.

A RocksDB store holds a changelog record's bytes as they are (faust's recovery writes them
so): the document is encoded once per claim (orjson, as faust's JSON codec does) and the
same bytes go to the store and to the changelog, and a read decodes the stored bytes,
without faust's codec registry on either way. The offset each store holds of its changelog
partition (faust replays only the changelog past it after a restart) is written, once the
broker stored the records, into the next batch's write batch (a RocksDB store) or once per
partition for the records stored together (another store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import orjson
from faust.stores import rocksdb as faust_rocksdb
from faust.stores.base import SerializedStore
from faust.stores.rocksdb import Store as RocksDBStore
from faust.streams import current_event
from faust.types import TP

from processor.history import ClaimRecord, DocumentHistory, decode, encode
from processor.stream.delivery import Outbox


class ChangelogHistory(DocumentHistory):
    """A `HistoryStore` over a faust table (`table.data`, its local store), with the
    changelog written per batch through an `Outbox`."""

    def __init__(self, table: Any, outbox: Outbox) -> None:
        self._table = table
        self._outbox = outbox
        # key → what the batch wrote for the patient: (changelog partition, key bytes, value
        # bytes, the decoded records or None), stored and sent when the batch is delivered
        self._written: dict[str, _Written] = {}
        # changelog partition → newest offset stored by the broker, not yet noted in the store
        self._stored: dict[TP, int] = {}
        outbox.before_delivered.append(self.flush)

    def _bytes_store(self) -> SerializedStore | None:
        store = self._table.data  # set once the table started
        return store if isinstance(store, SerializedStore) else None

    def get(self, key: str) -> dict[str, Any] | None:
        written = self._written.get(key)
        if written is not None:
            return orjson.loads(written[2])
        store = self._bytes_store()
        if store is None:
            value = self._table.data.get(key)
        else:
            data = store._get(orjson.dumps(key))
            value = orjson.loads(data) if data is not None else None
        return value if isinstance(value, dict) else None

    def records(self, key: str) -> dict[str, ClaimRecord]:
        """The patient's claims (not to be changed: `updated` makes a new dict); those the
        batch wrote as they were written, not decoded again."""
        written = self._written.get(key)
        if written is not None and written[3] is not None:
            return written[3]
        return decode(self.get(key))

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._write(key, value, None)

    def put_records(self, key: str, claims: dict[str, ClaimRecord]) -> None:
        self._write(key, encode(claims), claims)

    def _write(
        self, key: str, value: dict[str, Any], claims: dict[str, ClaimRecord] | None
    ) -> None:
        event = current_event()
        if event is None:
            raise RuntimeError("history written outside a claim's event")
        key_bytes, value_bytes = orjson.dumps(key), orjson.dumps(value)
        store = self._table.data
        if not isinstance(store, RocksDBStore):  # stored now; RocksDB's when delivered
            if isinstance(store, SerializedStore):
                store._set(key_bytes, value_bytes)  # the partition read from the event
            else:
                store[key] = value
        self._written[key] = (event.message.partition, key_bytes, value_bytes, claims)

    async def flush(self) -> None:
        """Store the batch's history (with RocksDB, one write per partition, with the
        changelog offsets stored since the last batch) and send its changelog records: the
        newest value per patient."""
        store = self._table.data
        if isinstance(store, RocksDBStore) and (self._written or self._stored):
            stored, self._stored = self._stored, {}
            _store_together(store, self._written.values(), stored)
        if not self._written:
            return
        written, self._written = self._written, {}
        topic = self._table.changelog_topic_name
        deliveries: dict[int, Any] = {}  # records sent in one record batch share its delivery
        for partition, key_bytes, value_bytes, _ in written.values():
            delivery = await self._outbox.send_record(
                topic, key_bytes, value_bytes, partition=partition
            )
            deliveries[id(delivery)] = delivery
        for delivery in deliveries.values():
            asyncio.ensure_future(delivery).add_done_callback(self._persisted)

    def _persisted(self, delivery: Any) -> None:
        if delivery.cancelled() or delivery.exception() is not None:
            return
        meta = delivery.result()
        if getattr(meta, "offset", None) is not None:
            tp = TP(meta.topic, meta.partition)
            # RocksDB's: written with the next batch's history; another store's: noted once
            # for the records whose deliveries completed together
            if not self._stored and not isinstance(self._table.data, RocksDBStore):
                asyncio.get_running_loop().call_soon(self._note_stored)
            self._stored[tp] = max(meta.offset, self._stored.get(tp, -1))

    def _note_stored(self) -> None:
        # As faust does for its own changelog writes: the store keeps the offset it holds,
        # so that a restart replays only the changelog past it.
        if self._stored:
            stored, self._stored = self._stored, {}
            for tp, offset in stored.items():
                self._table.data.set_persisted_offset(tp, offset)


_Written = tuple[int, bytes, bytes, "dict[str, ClaimRecord] | None"]


def _store_together(
    store: RocksDBStore, written: Iterable[_Written], stored: dict[TP, int]
) -> None:
    """The values into the store's database of each partition, one write batch each (as
    faust's recovery writes them), with the changelog offsets stored by the broker since
    the last batch (what faust's `set_persisted_offset` writes: after a restart the store
    replays only the changelog past it). A write per claim cost about 10 us of a worker's
    CPU (RocksDB's write-ahead log appended and the memtable updated every time, and
    faust's key index), and a write per partition for each delivery's offsets about 2 us
    a claim; one batch per partition and delivery, about 1.5 us a value."""
    batches: dict[int, Any] = {}
    for partition, key_bytes, value_bytes, _ in written:
        batch = batches.get(partition)
        if batch is None:
            batch = batches[partition] = _write_batch(store)
        batch.put(key_bytes, value_bytes)
    for tp, offset in stored.items():
        if tp.partition not in batches and tp.partition not in store._dbs:
            continue  # revoked since: not opened again for an offset (a restart replays more)
        batch = batches.get(tp.partition)
        if batch is None:
            batch = batches[tp.partition] = _write_batch(store)
        batch.put(store.offset_key, str(offset).encode())
    for partition, batch in batches.items():
        store._db_for_partition(partition).write(batch)


def _write_batch(store: RocksDBStore) -> Any:
    if store.use_rocksdict:
        return faust_rocksdb.rocksdict.WriteBatch(raw_mode=True)
    return faust_rocksdb.rocksdb.WriteBatch()  # python-rocksdb, where faust was set to it

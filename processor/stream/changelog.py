"""The worker's claim history: a faust table whose changelog records the worker writes itself,
once per batch, alongside the batch's outputs.

faust's own table write (`table[key] = value`) encodes the value twice (for the store and
for the changelog), goes through the table's sensors and its changelog buffer, and produces
one changelog record per claim outside the batch's deliveries. Here a write updates the
table's local store directly and keeps the value until the batch is delivered: the
outbox's `delivered` first sends the newest value of each patient written in the batch
(one record per patient and batch, in faust's changelog format: JSON key and value, on the
changelog partition of the input partition the claim came from) and waits for them with
the batch's outputs. So a batch is acknowledged only once the history it wrote is stored,
and faust's table recovery (a restart, a rebalance) reads these records as its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from faust.streams import current_event
from faust.types import TP

from processor.history import DocumentHistory
from processor.stream.delivery import Outbox


class ChangelogHistory(DocumentHistory):
    """A `HistoryStore` over a faust table (`table.data`, its local store), with the
    changelog written per batch through an `Outbox`."""

    def __init__(self, table: Any, outbox: Outbox) -> None:
        self._table = table
        self._outbox = outbox
        # key → (changelog partition, value) written in this batch, not yet sent
        self._written: dict[str, tuple[int, dict[str, Any]]] = {}
        outbox.before_delivered.append(self.flush)

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._table.data.get(key)
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        event = current_event()
        if event is None:
            raise RuntimeError("history written outside a claim's event")
        self._table.data[key] = value  # the local store reads the partition from the event
        self._written[key] = (event.message.partition, value)

    async def flush(self) -> None:
        """Send the batch's history records (the newest value per patient)."""
        if not self._written:
            return
        written, self._written = self._written, {}
        topic = self._table.changelog_topic_name
        for key, (partition, value) in written.items():
            delivery = await self._outbox.send_record(
                topic, orjson.dumps(key), orjson.dumps(value), partition=partition
            )
            asyncio.ensure_future(delivery).add_done_callback(self._persisted)

    def _persisted(self, delivery: Any) -> None:
        # As faust does for its own changelog writes: a RocksDB store keeps the offset it
        # holds, so that a restart replays only the changelog past it.
        if delivery.cancelled() or delivery.exception() is not None:
            return
        meta = delivery.result()
        if meta is not None and hasattr(meta, "offset"):
            self._table.data.set_persisted_offset(TP(meta.topic, meta.partition), meta.offset)

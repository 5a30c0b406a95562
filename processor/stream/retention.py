"""The retention sweep of the patient-history table: patients who sent no claim for longer
than the retention are removed, with a tombstone in the table's changelog.

`processor.history.updated` bounds each patient's record when one of their claims comes in;
a patient who sends no further claim would keep their last record for ever (in the local
store and in the compacted changelog). Once a day (CLAIMS_HISTORY_SWEEP_HOURS) each worker
goes through the patients of the history partitions it is active for and deletes those
whose newest date of service is more than CLAIMS_HISTORY_RETENTION_DAYS before today:
the local entry and, with a tombstone, the changelog's (compaction then drops the key).

The check and the delete of one patient run without yielding to the event loop, so a claim
of that patient handled at the same time is either in the record checked (not idle, kept)
or comes after the delete (a new record). The sweep yields every few hundred patients, so
that claims keep flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from processor.history import idle
from processor.stream.murmur import key_partition

log = logging.getLogger("processor.worker")


def patient_partition(key: str, partitions: int) -> int:
    """The claims.enriched (and history changelog) partition of a patient key, as the
    producer's default partitioner chose it for the intake hop's message key."""
    return key_partition(key.encode("utf-8", "surrogatepass"), partitions)


async def sweep_idle_patients(
    table: Any,
    *,
    partitions: int,
    active: Callable[[int], bool],
    today: date,
    retention_days: int,
    pause_every: int = 500,
) -> int:
    """Delete the idle patients of the partitions `active` accepts; returns how many."""
    removed = 0
    for n, key in enumerate(list(table.data.keys())):
        if n % pause_every == pause_every - 1:
            await asyncio.sleep(0)
        if not isinstance(key, str):
            continue
        partition = patient_partition(key, partitions)
        if not active(partition):
            continue
        document = table.data.get(key)
        if isinstance(document, dict) and idle(document, today, retention_days):
            table.send_changelog(partition, key, value=None, value_serializer="raw")
            del table.data[key]
            removed += 1
    return removed

"""The retention sweep of the history table: a patient with no date of service within the
retention before today is removed, locally and with a tombstone in the changelog partition
the patient's claims go to; others, and patients of partitions this worker is not active
for, are kept."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import faust
from aiokafka.partitioner import DefaultPartitioner

from processor.history import idle
from processor.settings import load_settings
from processor.stream.delivery import faust_app
from processor.stream.retention import patient_partition, sweep_idle_patients

TODAY = date(2026, 11, 22)


def history(*last_dates: str | None) -> dict[str, Any]:
    return {
        "claims": {
            f"C{n}": {"frequency": "1", "source": "t/0/0", "lines": [], "last_service_date": d}
            for n, d in enumerate(last_dates)
        }
    }


def test_a_patient_is_idle_when_the_newest_date_of_service_is_older_than_the_retention():
    assert idle(history("2025-10-17", "2024-01-01"), TODAY, 400)  # 401 days before
    assert not idle(history("2025-10-18", "2024-01-01"), TODAY, 400)  # 400 days: kept
    assert not idle(history("2024-01-01", "2026-11-01"), TODAY, 400)  # any recent claim
    assert not idle(history(None), TODAY, 400)  # nothing dated: kept
    assert not idle(None, TODAY, 400)


def test_the_partition_is_the_one_the_producer_chose_for_the_patient_key():
    partitioner = DefaultPartitioner()
    for key in ("P1|SYN0001", "payer|ñandú", "x" * 40):
        assert patient_partition(key, 12) == partitioner(key.encode(), list(range(12)), [])


async def test_idle_patients_of_active_partitions_are_removed_with_a_tombstone(
    tmp_path: Path,
) -> None:
    app = faust_app(
        load_settings(kafka_bootstrap="127.0.0.1:1", web_enabled=False, data_dir=tmp_path)
    )
    app.loop = asyncio.get_running_loop()
    app.finalize()
    app.conf.store = "memory://"
    table = app.Table(
        "patient-history",
        default=None,
        partitions=12,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
    keys = [f"P|M{n}" for n in range(40)]
    for n, key in enumerate(keys):
        table.data[key] = history("2024-01-01" if n % 2 else "2026-10-01")
    sent: list[tuple[int | None, Any, Any, Any]] = []

    def send_changelog(partition, key, value, key_serializer=None, value_serializer=None):  # type: ignore[no-untyped-def]
        sent.append((partition, key, value, value_serializer))

    table.send_changelog = send_changelog  # type: ignore[method-assign]
    active = {patient_partition(keys[1], 12), patient_partition(keys[3], 12)}
    removed = await sweep_idle_patients(
        table,
        partitions=12,
        active=lambda p: p in active,
        today=TODAY,
        retention_days=400,
        pause_every=7,
    )
    gone = [k for n, k in enumerate(keys) if n % 2 and patient_partition(k, 12) in active]
    assert removed == len(gone) >= 2
    assert sorted(sent) == sorted((patient_partition(k, 12), k, None, "raw") for k in gone)
    assert set(table.data.keys()) == set(keys) - set(gone)

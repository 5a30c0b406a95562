"""Code-set releases without downtime: `codesets publish` announces each release of a store
on the compacted codesets.releases topic; every worker reads the whole topic (no consumer
group: each worker needs every release) and swaps its code sets in place.

A release message names the store (a path every worker can read, such as a shared volume)
and the release's file and checksum; the worker verifies the checksum before it uses it.
Claims are judged by the release in force on each line's date of service, so a release
published ahead of its effective date changes nothing until claims of that date arrive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor.codesets.model import CodeSetRelease
from processor.codesets.store_files import StoreError, load_release, read_manifest
from processor.collector import collector_paused
from processor.settings import Settings
from processor.stream.topics import load_topics

log = logging.getLogger("processor.codesets")


def release_message(store: Path, entry: dict[str, Any]) -> tuple[bytes, bytes]:
    key = f"{entry['kind']}:{entry['release_id']}".encode()
    value = {**entry, "store": str(store.resolve()), "published_at": datetime.now(UTC).isoformat()}
    return key, orjson.dumps(value)


async def publish_store(settings: Settings, store: Path) -> list[str]:
    manifest = read_manifest(store)
    topic = load_topics(settings)["codeset_releases"].name
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=1 << 20,
    )
    try:
        await producer.start()
    except Exception:
        await producer.stop()
        raise
    published = []
    try:
        for entry in manifest["releases"]:
            key, value = release_message(store, entry)
            await producer.send_and_wait(topic, value, key=key)
            published.append(
                f"published {entry['kind']} {entry['release_id']} "
                f"(from {entry['effective_start']}) to {topic}"
            )
    finally:
        await producer.stop()
    return published


class ReleaseWatcher:
    """Reads codesets.releases from the beginning and keeps reading; calls `apply` with each
    release it loads. `caught_up` is set once the topic's end at start has been reached."""

    def __init__(self, settings: Settings, apply: Callable[[CodeSetRelease], None]) -> None:
        self.settings = settings
        self.apply = apply
        self.topic = load_topics(settings)["codeset_releases"].name
        self.caught_up = asyncio.Event()
        self.loaded: dict[str, str] = {}  # key -> sha256 of the release in use
        self.failures = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(self.topic, p)
                for p in sorted(consumer.partitions_for_topic(self.topic) or {0})
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            if all(offset == 0 for offset in ends.values()):
                self.caught_up.set()
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        self._handle(record.key, record.value)
                if not self.caught_up.is_set():
                    positions = [await consumer.position(tp) for tp in partitions]
                    if all(p >= ends[tp] for p, tp in zip(positions, partitions, strict=True)):
                        self.caught_up.set()
                        log.info(
                            "code-set releases topic read: %d releases applied", len(self.loaded)
                        )
        finally:
            await consumer.stop()

    def _handle(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return  # a tombstone: releases are never withdrawn from a running worker
        try:
            entry = orjson.loads(value)
            if self.loaded.get(f"{entry['kind']}:{entry['release_id']}") == entry["sha256"]:
                return
            with collector_paused():
                release = load_release(Path(entry["store"]), entry)
        except (StoreError, KeyError, TypeError, ValueError, OSError) as exc:
            # A release a worker cannot read is skipped, loudly; the others stay in use.
            self.failures += 1
            log.error(
                "code-set release %s not loaded: %s", (key or b"?").decode(errors="replace"), exc
            )
            return
        self.apply(release)
        self.loaded[f"{entry['kind']}:{entry['release_id']}"] = entry["sha256"]
        log.info(
            "code-set release %s %s in use (from %s, %d entries)",
            release.info.kind,
            release.info.release_id,
            release.info.effective_start,
            len(release),
        )

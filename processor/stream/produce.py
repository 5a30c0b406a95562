"""`claims-processor produce`: publish a JSON Lines file to the input topic, byte for byte."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer


@dataclass
class Produced:
    count: int
    skipped_blank: int
    seconds: float
    # (partition, offset) -> record timestamp (ms), and claim key -> timestamp
    timestamps_by_position: dict[tuple[int, int], int]
    timestamps_by_key: dict[str, int]
    first_send: float  # time.time() when the first message was sent


def claim_key(raw: bytes) -> bytes | None:
    """The claim_id as the message key; None for a line that is not a claim object."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(document, dict) and isinstance(document.get("claim_id"), str):
        return str(document["claim_id"]).encode()
    return None


async def produce_file(
    bootstrap: str,
    topic: str,
    path: Path,
    *,
    rate: float | None = None,
    messages: list[bytes] | None = None,
) -> Produced:
    """Publish the file's lines, or `messages` read from it (claim events of an 837P)."""
    if messages is None:
        lines = [line.rstrip(b"\r\n") for line in path.read_bytes().splitlines()]
        messages = [line for line in lines if line.strip()]
    else:
        lines = messages
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=True
    )
    try:
        await producer.start()
    except Exception:
        await producer.stop()  # release the half-open client before reporting
        raise
    started = time.perf_counter()
    first_send = time.time()
    futures = []
    try:
        for index, raw in enumerate(messages):
            if rate:
                # Pace against the schedule, not the previous send, so the rate holds.
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            key = claim_key(raw)
            futures.append((key, await producer.send(topic, raw, key=key)))
        await producer.flush()
        by_position: dict[tuple[int, int], int] = {}
        by_key: dict[str, int] = {}
        for key, future in futures:
            metadata = await future
            by_position[(metadata.partition, metadata.offset)] = metadata.timestamp
            if key is not None:
                by_key[key.decode()] = metadata.timestamp
    finally:
        await producer.stop()
    return Produced(
        len(messages),
        len(lines) - len(messages),
        time.perf_counter() - started,
        by_position,
        by_key,
        first_send,
    )

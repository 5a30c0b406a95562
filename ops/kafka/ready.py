"""Readiness probe for the local broker: ready means a client can create a topic and
produce to it. An open port is not enough (the broker accepts connections before it is
unfenced). Exits 0 when ready, 1 on timeout or when the broker process has died."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _probe(bootstrap: str) -> None:
    topic = f"__ready-{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"ready")
        finally:
            await producer.stop()
        await admin.delete_topics([topic])
    finally:
        await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--pid", type=int, default=None)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    last_error = ""
    while time.monotonic() < deadline:
        if not _alive(args.pid):
            print(f"ready.py: broker process {args.pid} exited", file=sys.stderr)
            return 1
        try:
            asyncio.run(asyncio.wait_for(_probe(args.bootstrap), timeout=10))
            return 0
        except Exception as exc:  # any failure means "not yet"; the deadline bounds it
            last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.3)
    print(f"ready.py: not ready after {args.timeout}s ({last_error})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

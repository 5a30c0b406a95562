"""How fast a worker is back with a large patient history, and what that history costs in
memory: `python -m processor.devtools.recovery --patients 100000 [--store rocksdb|memory]`.

On a local broker it writes a history record for each of N patients straight into the
history table's changelog (as the worker would have), then starts a worker three times on
the same state directory and, each time, sends one claim and times its result from the
process start: the first start recovers the whole changelog, the second after a SIGTERM
(RocksDB: from local state plus the changelog's tail), the third after a SIGKILL. Prints
the seconds, the worker's resident memory after recovery, and the state directory's size.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from processor.devtools.local_stack import (
    LocalKafka,
    WorkerProcess,
    collect,
    free_port,
    worker_settings,
)
from processor.devtools.samples import demo_claims
from processor.settings import load_settings
from processor.stream.topics import apply, load_topics

PARTITIONS = 12


def history_document(n: int) -> dict[str, object]:
    lines = [["2024-11-18", "99213", [], "1", "1234567893"], ["2024-11-18", "85025", [], "1", ""]]
    return {
        "claims": {
            f"P{n}-{k}": {
                "frequency": "1",
                "source": f"claims.submitted/{n % PARTITIONS}/{n * 3 + k}",
                "status": "active",
                "last_service_date": "2024-11-18",
                "lines": lines,
            }
            for k in range(3)
        }
    }


async def fill_changelog(bootstrap: str, topic: str, patients: int) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    try:
        pending = []
        for n in range(patients):
            key = orjson.dumps(f"MCR-J15|SYNR{n:09d}")
            pending.append(
                await producer.send(
                    topic, orjson.dumps(history_document(n)), key=key, partition=n % PARTITIONS
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def probe_claim(n: int) -> bytes:
    for raw in demo_claims():
        try:
            document = json.loads(raw)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("frequency_code") == "1":
            document["claim_id"] = f"PROBE-{n}"
            return orjson.dumps(document)
    raise RuntimeError("no claim to probe with")


async def send_probe(bootstrap: str, topic: str, n: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, probe_claim(n), key=f"PROBE-{n}".encode())
    finally:
        await producer.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1 << 20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--store", choices=("rocksdb", "memory"), default="rocksdb")
    parser.add_argument("--bootstrap", help="an existing broker (default: start a local one)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="claims-recovery-"))
    broker = None
    if args.bootstrap:
        bootstrap = args.bootstrap
    else:
        broker = LocalKafka.on_free_ports(folder / "kafka")
        broker.start()
        bootstrap = broker.bootstrap
    try:
        prefix = f"r{uuid.uuid4().hex[:8]}."
        app_id = f"recovery-{prefix.rstrip('.')}"
        settings = load_settings(kafka_bootstrap=bootstrap, topic_prefix=prefix)
        specs = load_topics(settings)
        asyncio.run(apply(settings, list(specs.values())))
        started = time.perf_counter()
        env = worker_settings(
            bootstrap,
            prefix,
            app_id,
            web_port=free_port(),
            log_level="WARNING",
            CLAIMS_DATA_DIR=str(folder / "state"),
            CLAIMS_TABLE_STORE=args.store,
        )
        # The first start creates the changelog topic; fill it while no worker runs.
        worker = WorkerProcess(env, folder / "worker-0.log")
        worker.start()
        worker.stop()
        changelog = f"{app_id}-patient-history-changelog"
        asyncio.run(fill_changelog(bootstrap, changelog, args.patients))
        print(
            f"history of {args.patients} patients written to {changelog} in "
            f"{time.perf_counter() - started:.1f}s; store {args.store}"
        )
        names = [specs["clean"].name, specs["risk"].name]
        for n, how in enumerate(
            ("first start (whole changelog)", "after SIGTERM", "after SIGKILL"), 1
        ):
            worker = WorkerProcess(env, folder / f"worker-{n}.log")
            began = time.perf_counter()
            worker.start(timeout=600)
            asyncio.run(send_probe(bootstrap, specs["submitted"].name, n))
            asyncio.run(collect(bootstrap, names, n, timeout=600))
            took = time.perf_counter() - began
            assert worker.process is not None
            print(
                f"  {how:32s} probe result {took:6.1f}s after the process started; "
                f"RSS {rss_mb(worker.process.pid):7.0f} MB; state dir "
                f"{du_mb(folder / 'state'):7.0f} MB"
            )
            if n == 2:
                worker.process.send_signal(signal.SIGKILL)
                worker.process.wait()
            else:
                worker.stop()
    finally:
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

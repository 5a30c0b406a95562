"""`claims-processor bench`: how many claims per second one machine takes, and how late a
result arrives. Prints figures; asserts nothing.

engine       the core alone (parse, enrich, every edit, route, serialise) on one core
e2e          through the local broker: N claims at full speed into claims.submitted, one
             worker process, first produce to last routed output; then at half that rate,
             latency from the input record's timestamp to the routed output's
passthrough  a plain aiokafka consume -> produce loop over the same messages and layout,
             no parsing: the Python Kafka client's ceiling here
faust relay  the worker's two agents, its faust settings and batching, with the scrubbing
             taken out (processor.stream.relay): the ceiling of faust's stream machinery
worker       the worker's peak resident memory
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from processor.codesets import load_codesets
from processor.devtools.generator import ClaimGenerator
from processor.devtools.local_stack import (
    LocalKafka,
    Output,
    WorkerProcess,
    collect,
    free_port,
    percentile,
    worker_settings,
)
from processor.history import InMemoryHistory
from processor.scrubber import Source, build_scrubber
from processor.settings import Settings
from processor.stream.produce import produce_file
from processor.stream.topics import Role, apply, load_topics
from processor.text_table import text_table


def bench_engine(settings: Settings, messages: list[bytes]) -> dict[str, Any]:
    scrubber = build_scrubber(settings)  # as the worker builds it
    history = InMemoryHistory()
    for raw in messages[:200]:  # warm-up
        scrubber.scrub(raw, source=Source("warm", 0, 0)).to_json()
    history = InMemoryHistory()
    started = time.perf_counter()
    for offset, raw in enumerate(messages):
        scrubber.scrub(raw, source=Source("bench", 0, offset), history=history).to_json()
    elapsed = time.perf_counter() - started
    return {
        "claims": len(messages),
        "seconds": round(elapsed, 3),
        "claims_per_s": round(len(messages) / elapsed, 1),
        "us_per_claim": round(elapsed / len(messages) * 1e6, 1),
    }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def _passthrough(
    bootstrap: str, source: str, target: str, count: int, timeout: float
) -> float:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"pass-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await consumer.start()
    await producer.start()
    moved, started = 0, None
    deadline = time.monotonic() + timeout
    try:
        while moved < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batch.values():
                for record in records:
                    if started is None:
                        started = time.perf_counter()
                    await producer.send(target, record.value, key=record.key)
                    moved += 1
            if batch:
                await consumer.commit()
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    return moved / (time.perf_counter() - (started or time.perf_counter())) if moved else 0.0


def _faust_relay(settings: Settings, bootstrap: str, folder: Path, count: int) -> float:
    """The messages of full.jsonl moved over two hops by the relay app: claims/s from its
    first output to its last (the input is all in the topic before the relay starts)."""
    stamps = [r.timestamp_ms for r in relay_outputs(settings, bootstrap, folder, count)]
    if len(stamps) < 2:
        return 0.0
    return len(stamps) / max(0.001, (max(stamps) - min(stamps)) / 1000)


def _fresh_topics(settings: Settings, bootstrap: str, name: str) -> tuple[str, dict[Role, Any]]:
    """The topic map under a new prefix, created on the broker: (prefix, specs)."""
    prefix = f"{name}-{uuid.uuid4().hex[:8]}."
    run = settings.model_copy(update={"kafka_bootstrap": bootstrap, "topic_prefix": prefix})
    specs = load_topics(run)
    asyncio.run(apply(run, list(specs.values())))
    return prefix, specs


def relay_outputs(settings: Settings, bootstrap: str, folder: Path, count: int) -> list[Output]:
    """Run the relay over the messages of `folder`/full.jsonl; what reached claims.clean."""
    prefix, specs = _fresh_topics(settings, bootstrap, "relay")
    asyncio.run(produce_file(bootstrap, specs["submitted"].name, folder / "full.jsonl"))
    env = {
        **os.environ,
        **worker_settings(bootstrap, prefix, f"relay-{uuid.uuid4().hex[:8]}", log_level="WARNING"),
    }
    with (folder / "relay.log").open("wb") as log:
        relay = subprocess.Popen(
            [sys.executable, "-m", "processor.stream.relay"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            got = asyncio.run(collect(bootstrap, [specs["clean"].name], count, timeout=600))
        finally:
            relay.terminate()
            try:
                relay.wait(30)
            except subprocess.TimeoutExpired:
                relay.kill()
    return got.records


def _write(messages: list[bytes], folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"".join(m + b"\n" for m in messages))
    return path


def _outputs(specs: dict[Role, Any]) -> list[str]:
    return [specs["clean"].name, specs["risk"].name, specs["dlq"].name]


def _full_speed(bootstrap: str, specs: dict[Role, Any], path: Path) -> dict[str, Any]:
    """Every message of `path` into the topic at once: claims/s from the first input to the
    last output."""
    produced = asyncio.run(produce_file(bootstrap, specs["submitted"].name, path))
    got = asyncio.run(collect(bootstrap, _outputs(specs), produced.count, timeout=600))
    first_in = min(produced.timestamps_by_position.values())
    last_out = max(r.timestamp_ms for r in got.records)
    rate = len(got.records) / max(0.001, (last_out - first_in) / 1000)
    return {"claims": produced.count, "routed": len(got.records), "claims_per_s": round(rate, 1)}


def _latency(
    bootstrap: str, specs: dict[Role, Any], path: Path, rate: float, before: int
) -> dict[str, Any]:
    """The messages of `path` at `rate`/s: latency from each input record's timestamp to its
    output's. `before` outputs are already in the output topics."""
    produced = asyncio.run(produce_file(bootstrap, specs["submitted"].name, path, rate=rate))
    got = asyncio.run(collect(bootstrap, _outputs(specs), before + produced.count, timeout=600))
    sent = produced.timestamps_by_key
    latencies = []
    for record in got.records:
        key = orjson.loads(record.value).get("claim_id")
        if key in sent:
            latencies.append(record.timestamp_ms - sent[key])
    return {
        "half_rate_per_s": round(rate, 1),
        "latency_claims": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def _worker_steps(
    settings: Settings,
    kafka: LocalKafka,
    folder: Path,
    messages: list[bytes],
    latency_messages: list[bytes],
) -> dict[str, Any]:
    """One worker: full speed, then half of that rate for latency; its peak memory."""
    prefix, specs = _fresh_topics(settings, kafka.bootstrap, "bench")
    env = worker_settings(
        kafka.bootstrap,
        prefix,
        f"bench-{uuid.uuid4().hex[:8]}",
        web_port=free_port(),
        log_level="WARNING",
    )
    if settings.codesets_dir:
        env["CLAIMS_CODESETS_DIR"] = str(settings.codesets_dir)
    worker = WorkerProcess(env, folder / "worker.log")
    worker.start(timeout=180)
    try:
        e2e = _full_speed(kafka.bootstrap, specs, _write(messages, folder, "full.jsonl"))
        half = max(1.0, e2e["claims_per_s"] / 2)
        half_path = _write(latency_messages, folder, "half.jsonl")
        e2e |= _latency(kafka.bootstrap, specs, half_path, half, before=e2e["routed"])
        assert worker.process is not None
        return {"e2e": e2e, "worker": {"rss_mb": _rss_mb(worker.process.pid)}}
    finally:
        worker.stop()


def bench_kafka(
    settings: Settings, messages: list[bytes], latency_messages: list[bytes]
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="claims-bench-"))
    kafka = LocalKafka(port=free_port(), run_dir=folder / "kafka")
    kafka.start()
    try:
        out: dict[str, Any] = {"kafka_ready_s": round(kafka.started_in, 1)}
        out |= _worker_steps(settings, kafka, folder, messages, latency_messages)
        # The client's ceiling: the same messages and topic layout, no parsing.
        _, pass_specs = _fresh_topics(settings, kafka.bootstrap, "pass")
        asyncio.run(
            produce_file(kafka.bootstrap, pass_specs["submitted"].name, folder / "full.jsonl")
        )
        rate = asyncio.run(
            _passthrough(
                kafka.bootstrap,
                pass_specs["submitted"].name,
                pass_specs["clean"].name,
                len(messages),
                300,
            )
        )
        out["passthrough"] = {"claims_per_s": round(rate, 1)}
        # faust's ceiling: the worker's agents and settings without the scrubbing.
        relay_rate = _faust_relay(settings, kafka.bootstrap, folder, len(messages))
        out["faust_relay"] = {"claims_per_s": round(relay_rate, 1)}
        return out
    finally:
        kafka.stop()


def run_bench(
    settings: Settings, claims: int, *, kafka: bool = True, seed: int = 7
) -> dict[str, Any]:
    # aiokafka logs every retry while fresh topics elect leaders; the figures are the output.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    codesets = load_codesets(settings.codesets_dir)
    generator = ClaimGenerator(codesets, seed=seed)
    messages = list(generator.messages(claims))
    latency = [
        m.replace(b'"GEN-', b'"LAT-')
        for m in ClaimGenerator(codesets, seed=seed + 1).messages(max(1000, claims // 4))
    ]
    result: dict[str, Any] = {
        "machine": {"cores": os.cpu_count()},
        "claims": claims,
        "codeset_releases": sorted(f"{r.kind}:{r.release_id}" for r in codesets.releases()),
        "engine": bench_engine(settings, messages),
    }
    if kafka:
        result.update(bench_kafka(settings, messages, latency))
        for ceiling in ("passthrough", "faust_relay"):
            if result.get(ceiling, {}).get("claims_per_s"):
                result["e2e"][f"vs_{ceiling}"] = round(
                    result["e2e"]["claims_per_s"] / result[ceiling]["claims_per_s"], 3
                )
    return result


def format_table(result: dict[str, Any]) -> str:
    engine, e2e = result["engine"], result.get("e2e")
    rows = [
        (
            "engine (one core)",
            f"{engine['claims_per_s']:,.0f} claims/s",
            f"{engine['us_per_claim']} us/claim",
        )
    ]
    if e2e:
        rows += [
            (
                "e2e (full speed)",
                f"{e2e['claims_per_s']:,.0f} claims/s",
                f"{e2e['routed']}/{e2e['claims']} routed",
            ),
            (
                f"e2e latency at {e2e['half_rate_per_s']:,.0f}/s",
                f"p50 {e2e['p50_ms']:.0f} ms",
                f"p95 {e2e['p95_ms']:.0f} ms, p99 {e2e['p99_ms']:.0f} ms",
            ),
            (
                "passthrough (aiokafka)",
                f"{result['passthrough']['claims_per_s']:,.0f} claims/s",
                f"e2e = {e2e.get('vs_passthrough', 0):.2f} x passthrough",
            ),
            (
                "faust relay (no scrubbing)",
                f"{result['faust_relay']['claims_per_s']:,.0f} claims/s",
                f"e2e = {e2e.get('vs_faust_relay', 0):.2f} x relay",
            ),
            ("worker memory", f"{result['worker']['rss_mb']:.0f} MB", "peak resident"),
        ]
    head = (
        f"claims-processor bench: {result['claims']:,} claims, {result['machine']['cores']} cores, "
        f"{len(result['codeset_releases'])} code-set releases"
    )
    return "\n".join([head, *text_table(rows, indent="  ")])

"""`claims-processor bench`: how many claims per second one machine takes, and how late a
result arrives. Prints figures; asserts nothing.

engine       the core alone (parse, enrich, every edit, route, serialise) on one core
e2e          through the local broker: N claims at full speed into claims.submitted, first
             produce to last routed output, with one worker process and then with
             CLAIMS_WORKERS (default: one per core); with those, the same claims again at half
             that rate for latency from the input record's timestamp to the routed output's.
             CPU per claim of the workers and the broker from /proc/PID/stat over the run
             (the broker's JIT compiler threads also on their own)
passthrough  a plain aiokafka consume -> produce loop over the same messages and layout,
             no parsing: the Python Kafka client's ceiling here
faust relay  the worker's two agents, its faust settings and batching, with the scrubbing
             taken out (processor.stream.relay): the ceiling of faust's stream machinery, and
             its CPU per claim
worker       CPU per claim of all worker processes, x (relay + engine); peak resident memory
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from processor.codesets import load_codesets
from processor.collector import settle_collector
from processor.devtools.generator import ClaimGenerator
from processor.devtools.local_stack import (
    LocalKafka,
    Output,
    WorkerGroup,
    collect,
    cpu_seconds,
    jit_cpu_seconds,
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
    settle_collector()  # and sets its collector
    history = InMemoryHistory()
    for raw in messages[:200]:  # warm-up
        scrubber.scrub(raw, source=Source("warm", 0, 0)).to_json()
    history = InMemoryHistory()
    started, cpu_started = time.perf_counter(), time.process_time()
    for offset, raw in enumerate(messages):
        scrubber.scrub(raw, source=Source("bench", 0, offset), history=history).to_json()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # steadier than wall time on a shared machine
    return {
        "claims": len(messages),
        "seconds": round(elapsed, 3),
        "claims_per_s": round(len(messages) / elapsed, 1),
        "us_per_claim": round(elapsed / len(messages) * 1e6, 1),
        "cpu_us_per_claim": round(cpu / len(messages) * 1e6, 1),
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


def _faust_relay(
    settings: Settings, bootstrap: str, folder: Path, count: int, broker_pid: int | None
) -> dict[str, Any]:
    """The messages of full.jsonl moved over two hops by the relay app: claims/s from its
    first output to its last, and the relay's and the broker's CPU per claim."""
    run = _relay_run(settings, bootstrap, folder, count, broker_pid)
    stamps = [r.timestamp_ms for r in run.records]
    rate = len(stamps) / max(0.001, (max(stamps) - min(stamps)) / 1000) if len(stamps) > 1 else 0.0
    return {
        "claims_per_s": round(rate, 1),
        "cpu_us_per_claim": _per_claim(run.cpu_s, len(stamps)),
        "broker_cpu_us_per_claim": _per_claim(run.broker_cpu_s, len(stamps)),
    }


def _per_claim(seconds: float, claims: int) -> float:
    return round(seconds / claims * 1e6, 1) if claims else float("nan")


def _settle(cpu: Callable[[], float], timeout: float = 60.0) -> None:
    """Wait until a process started and joined its group: its CPU use stops climbing."""
    deadline = time.monotonic() + timeout
    last = cpu()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu()
        if now - last < 0.02:
            return
        last = now


def _fresh_topics(settings: Settings, bootstrap: str, name: str) -> tuple[str, dict[Role, Any]]:
    """The topic map under a new prefix, created on the broker: (prefix, specs)."""
    prefix = f"{name}-{uuid.uuid4().hex[:8]}."
    run = settings.model_copy(update={"kafka_bootstrap": bootstrap, "topic_prefix": prefix})
    specs = load_topics(run)
    asyncio.run(apply(run, list(specs.values())))
    return prefix, specs


@dataclass
class RelayRun:
    records: list[Output]
    cpu_s: float  # the relay process's CPU from its input being produced to its last output
    broker_cpu_s: float


def relay_outputs(settings: Settings, bootstrap: str, folder: Path, count: int) -> list[Output]:
    """Run the relay over the messages of `folder`/full.jsonl; what reached claims.clean."""
    return _relay_run(settings, bootstrap, folder, count, None).records


def _relay_run(
    settings: Settings, bootstrap: str, folder: Path, count: int, broker_pid: int | None
) -> RelayRun:
    prefix, specs = _fresh_topics(settings, bootstrap, "relay")
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
            _settle(lambda: cpu_seconds(relay.pid))
            warm = folder / "warm.jsonl"
            before = 0
            if warm.exists():
                before = _warm_up(bootstrap, specs["submitted"].name, [specs["clean"].name], warm)
                _settle(lambda: cpu_seconds(relay.pid))
            cpu0, broker0 = cpu_seconds(relay.pid), _broker_cpu(broker_pid)
            asyncio.run(produce_file(bootstrap, specs["submitted"].name, folder / "full.jsonl"))
            got = asyncio.run(
                collect(bootstrap, [specs["clean"].name], before + count, timeout=600)
            )
            cpu = cpu_seconds(relay.pid) - cpu0
            broker = _broker_cpu(broker_pid) - broker0
        finally:
            relay.terminate()
            try:
                relay.wait(30)
            except subprocess.TimeoutExpired:
                relay.kill()
    records = got.records
    if before:  # the warm-up's outputs were all stored before the run's first input
        records = sorted(records, key=lambda r: r.timestamp_ms)[before:]
    return RelayRun(records, cpu, broker)


def _broker_cpu(pid: int | None) -> float:
    return cpu_seconds(pid) if pid is not None else float("nan")


def _broker_jit(pid: int | None) -> float:
    return jit_cpu_seconds(pid) if pid is not None else float("nan")


def _write(messages: list[bytes], folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"".join(m + b"\n" for m in messages))
    return path


def _outputs(specs: dict[Role, Any]) -> list[str]:
    return [specs["clean"].name, specs["risk"].name, specs["dlq"].name]


def _full_speed(
    bootstrap: str, specs: dict[Role, Any], path: Path, before: int = 0
) -> dict[str, Any]:
    """Every message of `path` into the topic at once: claims/s from the first input to the
    last output. `before` outputs are already in the output topics."""
    produced = asyncio.run(produce_file(bootstrap, specs["submitted"].name, path))
    got = asyncio.run(collect(bootstrap, _outputs(specs), before + produced.count, timeout=600))
    first_in = min(produced.timestamps_by_position.values())
    last_out = max(r.timestamp_ms for r in got.records)
    routed = len(got.records) - before
    rate = routed / max(0.001, (last_out - first_in) / 1000)
    return {"claims": produced.count, "routed": routed, "claims_per_s": round(rate, 1)}


def _warm_up(bootstrap: str, source: str, outputs: list[str], path: Path) -> int:
    """The claims of `path` through a process that just started, before anything is
    measured: the outputs they made."""
    produced = asyncio.run(produce_file(bootstrap, source, path))
    got = asyncio.run(collect(bootstrap, outputs, produced.count, timeout=600))
    return len(got.records)


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


def _workers_run(
    settings: Settings,
    kafka: LocalKafka,
    folder: Path,
    count: int,
    latency_messages: list[bytes] | None,
) -> dict[str, Any]:
    """`count` worker processes on fresh topics: full.jsonl at full speed (claims/s, the
    workers' and the broker's CPU per claim over that run); with `latency_messages`, then
    those at half that rate for latency; the workers' peak memory."""
    prefix, specs = _fresh_topics(settings, kafka.bootstrap, f"bench{count}")
    env = worker_settings(
        kafka.bootstrap, prefix, f"bench-{uuid.uuid4().hex[:8]}", log_level="WARNING"
    )
    if settings.codesets_dir:
        env["CLAIMS_CODESETS_DIR"] = str(settings.codesets_dir)
    group = WorkerGroup.of(count, env, folder / f"workers-{count}")
    group.start(timeout=300)
    try:
        _settle(group.cpu_seconds)
        # A worker in service is warm: its memo of per-code facts filled, Python's
        # specialised bytecode in place. The warm-up claims are not measured.
        before = _warm_up(
            kafka.bootstrap, specs["submitted"].name, _outputs(specs), folder / "warm.jsonl"
        )
        _settle(group.cpu_seconds)
        # What the workers use with nothing to do (faust's timers, polls, commits): part of
        # the CPU per claim of a run, the more so the slower the run.
        idle0 = group.cpu_seconds()
        time.sleep(2.0)
        cpu0, broker0 = group.cpu_seconds(), _broker_cpu(kafka.pid)
        jit0 = _broker_jit(kafka.pid)
        idle = (cpu0 - idle0) / 2.0
        e2e = _full_speed(kafka.bootstrap, specs, folder / "full.jsonl", before)
        cpu, broker = group.cpu_seconds() - cpu0, _broker_cpu(kafka.pid) - broker0
        e2e |= {
            "workers": count,
            "worker_cpu_us_per_claim": _per_claim(cpu, e2e["routed"]),
            "broker_cpu_us_per_claim": _per_claim(broker, e2e["routed"]),
            "broker_jit_cpu_us_per_claim": _per_claim(_broker_jit(kafka.pid) - jit0, e2e["routed"]),
            "idle_cpu_cores": round(idle, 3),
        }
        if latency_messages is not None:
            half = max(1.0, e2e["claims_per_s"] / 2)
            half_path = _write(latency_messages, folder, "half.jsonl")
            e2e |= _latency(kafka.bootstrap, specs, half_path, half, before=before + e2e["routed"])
        e2e["rss_mb"] = sum(_rss_mb(pid) for pid in group.pids())
        return e2e
    finally:
        group.stop()


def bench_kafka(
    settings: Settings,
    messages: list[bytes],
    latency_messages: list[bytes],
    warm_messages: list[bytes],
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="claims-bench-"))
    kafka = LocalKafka.on_free_ports(folder / "kafka")
    kafka.start()
    _write(messages, folder, "full.jsonl")
    _write(warm_messages, folder, "warm.jsonl")
    workers = settings.worker_count()
    try:
        out: dict[str, Any] = {"kafka_ready_s": round(kafka.started_in, 1)}
        one = _workers_run(settings, kafka, folder, 1, None)
        many = _workers_run(settings, kafka, folder, workers, latency_messages)
        out["e2e"] = {
            "claims": many["claims"],
            "routed": many["routed"],
            "workers": workers,
            "claims_per_s": many["claims_per_s"],
            "one_worker_claims_per_s": one["claims_per_s"],
            **{
                k: many[k]
                for k in ("half_rate_per_s", "latency_claims", "p50_ms", "p95_ms", "p99_ms")
            },
        }
        out["worker"] = {
            "cpu_us_per_claim": many["worker_cpu_us_per_claim"],
            "one_worker_cpu_us_per_claim": one["worker_cpu_us_per_claim"],
            "idle_cpu_cores": many["idle_cpu_cores"],
            "rss_mb": many["rss_mb"],
        }
        out["broker"] = {
            "cpu_us_per_claim": many["broker_cpu_us_per_claim"],
            "jit_cpu_us_per_claim": many["broker_jit_cpu_us_per_claim"],
            "one_worker_cpu_us_per_claim": one["broker_cpu_us_per_claim"],
        }
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
        out["faust_relay"] = _faust_relay(
            settings, kafka.bootstrap, folder, len(messages), kafka.pid
        )
        return out
    finally:
        kafka.stop()


def _other_claims(codesets: Any, seed: int, count: int, prefix: bytes) -> list[bytes]:
    return [
        m.replace(b'"GEN-', prefix) for m in ClaimGenerator(codesets, seed=seed).messages(count)
    ]


def run_bench(
    settings: Settings, claims: int, *, kafka: bool = True, seed: int = 7
) -> dict[str, Any]:
    # aiokafka logs every retry while fresh topics elect leaders; the figures are the output.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    codesets = load_codesets(settings.codesets_dir)
    generator = ClaimGenerator(codesets, seed=seed)
    messages = list(generator.messages(claims))
    # Other claims of the same kind, their ids apart: for latency, and to warm up with.
    latency = _other_claims(codesets, seed + 1, max(1000, claims // 4), b'"LAT-')
    warm = _other_claims(codesets, seed + 2, max(1000, claims // 4), b'"WARM-')
    releases = sorted(f"{r.kind}:{r.release_id}" for r in codesets.releases())
    result: dict[str, Any] = {
        "machine": {"cores": os.cpu_count()},
        "cores": os.cpu_count(),
        "claims": claims,
        "releases": len(releases),
        "codeset_releases": releases,
        "engine": bench_engine(settings, messages),
    }
    if kafka:
        result.update(bench_kafka(settings, messages, latency, warm))
        result["e2e"]["warm_up_claims"] = len(warm)
        for ceiling in ("passthrough", "faust_relay"):
            if result.get(ceiling, {}).get("claims_per_s"):
                result["e2e"][f"vs_{ceiling}"] = round(
                    result["e2e"]["claims_per_s"] / result[ceiling]["claims_per_s"], 3
                )
        # The target: the worker costs at most 1.3 x what faust's machinery and the core do.
        floor = result["faust_relay"]["cpu_us_per_claim"] + result["engine"]["us_per_claim"]
        result["worker"]["cpu_vs_relay_plus_engine"] = round(
            result["worker"]["cpu_us_per_claim"] / floor, 2
        )
    return result


def format_table(result: dict[str, Any]) -> str:
    engine, e2e = result["engine"], result.get("e2e")
    rows = [
        (
            "engine (one core)",
            f"{engine['claims_per_s']:,.0f} claims/s",
            f"{engine['us_per_claim']} us/claim; CPU {engine['cpu_us_per_claim']} us/claim",
        )
    ]
    if e2e:
        rows += [
            (
                f"e2e, {e2e['workers']} workers (full speed)",
                f"{e2e['claims_per_s']:,.0f} claims/s",
                f"{e2e['routed']}/{e2e['claims']} routed; one worker "
                f"{e2e['one_worker_claims_per_s']:,.0f} claims/s",
            ),
            (
                f"e2e latency at {e2e['half_rate_per_s']:,.0f}/s",
                f"p50 {e2e['p50_ms']:.0f} ms",
                f"p95 {e2e['p95_ms']:.0f} ms, p99 {e2e['p99_ms']:.0f} ms",
            ),
            (
                "worker CPU",
                f"{result['worker']['cpu_us_per_claim']:.0f} us/claim",
                f"{result['worker']['cpu_vs_relay_plus_engine']:.2f} x (relay + engine); "
                f"one worker {result['worker']['one_worker_cpu_us_per_claim']:.0f} us/claim",
            ),
            (
                "broker CPU",
                f"{result['broker']['cpu_us_per_claim']:.0f} us/claim",
                f"e2e run, of it the JIT compiler {result['broker']['jit_cpu_us_per_claim']:.0f}; "
                f"one worker {result['broker']['one_worker_cpu_us_per_claim']:.0f}",
            ),
            (
                "passthrough (aiokafka)",
                f"{result['passthrough']['claims_per_s']:,.0f} claims/s",
                f"e2e = {e2e.get('vs_passthrough', 0):.2f} x passthrough",
            ),
            (
                "faust relay (no scrubbing)",
                f"{result['faust_relay']['claims_per_s']:,.0f} claims/s",
                f"{result['faust_relay']['cpu_us_per_claim']:.0f} us/claim CPU; "
                f"e2e = {e2e.get('vs_faust_relay', 0):.2f} x relay",
            ),
            ("workers' memory", f"{result['worker']['rss_mb']:.0f} MB", "peak resident, summed"),
        ]
    head = (
        f"claims-processor bench: {result['claims']:,} claims, {result['machine']['cores']} cores, "
        f"{len(result['codeset_releases'])} code-set releases"
    )
    return "\n".join([head, *text_table(rows, indent="  ")])

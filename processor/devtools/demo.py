"""`claims-processor demo` (`make demo`): a local Kafka, the topics, one worker process per
core (CLAIMS_WORKERS), the sample claims streamed through, and a summary of what came out."""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter
from pathlib import Path

import orjson

from processor.devtools.local_stack import (
    REPO,
    LocalKafka,
    WorkerGroup,
    collect,
    percentile,
    worker_settings,
)
from processor.settings import Settings
from processor.stream.produce import produce_file
from processor.stream.topics import apply, load_topics

DEMO_CLAIMS = REPO / "examples" / "demo-claims.jsonl"


def run_demo(settings: Settings, *, keep: bool, claims_file: Path | None = None) -> int:
    claims = claims_file or DEMO_CLAIMS
    port = int(settings.kafka_bootstrap.rsplit(":", 1)[1])
    kafka = LocalKafka(port=port, run_dir=REPO / ".run" / "kafka")
    print(f"starting the local Kafka on 127.0.0.1:{port} ...", flush=True)
    kafka.start()
    stamp = time.strftime("%Y%m%d%H%M%S")
    prefix = f"{settings.topic_prefix}demo-{stamp}."
    run_settings = settings.model_copy(
        update={"topic_prefix": prefix, "kafka_bootstrap": kafka.bootstrap}
    )
    specs = load_topics(run_settings)
    # One worker per core (CLAIMS_WORKERS), web ports from CLAIMS_WEB_PORT up.
    workers = WorkerGroup.of(
        settings.worker_count(),
        worker_settings(
            kafka.bootstrap,
            prefix,
            f"claims-processor-demo-{stamp}",
            web_port=settings.web_port,
            web_host=settings.web_host,
        ),
        REPO / ".run" / "demo" / stamp,
        web_port=settings.web_port,
    )
    try:
        asyncio.run(apply(run_settings, list(specs.values())))
        print(
            f"topics applied ({prefix}*); starting {len(workers.workers)} worker processes ...",
            flush=True,
        )
        workers.start()
        produced = asyncio.run(produce_file(kafka.bootstrap, specs["submitted"].name, claims))
        outputs = [specs["clean"].name, specs["risk"].name, specs["dlq"].name]
        collected = asyncio.run(collect(kafka.bootstrap, outputs, produced.count, timeout=120))
        metrics_text = "\n".join(text for _, text in workers.get("/metrics"))
        print(_summary(kafka, workers, specs, produced, collected, metrics_text, claims))
        return 0 if len(collected.records) == produced.count else 1
    finally:
        if keep:
            print(
                f"\nKEEP=1: Kafka ({kafka.bootstrap}) and the workers (pids "
                f"{', '.join(map(str, workers.pids()))}) are still running; "
                f"stop them with `make stop`."
            )
        else:
            workers.stop()
            kafka.stop()


def _summary(kafka, workers, specs, produced, collected, metrics_text, claims) -> str:  # type: ignore[no-untyped-def]
    routes: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    latencies: list[float] = []
    for record in collected.records:
        document = orjson.loads(record.value)
        if record.topic == specs["dlq"].name:
            routes["dead letter"] += 1
            source = document["source"]
            sent = produced.timestamps_by_position.get((source["partition"], source["offset"]))
            findings_key = None
            assert base64.b64decode(document["original"]) is not None
        else:
            routes[document["route"]] += 1
            sent = produced.timestamps_by_key.get(document["claim_id"])
            findings_key = document["findings"]
        if findings_key:
            findings.update(
                f"{f['edit_id']} ({f['disposition']}, CARC {f['carc'] or '-'})"
                for f in findings_key
            )
        if sent is not None:
            latencies.append(record.timestamp_ms - sent)
    first_in = min(produced.timestamps_by_position.values())
    last_out = max((r.timestamp_ms for r in collected.records), default=first_in)
    span = max(1, last_out - first_in) / 1000
    routed_metric = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith("claims_routed_total{")
    )
    lines = [
        "",
        "claims-processor demo",
        f"  Kafka        {kafka.bootstrap} (ready in {kafka.started_in:.1f}s)",
        f"  workers      {len(workers.workers)}, ready in "
        f"{max(w.ready_in for w in workers.workers):.1f}s; logs "
        f"{workers.workers[0].log_path.parent.relative_to(REPO)}/",
        f"  streamed     {produced.count} messages from {claims.name} to {specs['submitted'].name}",
        "",
        f"  results      {len(collected.records)} of {produced.count}"
        + ("" if len(collected.records) == produced.count else "  <-- MISSING OR SURPLUS"),
        f"    clean        {routes['clean']:5d}   -> {specs['clean'].name}",
        f"    risk         {routes['risk']:5d}   -> {specs['risk'].name}",
        f"    dead letter  {routes['dead letter']:5d}   -> {specs['dlq'].name}",
        "",
        "  top findings",
        *[f"    {count:5d}  {name}" for name, count in findings.most_common(8)],
        "",
        f"  throughput   {len(collected.records) / span:.0f} claims/s (first input to last output, "
        f"{span:.2f}s; a burst of {produced.count}, so start-up of the stream dominates)",
        f"  end-to-end   p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms "
        "(input record timestamp to output record timestamp)",
        f"  metrics      {', '.join(w.web_url + '/metrics' for w in workers.workers)} "
        f"(claims_routed_total = {routed_metric:.0f} over all); /ready beside each",
    ]
    return "\n".join(lines)

"""Broker-backed tests: one real local Kafka (ops/kafka/kafka.sh) for the session, unique
topics, consumer group and web port for every test, the worker as a real process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from processor.localrun import LocalKafka, WorkerProcess, free_port

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="session")
def kafka(tmp_path_factory) -> Iterator[str]:
    external = os.environ.get("CLAIMS_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    broker = LocalKafka(port=free_port(), run_dir=tmp_path_factory.mktemp("kafka"))
    broker.start()
    print(f"\nlocal Kafka ready in {broker.started_in:.1f}s on {broker.bootstrap}")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}."


@pytest.fixture
def worker_factory(kafka, topic_prefix, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []
    app_id = f"test-{topic_prefix.rstrip('.')}"

    def start(**extra: str) -> WorkerProcess:
        worker = WorkerProcess(
            settings={
                "CLAIMS_KAFKA_BOOTSTRAP": kafka,
                "CLAIMS_TOPIC_PREFIX": topic_prefix,
                "CLAIMS_APP_ID": app_id,
                "CLAIMS_WEB_PORT": str(free_port()),
                "CLAIMS_LOG_LEVEL": "INFO",
                **extra,
            },
            log_path=tmp_path / f"worker-{len(started)}.log",
        )
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()

"""Broker-backed tests: one real local Kafka (ops/kafka/kafka.sh) for the session, unique
topics, consumer group and web port for every test, the worker as a real process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from processor.devtools.local_stack import LocalKafka, WorkerProcess, free_port, worker_settings

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="session")
def kafka(tmp_path_factory) -> Iterator[str]:
    external = os.environ.get("CLAIMS_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    broker = LocalKafka.on_free_ports(tmp_path_factory.mktemp("kafka"))
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
def worker_factory(worker_factory_on, kafka) -> Callable[..., WorkerProcess]:
    def start(**extra: str) -> WorkerProcess:
        return worker_factory_on(kafka, **extra)

    return start


@pytest.fixture
def worker_factory_on(topic_prefix, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Workers on a given broker (`worker_factory` uses the session's)."""
    started: list[WorkerProcess] = []
    app_id = f"test-{topic_prefix.rstrip('.')}"

    def start(kafka: str, **extra: str) -> WorkerProcess:
        # One state folder per test; each worker process keeps its own sub-folder in it
        # (named by its group instance id), so a restarted worker finds its RocksDB state.
        extra.setdefault("CLAIMS_DATA_DIR", str(tmp_path / "state"))
        worker = WorkerProcess(
            settings=worker_settings(kafka, topic_prefix, app_id, web_port=free_port(), **extra),
            log_path=tmp_path / f"worker-{len(started)}.log",
        )
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()

"""The outbox's record batches on the real broker: every record stored once, in order per
partition, on the partition aiokafka's own `send` would have chosen for its key (a patient
must stay on the partition of its history), headers kept; a record too large for a batch is
refused before anything is sent."""

from __future__ import annotations

import types
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner

from processor.stream.delivery import Outbox, RecordBatches

pytestmark = pytest.mark.kafka


async def test_records_land_once_in_order_on_the_partition_send_would_choose(kafka):
    topic = f"batches-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka, acks="all", max_batch_size=4096, max_request_size=20_000
    )
    await producer.start()
    try:
        batches = RecordBatches(
            types.SimpleNamespace(producer=types.SimpleNamespace(_producer=producer))
        )
        outbox = Outbox(
            names={"clean": topic}, transmit=batches.transmit, send_now=batches.send_now
        )
        sent = [(f"PATIENT-{n % 37}".encode(), b"claim %d " % n + b"x" * 300) for n in range(400)]
        sent[150] = (sent[150][0], b"claim 150 " + b"z" * 9000)  # larger than a batch
        for start in range(0, len(sent), 100):  # four batches, several record batches each
            for key, value in sent[start : start + 100]:
                await outbox.send("clean", key=key, value=value, headers=[("n", value[:9])])
            await outbox.delivered()
        with pytest.raises(MessageSizeTooLargeError):
            await outbox.send("clean", key=b"big", value=b"y" * 30_000)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest")
    await consumer.start()
    got: dict[int, list[tuple[bytes, bytes, list[tuple[str, bytes]]]]] = {}
    try:
        while sum(len(records) for records in got.values()) < len(sent):
            fetched = await consumer.getmany(timeout_ms=10_000)
            assert fetched, "records missing"
            for tp, records in fetched.items():
                got.setdefault(tp.partition, []).extend(
                    (r.key, r.value, list(r.headers)) for r in records
                )
    finally:
        await consumer.stop()

    partitioner = DefaultPartitioner()
    expected: dict[int, list[tuple[bytes, bytes, list[tuple[str, bytes]]]]] = {}
    for key, value in sent:
        partition = partitioner(key, list(range(6)), list(range(6)))
        expected.setdefault(partition, []).append((key, value, [("n", value[:9])]))
    assert got == expected

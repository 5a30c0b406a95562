"""Delivery on the Kafka edge, shared by the worker and the bench's relay: the faust app as
the worker configures it, its byte topics, sending straight to the producer, and the batch
loop that hands a batch back (so faust acknowledges its input offsets) only once the broker
has stored every output of it.

An input offset is therefore never committed before its outputs exist: delivery is
at-least-once. If outputs cannot be stored after retries the worker stops at once, without
acknowledging the batch, so that it is read again after a restart.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka.partitioner import DefaultPartitioner
from faust.streams import _current_event  # the context variable behind current_event()

from processor.collector import settle_collector
from processor.settings import Settings
from processor.stream.consumer import ordered_consumer_transport
from processor.stream.murmur import key_partition
from processor.stream.topics import Role, TopicSpec

log = logging.getLogger("processor.worker")


Headers = list[tuple[str, bytes]] | None
# (topic, key, value, headers[, partition]) → awaitable of the delivery; without a partition
# the producer's partitioner picks it from the key.
Transmit = Callable[..., Awaitable[Awaitable[Any]]]
Message = tuple[str, bytes | None, bytes, Headers] | tuple[str, bytes | None, bytes, Headers, int]


class DeliveryFailed(RuntimeError):
    """Outputs of a batch were not stored by the broker after every retry."""


@dataclass
class Outbox:
    """The outputs of one batch. `send` hands each to the producer at once; `delivered`
    waits until the broker has stored them all, sending again what failed (aiokafka retries
    each request itself first), and raises DeliveryFailed when some still could not be."""

    names: dict[Role, str]
    transmit: Transmit
    attempts: int = 3
    backoff: float = 1.0
    pending: list[tuple[Awaitable[Any], Message]] = field(default_factory=list)
    # Called at the start of `delivered`: what sends its records once per batch (the
    # history's changelog) sends them there, and they are waited for with the rest.
    before_delivered: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Called once the batch's records are all handed over: hands what `transmit` holds
    # (its open record batches) to the producer at once, since the batch waits for it.
    send_now: Callable[[], None] | None = None

    async def send(
        self, role: Role, *, key: bytes | None, value: bytes, headers: Headers = None
    ) -> None:
        await self.send_record(self.names[role], key, value, headers)

    async def send_record(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Headers = None,
        *,
        partition: int | None = None,
    ) -> Awaitable[Any]:
        message: Message = (
            (topic, key, value, headers)
            if partition is None
            else (topic, key, value, headers, partition)
        )
        delivery = await self.transmit(*message)
        self.pending.append((delivery, message))
        return delivery

    async def delivered(self) -> None:
        for send_batch_records in self.before_delivered:
            await send_batch_records()
        pending, self.pending = self.pending, []
        for attempt in range(1, self.attempts + 1):
            if not pending:
                return
            if self.send_now is not None:
                self.send_now()
            errors = await _outcomes(pending)
            if not errors:
                return
            failed = [m for (_, m), error in zip(pending, errors, strict=True) if error]
            if attempt == self.attempts:
                first = next(error for error in errors if error)
                raise DeliveryFailed(
                    f"{len(failed)} outputs not stored after {attempt} attempts: {first!r}"
                )
            log.warning(
                "%d outputs not stored (attempt %d of %d); sending them again",
                len(failed),
                attempt,
                self.attempts,
            )
            await asyncio.sleep(self.backoff * attempt)
            pending = [(await self.transmit(*m), m) for m in failed]


async def _outcomes(pending: list[tuple[Awaitable[Any], Message]]) -> list[BaseException | None]:
    """Wait for every delivery: [] when all were stored, else each one's error or None.
    The deliveries of one produce request complete together, so after the first wait the
    rest are usually done: no task per record, as gathering them would make."""
    errors: list[BaseException | None] = []
    failed = False
    for delivery, _ in pending:
        try:
            await delivery
            errors.append(None)
        except asyncio.CancelledError as exc:
            if not (isinstance(delivery, asyncio.Future) and delivery.cancelled()):
                raise  # this task was cancelled, not the delivery
            errors.append(exc)
            failed = True
        except Exception as exc:
            errors.append(exc)
            failed = True
    return errors if failed else []


def in_context_of(stream: Any, event: Any) -> None:
    """Make `event` the current event of the agent's task, as faust's own per-event
    iteration does: table writes take their changelog partition from it. (`take_batches`
    fills its batch in another task, so the agent's task has none of its own.) Only the
    context variable is set: the stream's `current_event` attribute belongs to that other
    task, which reads it to pair each buffered value with its event."""
    _current_event.set(weakref.ref(event))


async def in_batches(
    stream: Any,
    settings: Settings,
    outbox: Outbox,
    handle: Callable[[Any], Awaitable[None]],
    on_undeliverable: Callable[[BaseException], None],
) -> AsyncIterator[int]:
    """Take the stream in batches (`take_batches`), handle each event as the current one,
    and wait until the outbox's deliveries are stored before the batch is handed back (and
    faust acknowledges its inputs). Yields the size of each batch handled, for per-batch
    work.

    `handle` deals with a claim's own failures (a dead letter). What still escapes it, a send
    the producer refused, means outputs of the batch are not stored: `take_batches` would
    acknowledge the batch anyway on the way out, so `on_undeliverable` stops first."""
    async for batch in take_batches(stream, settings.batch_max, settings.batch_wait_ms / 1000):
        try:
            for event in batch:
                in_context_of(stream, event)
                await handle(event)
            await outbox.delivered()
        except Exception as exc:  # not known to be stored: the batch must be read again
            on_undeliverable(exc)
            raise
        except BaseException:  # cancelled mid-batch: faust stops its agents by cancelling
            withhold(stream, batch)
            raise
        yield len(batch)


async def take_batches(stream: Any, max_: int, within: float) -> AsyncIterator[list[Any]]:
    """faust's `Stream.take_events` (up to `max_` events, or what came within `within`
    seconds of waiting; the batch acknowledged when the next is asked for, or on the way
    out), except that with nothing buffered it waits for the first event without a
    timeout. faust's loop woke every `within` seconds however long the stream was idle
    (CLAIMS_BATCH_WAIT_MS, 5 ms: 200 wake-ups a second per agent, each a `wait_first` with
    its tasks), which cost an idle worker about 4% of a core."""
    buffer: list[Any] = []
    buffer_started = asyncio.Event()
    buffer_full = asyncio.Event()
    buffer_consumed = asyncio.Event()
    buffer_consuming: asyncio.Future[None] | None = None
    channel_it = aiter(stream.channel)

    async def add_to_buffer(value: Any) -> Any:
        nonlocal buffer_consuming
        try:
            if buffer_consuming is not None:  # the batch is being handled: wait for the next
                try:
                    await buffer_consuming
                finally:
                    buffer_consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("take_batches: no current event")
            buffer.append(event)
            buffer_started.set()
            if len(buffer) >= max_:
                buffer_full.set()
                buffer_consumed.clear()
                await stream.wait(buffer_consumed)  # never more than max_ in a batch
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stream.log.exception("Error adding to take buffer: %r", exc)
            await stream.crash(exc)
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False  # acknowledged here, once the batch was handled
    stream.add_processor(add_to_buffer)
    stream._enable_passive(channel_it)
    try:
        while not stream.should_stop:
            if not buffer:
                await stream.wait_for_stopped(buffer_started)
            await stream.wait_for_stopped(buffer_full, timeout=within)
            if buffer:
                consuming = buffer_consuming = asyncio.get_running_loop().create_future()
                events = list(buffer)
                try:
                    yield events
                finally:
                    buffer.clear()
                    buffer_started.clear()
                    for event in events:
                        await stream.ack(event)
                    if not consuming.done():
                        consuming.set_result(None)
                    buffer_full.clear()
                    buffer_consumed.set()
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(add_to_buffer)


def withhold(stream: Any, batch: Sequence[Any]) -> None:
    """Keep `take_batches` from acknowledging a batch that was not delivered.

    faust stops a worker (SIGTERM, or a rebalance that stops agents) by cancelling each
    agent's task, and `take_batches` acknowledges the whole batch in its `finally` on the way
    out, whatever was handled; the consumer then commits those offsets as it stops. Claims of
    the batch not yet handled, or whose outputs were not yet stored, would be committed
    unanswered: lost, with no backlog left to show it. So each event's own `ack` is made a
    no-op (the stream's `ack` calls it) and its message is no longer counted as in flight
    (so that stopping does not wait for it): its offset is never acknowledged, the commit
    stops before it, and the next owner of the partition reads the batch again."""
    consumer = getattr(getattr(stream, "app", None), "consumer", None)
    unacked = getattr(consumer, "_unacked_messages", None)
    for event in batch:
        event.ack = _not_acknowledged
        if unacked is not None:
            unacked.discard(event.message)
    log.warning("stopped during a batch of %d: not acknowledged, it will be read again", len(batch))


def _not_acknowledged() -> bool:
    return False


def stop_now(exc: BaseException) -> None:
    """The batch's outputs are not all stored: stop before faust acknowledges its inputs
    (and a commit could follow), so that a restart reads the batch again."""
    log.critical("stopping the worker without acknowledging the batch: %s", exc)
    logging.shutdown()
    os._exit(70)


def run_app(app: faust.App, loglevel: str) -> None:
    """Run a stream process (the worker, the bench's relay) until it is stopped: faust's
    worker, with the collector settled once everything is built."""
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, override_logging=False)
    settle_collector()
    worker.execute_from_commandline()


def faust_app(settings: Settings) -> faust.App:
    """The faust app as the worker configures it (the bench's relay uses the same).

    Recovery: with static group membership (`consumer_group_instance_id`, KIP-345) a worker
    restarted with the same instance id rejoins within the session timeout and gets its
    partitions back without a rebalance; the others keep theirs. A static member does not
    leave the group when it stops, so a worker that goes away for good keeps its partitions
    until the session times out (CLAIMS_BROKER_SESSION_TIMEOUT, 30 s): the bound on how long
    they wait, and well above the longest stall of the event loop (a batch, a code-set
    swap) that would otherwise expel a live worker. Heartbeats every 3 s (ten may be missed).

    The history table lives in RocksDB under CLAIMS_DATA_DIR/<instance id>/ (one folder per
    worker process: RocksDB allows one process per database), so a restart replays only the
    changelog's tail past what is on disk."""
    instance = settings.instance_id()
    folder = instance or f"{socket.gethostname()}-{os.getpid()}"
    datadir = settings.data_dir.resolve() / _safe_folder(folder)
    datadir.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    return ClaimsApp(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        store="rocksdb://" if settings.table_store == "rocksdb" else "memory://",
        datadir=str(datadir),
        table_standby_replicas=settings.table_standby_replicas,
        consumer_group_instance_id=instance,
        # The broker hands a static member back the assignment of its last incarnation, and
        # faust's assignor checks the URL in it: name the worker by its instance id, not by
        # its web port, so that a restart on another port still rejoins.
        canonical_url=f"http://{_safe_folder(instance)}" if instance else None,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=settings.web_enabled,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # faust creates only its own internal topics (the history table's changelog);
        # `topics apply` owns the claim topics and their settings.
        topic_allow_declare=True,
        topic_replication_factor=settings.topic_replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.commit_interval,
        broker_session_timeout=settings.broker_session_timeout,
        producer_linger_ms=settings.producer_linger_ms,
        producer_max_batch_size=settings.producer_batch_bytes,
        producer_compression_type=(
            None if settings.producer_compression == "none" else settings.producer_compression
        ),
        broker_max_poll_records=settings.max_poll_records,
        producer_acks=-1,
        processing_guarantee="at_least_once",
        stream_wait_empty=True,
    )


class ClaimsApp(faust.App):
    """faust's App with the worker's consumer: claim partitions delivered strictly in offset
    order (processor.stream.consumer), so that no claim is committed undelivered around
    rebalances and table recovery."""

    def _new_transport(self) -> Any:
        return ordered_consumer_transport(self)


def _safe_folder(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "worker"


def byte_topics(
    app: faust.App, specs: dict[Role, TopicSpec], roles: tuple[Role, ...]
) -> dict[Role, Any]:
    """The claim topics as faust topics of raw bytes: faust never decodes (and so never
    skips) a message; the handlers read and dead-letter what they cannot."""
    return {
        role: app.topic(
            specs[role].name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=specs[role].partitions,
        )
        for role in roles
    }


# a record batch being filled: its (topic, partition), its builder and its delivery
_Open = tuple[tuple[str, int], tuple[Any, "asyncio.Future[Any]"]]


class RecordBatches:
    """An outbox's records built into Kafka record batches here, one per topic partition,
    and handed to the app's aiokafka producer whole (`send_batch`) once the outbox's batch
    is handled (`send_now`).

    aiokafka's `send` does per record what a batch needs once: a future, the partitioner's
    list of partitions, the accumulator's lookup and wait, faust's producer wrapper. The
    records, their partitions (aiokafka's own partitioner, so a key lands where `send` put
    it; its default one computed here, with a faster murmur2 and the topic's partitions
    looked up once a batch) and the record batches on the wire are the same.

    A record's delivery is its record batch's: it completes when the broker has stored the
    whole batch, with the metadata of the batch's last record (topic, partition, offset)."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self._open: dict[tuple[str, int], tuple[Any, asyncio.Future[Any]]] = {}
        # record batches closed and not yet handed to the producer, and the task handing
        # them over while there are any
        self._queue: deque[_Open] = deque()
        self._handing: asyncio.Future[None] | None = None
        self._partitions: dict[str, list[int]] = {}  # topic → its partitions, for a batch

    def _producer(self) -> Any:
        producer = getattr(self.app.producer, "_producer", None)
        if producer is None:
            raise RuntimeError("the producer has not started")
        return producer

    async def transmit(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Headers,
        partition: int | None = None,
    ) -> Awaitable[Any]:
        producer = self._producer()
        headers = headers or []
        producer._serialize(key, value, headers)  # aiokafka's size check: too large raises
        if partition is None:
            partitions = self._partitions.get(topic)
            if key is not None and partitions is not None:  # aiokafka's default partitioner
                partition = partitions[key_partition(key, len(partitions))]
            else:
                partition = await self._partition(producer, topic, key)
        slot = (topic, partition)
        entry = self._open.get(slot)
        if entry is None:
            entry = self._open[slot] = (producer.create_batch(), _future())
        if entry[0].append(timestamp=None, key=key, value=value, headers=headers) is None:
            self._submit(slot)  # full: the record starts another batch (a first one always fits)
            entry = self._open[slot] = (producer.create_batch(), _future())
            if entry[0].append(timestamp=None, key=key, value=value, headers=headers) is None:
                raise RuntimeError("a record was refused by an empty record batch")
        return entry[1]

    async def _partition(self, producer: Any, topic: str, key: bytes | None) -> int:
        metadata = producer._metadata
        partitions = metadata.partitions_for_topic(topic)
        if partitions is None:
            await producer.client._wait_on_metadata(topic)
            partitions = metadata.partitions_for_topic(topic)
        if key is not None and type(producer._partitioner) is DefaultPartitioner:
            # the topic's partitions, as the partitioner is given them, until the batch is
            # sent: the same choice without building the list (and a set) for every record
            self._partitions[topic] = listed = list(partitions)
            return listed[key_partition(key, len(listed))]
        available = metadata.available_partitions_for_topic(topic) if key is None else partitions
        return int(producer._partitioner(key, list(partitions), list(available)))

    def send_now(self) -> None:
        self._partitions.clear()  # looked up again for the next batch
        if self._open:
            opened, self._open = self._open, {}
            self._start(list(opened.items()))

    def _submit(self, slot: tuple[str, int]) -> None:
        """A full record batch, sent before the rest of the batch of claims is handled."""
        self._start([(slot, self._open.pop(slot))])

    def _start(self, batches: list[_Open]) -> None:
        self._queue.extend(batches)
        if self._handing is None:
            self._handing = asyncio.ensure_future(self._hand_over())

    async def _hand_over(self) -> None:
        """Hand the queued record batches to the producer, one after the other in the order
        they were closed (so a partition's batches keep their order however long the
        producer makes one wait), in one task while there are any (not a task each: a
        delivery of a batch of claims is a record batch per topic partition, up to 36 on
        the edit hop). Each delivery completes when the broker has stored its batch."""
        queue = self._queue
        try:
            while queue:
                (topic, partition), (builder, delivery) = queue[0]
                builder.close()  # complete: ready to send without lingering
                try:
                    stored = await self._producer().send_batch(builder, topic, partition=partition)
                except Exception as exc:  # (a cancellation is handled below)
                    if not delivery.done():
                        delivery.set_exception(exc)
                else:
                    stored.add_done_callback(
                        functools.partial(
                            _complete, delivery, topic, partition, builder.record_count()
                        )
                    )
                queue.popleft()
        except asyncio.CancelledError:
            while queue:
                _, (_, unsent) = queue.popleft()
                if not unsent.done():
                    unsent.cancel()
            raise
        finally:
            self._handing = None


def _complete(
    delivery: asyncio.Future[Any], topic: str, partition: int, count: int, stored: Any
) -> None:
    if delivery.done():
        return
    if stored.cancelled():
        delivery.cancel()
        return
    error = stored.exception()
    if error is not None:
        delivery.set_exception(error)
        return
    meta = stored.result()
    last = None if meta is None else meta.offset + count - 1
    delivery.set_result(Stored(topic, partition, last))


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a record batch was stored: its last record's offset."""

    topic: str
    partition: int
    offset: int | None


def _future() -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    # retrieved when a batch fails and nothing waits for it any more (a worker stopping)
    future.add_done_callback(_retrieve)
    return future


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def outbox_for(app: faust.App, specs: dict[Role, TopicSpec]) -> Outbox:
    batches = RecordBatches(app)
    return Outbox(
        names={role: spec.name for role, spec in specs.items()},
        transmit=batches.transmit,
        send_now=batches.send_now,
    )

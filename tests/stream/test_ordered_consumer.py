"""The worker's consumer delivers each claim partition strictly in offset order
(processor.stream.consumer): records that faust's consumer would skip, drop below its read
offset or take for a gap in the log (and acknowledge undelivered) are fetched again
instead. Driven with faust's own consumer object; aiokafka's side (the fetch position in
the consumer thread) is a recording stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from processor.settings import load_settings
from processor.stream.consumer import OrderedConsumer
from processor.stream.delivery import faust_app

CLAIMS = "claims.submitted"
tp0 = TP(CLAIMS, 0)
tp1 = TP(CLAIMS, 1)


class Fetcher:
    """aiokafka's consumer as the consumer thread holds it: seeks are recorded, and move
    the fetch position kept where aiokafka keeps it."""

    def __init__(self) -> None:
        self.seeks: list[tuple[TP, int]] = []
        self.positions: dict[TP, int] = {}
        state = SimpleNamespace(state_value=self._state)
        self._subscription = SimpleNamespace(subscription=SimpleNamespace(assignment=state))

    def _state(self, tp: TP) -> Any:
        position = self.positions.get(tp)
        return SimpleNamespace(position=position, has_valid_position=position is not None)

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.positions[tp] = offset


def record(tp: TP, offset: int) -> Any:
    return SimpleNamespace(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        headers=[],
        key=b"k",
        value=b"v",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
    )


@pytest.fixture
async def consumer(tmp_path: Path) -> Iterator[tuple[OrderedConsumer, Fetcher, list[int]]]:
    settings = load_settings(kafka_bootstrap="127.0.0.1:1", web_enabled=False, data_dir=tmp_path)
    app = faust_app(settings)
    app.loop = asyncio.get_running_loop()
    app.finalize()
    app.topics._acking_topics.add(CLAIMS)
    consumer = app.consumer
    assert isinstance(consumer, OrderedConsumer)
    fetcher = Fetcher()
    delivered: list[int] = []

    async def call_thread(fun: Any, *args: Any) -> Any:
        return await fun(*args)

    async def callback(message: Any) -> None:
        delivered.append(message.offset)

    consumer._thread._ensure_consumer = lambda: fetcher  # type: ignore[method-assign]
    consumer._thread.call_thread = call_thread  # type: ignore[method-assign]
    consumer.assignment = lambda: {tp0, tp1}  # type: ignore[method-assign]
    consumer.highwater = lambda tp: 1000  # type: ignore[method-assign]
    consumer.callback = callback
    yield consumer, fetcher, delivered


def message(tp: TP, offset: int) -> Any:
    return SimpleNamespace(offset=offset, tp=tp, topic=tp.topic)


async def deliver(consumer: OrderedConsumer, tp: TP, *offsets: int) -> None:
    """The records of one fetch, delivered as the consumer delivers a batch."""
    await consumer._deliver_batch([(tp, message(tp, o)) for o in offsets], consumer.callback)


async def test_a_record_after_a_hole_is_fetched_again_not_taken_for_a_gap(consumer) -> None:
    """faust, after seeking to the committed offset 51, took a record at 102 (fetched before
    the seek) for a gap and acknowledged 52..101 undelivered. Here 102 is not delivered, the
    partition is sought back to 51, and 51.. come in order."""
    c, fetcher, delivered = consumer
    c._next_offset[tp0] = 51  # what perform_seek leaves after seeking to the commit
    await deliver(c, tp0, 102)
    assert delivered == []
    assert fetcher.seeks == [(tp0, 51)]
    assert not c._gap.get(tp0)  # nothing acknowledged in its place
    c._fetches += 1  # the next fetch, after the seek
    await deliver(c, tp0, 51, 52, 53)
    assert delivered == [51, 52, 53]
    assert c._next_offset[tp0] == 54


async def test_records_below_the_next_offset_were_delivered_and_are_dropped(consumer) -> None:
    c, fetcher, delivered = consumer
    await deliver(c, tp0, 10, 11, 12)
    await deliver(c, tp0, 10, 11, 12, 13)  # fetched again after a seek to the commit
    assert delivered == [10, 11, 12, 13]
    assert fetcher.seeks == []


async def test_a_real_gap_is_accepted_once_a_fetch_after_the_seek_still_starts_above_it(
    consumer,
) -> None:
    """Retention deleted 20..29 (or transaction markers): after the seek back to 20, the
    next fetch starts at 30 again, and faust's gap bookkeeping lets the commit pass it."""
    c, fetcher, delivered = consumer
    await deliver(c, tp0, 19)
    await deliver(c, tp0, 30)  # same fetch: not trusted
    assert fetcher.seeks == [(tp0, 20)]
    c._fetches += 1
    await deliver(c, tp0, 30, 31)
    assert delivered == [19, 30, 31]
    assert fetcher.seeks == [(tp0, 20)]
    c._committed_offset[tp0] = 19
    c._acked[tp0].extend([19, 30, 31])
    assert c._new_offset(tp0) == 32


async def test_records_getmany_does_not_hand_out_are_fetched_again(consumer) -> None:
    """faust's getmany skips fetched records of a partition that is not active (paused while
    the table recovers) after aiokafka moved past them: they were never fetched again."""
    c, fetcher, _delivered = consumer
    c._next_offset[tp1] = 40
    records = {tp0: [record(tp0, 5), record(tp0, 6)], tp1: [record(tp1, 40), record(tp1, 41)]}

    async def wait_next_records(timeout: float) -> Any:
        return records, {tp0}  # tp1 paused meanwhile

    c._wait_next_records = wait_next_records  # type: ignore[method-assign]
    c.flow_active = True
    handed = [(tp, m.offset) async for tp, m in c.getmany(timeout=1)]
    assert handed == [(tp0, 5), (tp0, 6)]
    assert fetcher.seeks == [(tp1, 40)]


async def test_a_batch_left_when_the_flow_stops_is_fetched_again(consumer) -> None:
    c, fetcher, _delivered = consumer
    records = {tp0: [record(tp0, 7), record(tp0, 8)]}

    async def wait_next_records(timeout: float) -> Any:
        return records, {tp0}

    c._wait_next_records = wait_next_records  # type: ignore[method-assign]
    c.flow_active = False  # a rebalance began while the fetch was under way
    handed = [(tp, m.offset) async for tp, m in c.getmany(timeout=1)]
    assert handed == []
    assert fetcher.seeks == [(tp0, 7)]


CHANGELOG = "history-changelog"
cl0 = TP(CHANGELOG, 0)
cl1 = TP(CHANGELOG, 1)


async def test_changelog_records_not_handed_out_are_fetched_again_unless_sought_since(
    consumer,
) -> None:
    """A takeover's changelog partitions were fetched from 0 while the flow was stopped (a
    rebalance): faust dropped the records with aiokafka's position past them, and the table
    recovery waiting for them never got them. cl0 is fetched again from 0; cl1 was sought
    meanwhile (the recovery's own seek), and that seek stands."""
    c, fetcher, _delivered = consumer
    records = {cl0: [record(cl0, 0), record(cl0, 1)], cl1: [record(cl1, 0), record(cl1, 1)]}
    fetcher.positions = {cl0: 2, cl1: 0}  # aiokafka moved past both; cl1 sought back to 0 since
    c.assignment = lambda: {tp0, tp1, cl0, cl1}  # type: ignore[method-assign]

    async def wait_next_records(timeout: float) -> Any:
        return records, {cl0, cl1}

    c._wait_next_records = wait_next_records  # type: ignore[method-assign]
    c.flow_active = False
    handed = [(tp, m.offset) async for tp, m in c.getmany(timeout=1)]
    assert handed == []
    assert fetcher.seeks == [(cl0, 0)]
    assert fetcher.positions == {cl0: 0, cl1: 0}


async def test_a_delivery_stopped_by_a_rebalance_is_fetched_again(consumer) -> None:
    """The flow is suspended (a rebalance) while a batch is being delivered: what was
    delivered stays delivered, and each partition with records left is sought back to the
    first of them."""
    c, fetcher, delivered = consumer

    async def blocked_at_71(message: Any) -> None:
        if message.offset == 71:
            await asyncio.sleep(3600)  # a full stream queue
        delivered.append(message.offset)

    c._next_offset[tp0] = 70
    c._next_offset[tp1] = 5
    batch = [(tp0, message(tp0, 70)), (tp1, message(tp1, 5)), (tp0, message(tp0, 71))]
    batch += [(tp1, message(tp1, 6)), (tp0, message(tp0, 72))]
    task = asyncio.ensure_future(c._deliver_batch(batch, blocked_at_71))
    await asyncio.sleep(0.01)
    assert delivered == [70, 5]
    c.suspend_flow.set()  # stop_flow(): the delivery is cancelled
    await task
    assert delivered == [70, 5]
    assert c._next_offset == {tp0: 71, tp1: 6}
    assert sorted(fetcher.seeks) == [(tp0, 71), (tp1, 6)]


async def test_a_partition_sought_back_mid_batch_gets_nothing_more_from_it(consumer) -> None:
    """Offset 12 of tp0 is missing from the fetch: tp0 is sought back to it and its later
    records in the batch are skipped (they come again), while tp1's are delivered."""
    c, fetcher, delivered = consumer
    c._next_offset[tp0] = 10
    batch = [(tp0, message(tp0, 10)), (tp0, message(tp0, 11)), (tp0, message(tp0, 13))]
    batch += [(tp1, message(tp1, 3)), (tp0, message(tp0, 14)), (tp1, message(tp1, 4))]
    await c._deliver_batch(batch, c.callback)
    assert delivered == [10, 11, 3, 4]
    assert fetcher.seeks == [(tp0, 12)]
    assert c._next_offset == {tp0: 12, tp1: 5}


async def test_a_seek_to_committed_offsets_never_moves_offsets_backwards(consumer) -> None:
    """perform_seek reads the committed offsets while deliveries and commits go on: a commit
    of 112 that completed meanwhile must not be overwritten by the 60 read before it (faust
    then found a hole below the acknowledged offsets and never committed again)."""
    c, _fetcher, _delivered = consumer
    c._committed_offset[tp0] = 112
    c._next_offset[tp0] = 130

    async def seek_to_committed() -> dict[TP, int]:
        return {tp0: 60, tp1: 5}

    c.seek_to_committed = seek_to_committed  # type: ignore[method-assign]
    await c.perform_seek()
    assert c._committed_offset[tp0] == 112
    assert c._next_offset[tp0] == 130
    assert c._next_offset[tp1] == 5 and c._committed_offset[tp1] == 5


async def test_a_rebalance_forgets_the_next_offsets_of_revoked_partitions(consumer) -> None:
    c, _fetcher, _delivered = consumer
    await deliver(c, tp0, 1, 2)
    c._refetch[tp1] = 7  # a seek back not done yet: the next owner starts at the commit
    c.app.on_rebalance_start()
    await c.on_partitions_revoked({tp0, tp1})
    assert tp0 not in c._next_offset and tp1 not in c._refetch


async def test_events_discarded_when_flow_control_resumes_are_fetched_again(consumer) -> None:
    """mode's FlowControlEvent.resume clears every stream queue, and faust resumes it after
    the claim partitions were resumed and sought: events delivered in between were dropped
    unacknowledged and never fetched again (the partition's commit stopped there)."""
    c, fetcher, delivered = consumer
    app = c.app
    c._watch_flow_control()
    queue = app.FlowControlQueue(maxsize=2, clear_on_resume=True)
    await deliver(c, tp0, 68, 69, 70)  # delivered into the agent's queue...
    for offset in (68, 69):
        queue.put_nowait(SimpleNamespace(message=SimpleNamespace(tp=tp0, offset=offset)))
    blocked = asyncio.ensure_future(
        queue.put(SimpleNamespace(message=SimpleNamespace(tp=tp0, offset=70)))
    )
    await asyncio.sleep(0)  # the delivery of 70 waits for room in the full queue
    app.flow_control.resume()  # ...and dropped here
    assert c._next_offset[tp0] == 68
    await asyncio.wait_for(blocked, 1)  # woken, not left waiting for ever

    async def wait_next_records(timeout: float) -> Any:
        return {}, {tp0}

    c._wait_next_records = wait_next_records  # type: ignore[method-assign]
    assert [x async for x in c.getmany(timeout=1)] == []
    assert fetcher.seeks == [(tp0, 68)]  # sought back before the next fetch
    await deliver(c, tp0, 68)
    assert delivered == [68, 69, 70, 68]


async def test_the_commit_never_passes_an_offset_just_above_the_committed_one(consumer) -> None:
    """faust's head-gap test (`min(acked) - committed > 1`) let a single unacknowledged
    offset at the committed one be committed past: after a takeover the claim there was
    never answered. Here the commit holds, and a delivered offset no longer in flight is
    fetched again."""
    c, fetcher, delivered = consumer
    c._committed_offset[tp0] = 166
    await deliver(c, tp0, 166, 167, 168)
    c._acked[tp0].extend([167, 168])  # 166's event was lost on its way to the agent
    assert c._new_offset(tp0) is None
    assert c._next_offset[tp0] == 166 and c._refetch[tp0] == 166

    async def wait_next_records(timeout: float) -> Any:
        return {}, {tp0}

    c._wait_next_records = wait_next_records  # type: ignore[method-assign]
    assert [x async for x in c.getmany(timeout=1)] == []
    assert fetcher.seeks == [(tp0, 166)]
    await deliver(c, tp0, 166)
    assert delivered == [166, 167, 168, 166]
    c._acked[tp0].append(166)
    assert c._new_offset(tp0) == 169  # all acknowledged: faust's own answer


class InFlight:
    def __init__(self, tp: TP, offset: int) -> None:
        self.tp, self.offset = tp, offset


async def test_an_offset_in_flight_at_the_committed_one_holds_the_commit(consumer) -> None:
    c, fetcher, _delivered = consumer
    c._committed_offset[tp1] = 0  # faust skipped its head test for a committed offset of 0
    await deliver(c, tp1, 0, 1)
    in_flight = InFlight(tp1, 0)  # in a batch not yet done (faust keeps weak references)
    c._unacked_messages.add(in_flight)
    c._acked[tp1].append(1)
    assert c._new_offset(tp1) is None
    assert tp1 not in c._refetch and c._next_offset[tp1] == 2 and fetcher.seeks == []

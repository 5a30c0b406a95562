"""The worker's Kafka consumer: faust's aiokafka consumer, delivering each claim partition
strictly in offset order.

Why. faust 0.15 (faust/transport/consumer.py) keeps one "read offset" per partition and
trusts it over the fetcher's position, which lives in another thread (aiokafka runs in
faust's consumer thread). Three places lose claims when the two disagree, and they do
disagree around every rebalance and table recovery:

1. `Consumer.getmany` silently skips fetched records of a partition that is not in the
   active set when it iterates them (faust pauses partitions while the table recovers),
   and stops iterating a batch when the flow stops or the generation changes. aiokafka has
   already moved its position past those records, so they are never fetched again.
2. `Consumer._drain_messages` takes a message whose offset is more than one past the read
   offset for a gap in the log (compaction, transaction markers) and marks the offsets
   in between as acknowledged (`_add_gap`): the commit then moves past claims that were
   never delivered.
3. `_drain_messages` drops every message below the read offset ("DROPPED MESSAGE ROFF"),
   and the read offset is moved by deliveries of records fetched before a seek:
   `on_recovery_completed` resumes the claim partitions *before* `perform_seek` seeks them
   to their committed offsets, so records fetched from the old position arrive after the
   seek, move the read offset ahead, and the records the seek fetches again are dropped.
   The same race lets `perform_seek` write back a committed offset read before a commit
   that completed meanwhile (`_committed_offset` moves backwards), after which
   `_new_offset` finds a hole below the acknowledged offsets and never commits again.
4. mode's `FlowControlEvent.resume` clears every stream queue, and `on_recovery_completed`
   resumes it after the claim partitions were resumed and sought: events delivered in
   between are dropped from the agents' queues, never acknowledged and never fetched again,
   so their partition's commit stops at the first of them for good (see
   `_watch_flow_control`).

Seen on the real broker (tests/integration/test_faults.py, faust's consumer instrumented):
after a SIGKILL restart, `perform_seek` set the read offset of claims.submitted[0] to its
committed 51 and the next record delivered was 102, marked 52..101 as a gap; records of
claims.submitted[8] and [11] skipped by `getmany` (107 records, partitions paused during
recovery) and the re-fetched ones dropped below the read offset; claims.submitted[1] with
a committed offset of 60 in faust's view while the broker had 112, acknowledged offsets
from 112 on, and no commit for the rest of the run. Claims were missing while every
partition's committed offset had reached its end. Once those were fixed, runs still showed
every partition of an agent stuck at its committed offset after the worker was ready
(claims.submitted[1]: committed 68, offsets up to 259 delivered, 120..259 acknowledged,
nothing in flight and the queues empty): 68..119 had been cleared from the queue (4).

What this consumer does instead, for the partitions whose messages faust acknowledges
(the agents' claim topics; table changelogs keep faust's handling, gaps are normal there):
it keeps the next offset to deliver of each partition. A record at that offset is
delivered and the offset moves on once the delivery completed; a record below it was
delivered already and is dropped; a record above it means records in between were not
delivered, so the partition's fetch position is sought back to the next offset and the
record dropped (it comes again, in order). Records `getmany` does not hand out, a
delivery cancelled by a rebalance, and events cleared from the agents' queues seek the
fetch position back the same way. Only when
a fetch made after such a seek still starts above the next offset is it a real gap in the
log (retention deleted records, transaction markers): then faust's gap bookkeeping
applies. A seek to committed offsets never moves the next offset or the committed offset
backwards within an assignment (what is below them was delivered or committed in it).

The result: every offset of a claim partition is delivered before a later one is, so
faust's contiguous-acknowledgement commit can never pass an undelivered claim.

The records of one fetch are delivered in one task that faust's flow control can stop
(`_deliver_batch`), where faust starts a task for every message and waits on it, on its
flow control and on two service events (four tasks and a wait per claim, about a quarter
of the bench relay's CPU). A partition sought back mid-batch gets nothing more from that
batch; a batch stopped by a rebalance seeks each partition with records left back to its
next offset, as a stopped delivery did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING, ensure_TP
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

log = logging.getLogger("processor.worker")


class OrderedConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer with in-order delivery of acknowledged partitions (see the
    module docstring for what it replaces and why)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_offset: dict[TP, int] = {}
        # A seek back we made, and the fetch count once it was done: a fetch after it that
        # still starts above the offset sought shows a real gap in the log.
        self._sought_back: dict[TP, tuple[int, int]] = {}
        self._fetches = 0
        self._refetch: dict[TP, int] = {}  # partitions to seek back before the next fetch
        self._flow_control_watched = False
        self._epoch = 0  # bumped by each rebalance: deliveries from before it update nothing
        self.seeks_back = 0  # counted, for tests and logs

    # -- bookkeeping around rebalances and seeks

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._epoch += 1
        for tp in revoked:
            self._next_offset.pop(tp, None)
            self._sought_back.pop(tp, None)
            self._refetch.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        self._watch_flow_control()
        self._epoch += 1
        for tp in (set(self._next_offset) | set(self._refetch)) - assigned:
            self._next_offset.pop(tp, None)
            self._sought_back.pop(tp, None)
            self._refetch.pop(tp, None)
        await super().on_partitions_assigned(assigned, generation_id)

    async def perform_seek(self) -> None:
        """faust's `perform_seek` (seek every partition to its committed offset), except
        that neither the next offset to deliver nor faust's committed offset moves
        backwards: a commit or a delivery may have completed while the committed offsets
        were being read."""
        committed = await self.seek_to_committed()
        for tp_, offset in committed.items():
            tp = ensure_TP(tp_)
            if offset is None or offset < 0:
                if not self._acked_topic(tp):
                    self._read_offset[tp] = None
                continue
            if self._acked_topic(tp):
                self._next_offset[tp] = max(self._next_offset.get(tp, offset), offset)
                self._sought_back.pop(tp, None)
            else:
                self._read_offset[tp] = offset
            if offset:
                known = self._committed_offset.get(tp)
                self._committed_offset[tp] = offset if known is None else max(known, offset)

    async def seek(self, partition: TP, offset: int) -> None:
        """An explicit seek: the partition is delivered from `offset` on."""
        tp = ensure_TP(partition)
        await super().seek(tp, offset)
        if self._acked_topic(tp):
            self._next_offset[tp] = offset
            self._sought_back.pop(tp, None)

    def _acked_topic(self, tp: TP) -> bool:
        return bool(self.app.topics.acks_enabled_for(tp.topic))

    async def _seek_back(self, tp: TP, offset: int, why: str) -> None:
        """Seek the fetch position of `tp` back to `offset` (in the consumer's thread, where
        aiokafka lives) so that records not delivered are fetched again."""
        if tp not in self.assignment():
            self._refetch.pop(tp, None)
            return
        self.seeks_back += 1
        log.info("%s[%d]: %s; fetching again from offset %d", tp.topic, tp.partition, why, offset)

        async def seek_in_thread() -> None:
            self._thread._ensure_consumer().seek(tp, offset)

        try:
            await self._thread.call_thread(seek_in_thread)
        except Exception as exc:  # unassigned meanwhile: its next owner starts at the commit
            log.info("%s[%d]: seek back not done: %r", tp.topic, tp.partition, exc)
            self._refetch.pop(tp, None)
            return
        self._sought_back[tp] = (offset, self._fetches)
        if self._refetch.get(tp) == offset:
            del self._refetch[tp]

    # -- fetching: faust's getmany, without dropping records it does not hand out

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        """faust's `Consumer.getmany` (round-robin over the fetched partitions), except that
        records it does not hand out — of a partition no longer active, or left when the
        flow stops or the generation changes — are fetched again: their partition is sought
        back to the first of them."""
        for tp, offset in list(self._refetch.items()):
            await self._seek_back(tp, offset, "delivered events discarded by faust's flow control")
        records, active_partitions = await self._wait_next_records(timeout)
        self._fetches += 1
        generation_id = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        not_delivered: dict[TP, int] = {}
        for tp, record in self.scheduler.iterate(records):
            offset = record.offset
            if tp in not_delivered:
                continue
            # faust hands out nothing once the flow stopped (a rebalance began) and seeks
            # every partition to its committed offset; records of a partition never
            # committed would then be skipped: they are sought back like the others.
            stopped = not self.flow_active or self.app.consumer_generation_id != generation_id
            if stopped or not (
                active_partitions is None
                or tp in active_partitions
                or tp in self._buffered_partitions
            ):
                not_delivered[tp] = offset
                continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            yield tp, self._to_message(tp, record)
        if self.app.consumer_generation_id != generation_id:
            return  # reassigned: positions start again from the committed offsets
        for tp, offset in not_delivered.items():
            if self._acked_topic(tp):
                nxt = self._next_offset.get(tp)
                if nxt is None or offset >= nxt:
                    await self._seek_back(
                        tp, offset if nxt is None else nxt, "fetched, not handed out"
                    )
            else:
                await self._refetch_changelog(tp, offset, records[tp][-1].offset)

    async def _refetch_changelog(self, tp: TP, first: int, last: int) -> None:
        """Records `first`..`last` of a table changelog were fetched and not handed out (the
        flow stopped for a rebalance, or the partition was paused meanwhile), and aiokafka's
        position has passed them. faust leaves them: when they were the records its table
        recovery waits for, the recovery stalled for good ("No event received for active
        tp", once in 35 runs of the takeover fault test: the changelog partitions the
        second worker took over were fetched from 0 during the rebalance, dropped, and
        never fetched again). They are fetched again unless the position was sought
        elsewhere since (the recovery's own seek wins)."""
        if tp not in self.assignment():
            return

        async def seek_unless_moved() -> bool:  # in the consumer thread, where aiokafka is
            fetcher = self._thread._ensure_consumer()
            position = _fetch_position(fetcher, tp)
            if position is None or position <= last:
                return False  # sought since the fetch: that seek stands
            fetcher.seek(tp, first)
            return True

        try:
            sought = await self._thread.call_thread(seek_unless_moved)
        except Exception as exc:  # unassigned meanwhile: its next owner recovers it
            log.info("%s[%d]: seek back not done: %r", tp.topic, tp.partition, exc)
            return
        if sought:
            self.seeks_back += 1
            log.info(
                "%s[%d]: table changelog records fetched, not handed out; fetching again "
                "from offset %d",
                tp.topic,
                tp.partition,
                first,
            )

    # -- delivery: faust's _drain_messages, in offset order for acknowledged partitions

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - broker tests
        callback = self.callback
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = cast(AsyncIterator, self.getmany(timeout=1.0))
                await self.sleep(0)
                if not self.should_stop:
                    batch = [item async for item in ait]
                    if batch:
                        await self._deliver_batch(batch, callback)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _deliver_batch(self, batch: list[tuple[TP, Message]], callback: Any) -> None:
        """Deliver the records of one fetch, in the order `getmany` handed them out, in one
        task that faust's flow control can stop (faust waits on a task of its own and on
        `suspend_flow` for every message: four tasks and a wait per claim). A partition
        sought back during the batch gets nothing more from it (its records come again);
        when the flow is suspended mid-batch (a rebalance), the partitions with records not
        yet delivered are sought back to their next offset."""
        epoch = self._epoch
        sought: set[TP] = set()
        done = 0

        async def deliver() -> None:
            nonlocal done
            commit_every = self._commit_every
            for index, (tp, message) in enumerate(batch):
                done = index
                if index and not index % 100:
                    await asyncio.sleep(0)  # let the agents run
                if epoch != self._epoch:
                    return  # rebalanced: the new assignment starts from its commits
                if tp in sought:
                    continue  # the rest of this partition's records come again
                if commit_every is not None and self._n_acked >= commit_every:
                    self._n_acked = 0
                    await self.commit()
                if self._acked_topic(tp):
                    if not await self._deliver_in_order(tp, message, callback, epoch):
                        sought.add(tp)
                else:
                    await self._deliver_as_faust(tp, message, callback)
            done = len(batch)

        delivery = asyncio.ensure_future(deliver())
        await self.wait_first(delivery, self.suspend_flow.wait())
        if done == len(batch) or epoch != self._epoch:
            return
        # stopped mid-batch: what was not delivered is fetched again, in order
        first: dict[TP, int] = {}
        for tp, message in batch[done:]:
            if tp not in sought and tp not in first and self._acked_topic(tp):
                first[tp] = message.offset
        for tp, offset in first.items():
            nxt = self._next_offset.get(tp)
            await self._seek_back(tp, offset if nxt is None else nxt, "delivery stopped")

    async def _deliver_in_order(self, tp: TP, message: Message, callback: Any, epoch: int) -> bool:
        """Deliver `message` if it is the next of its partition (`epoch`: the rebalance count
        its batch was fetched in). False when the partition was sought back (the rest of its
        records in this batch are to be skipped)."""
        offset = message.offset
        nxt = self._next_offset.get(tp)
        if nxt is not None and offset < nxt:
            return True  # delivered already
        if nxt is not None and offset > nxt:
            sought = self._sought_back.get(tp)
            if sought is not None and sought[0] == nxt and sought[1] < self._fetches:
                # fetched after our seek back to `nxt` and still above it: the log has a
                # real gap there (deleted by retention, or transaction markers)
                log.info(
                    "%s[%d]: no records from offset %d to %d in the log",
                    tp.topic,
                    tp.partition,
                    nxt,
                    offset - 1,
                )
                await self._add_gap(tp, nxt, offset - 1)
            else:
                await self._seek_back(tp, nxt, f"offset {offset} arrived before {nxt}")
                return False
        await callback(message)
        if epoch != self._epoch:
            return True  # rebalanced meanwhile: the new assignment starts from its commits
        if self._next_offset.get(tp) != nxt:
            return False  # sought back meanwhile (events discarded): fetched again from there
        self._next_offset[tp] = offset + 1
        self._read_offset[tp] = offset
        self._sought_back.pop(tp, None)
        return True

    # -- committing: never past an offset that was not acknowledged

    def _new_offset(self, tp: TP) -> int | None:
        """faust's `_new_offset` (the offset to commit: the end of the run of acknowledged
        offsets), except that for a claim partition an offset just at the committed one
        that is not acknowledged holds the commit back. faust tests for a head gap with
        `min(acked) - committed > 1`, so a single missing offset there (committed 166,
        acknowledged 167, 168, ...) was committed past: seen on the real broker after a
        takeover, the claim at 166 never answered. When that offset was delivered and is
        no longer in flight (its event was lost between the consumer and the agent), the
        partition is fetched again from it."""
        if self._acked_topic(tp):
            acked = self._acked[tp]
            committed = self._committed_offset[tp]
            if acked and committed is not None:
                gap = self._gap[tp]
                first = min(min(acked), gap.begin()) if gap else min(acked)
                if first > committed:
                    self._head_missing(tp, committed)
                    return None
        return super()._new_offset(tp)

    def _head_missing(self, tp: TP, offset: int) -> None:
        nxt = self._next_offset.get(tp)
        if nxt is None or nxt <= offset or tp in self._refetch:
            return  # not delivered yet: it comes in order
        if any(m.tp == tp and m.offset == offset for m in self._unacked_messages):
            return  # in flight: its batch acknowledges it
        log.warning(
            "%s[%d]: offset %d was delivered but is neither acknowledged nor in flight",
            tp.topic,
            tp.partition,
            offset,
        )
        self._next_offset[tp] = offset
        self._sought_back.pop(tp, None)
        self._refetch[tp] = offset

    # -- events discarded from the agents' queues

    def _watch_flow_control(self) -> None:
        """faust's stream queues are cleared whenever its flow control resumes (mode's
        `FlowControlEvent.resume` calls `clear`), and `on_recovery_completed` resumes it
        *after* it resumed the claim partitions and sought them: events delivered in
        between are discarded, never acknowledged, and never fetched again — the commit of
        their partition stops at the first of them. (Seen in fault-test runs: every
        partition of an agent stuck at its committed offset after the restarted worker was
        ready, its later claims answered.) So before a clear, the partitions of the events
        in the queues are sought back to the first of them; and a delivery waiting for room
        in a full queue is woken (asyncio's Queue does not wake it when the queue is emptied
        from outside), or it would wait for ever."""
        if self._flow_control_watched:
            return
        self._flow_control_watched = True
        flow_control = self.app.flow_control
        clear = flow_control.clear

        def clear_and_refetch() -> None:
            for queue in list(flow_control._queues):
                self._discarded(list(getattr(queue, "_queue", ())))
            clear()
            for queue in list(flow_control._queues):
                putters = getattr(queue, "_putters", None)
                while putters:
                    putter = putters.popleft()
                    if not putter.done():
                        putter.set_result(None)

        flow_control.clear = clear_and_refetch  # type: ignore[method-assign]

    def _discarded(self, events: list[Any]) -> None:
        first: dict[TP, int] = {}
        for event in events:
            message = getattr(event, "message", None)
            tp = getattr(message, "tp", None)
            if message is None or tp is None or not self._acked_topic(tp):
                continue
            first[tp] = min(first.get(tp, message.offset), message.offset)
        for tp, offset in first.items():
            nxt = self._next_offset.get(tp)
            if nxt is not None and offset < nxt:
                self._next_offset[tp] = offset
                self._sought_back.pop(tp, None)
                self._refetch[tp] = offset

    async def _deliver_as_faust(self, tp: TP, message: Message, callback: Any) -> None:
        """faust's own handling, for partitions whose messages are not acknowledged (table
        changelogs, compacted: gaps in offsets are normal there)."""
        offset = message.offset
        r_offset = self._read_offset[tp]
        if r_offset is None or offset >= r_offset:
            await callback(message)
            self._read_offset[tp] = offset


def _fetch_position(fetcher: Any, tp: TP) -> int | None:
    """aiokafka's fetch position of `tp` (the next offset it fetches), None when it has
    none (awaiting a reset) or it cannot be read."""
    try:
        state = fetcher._subscription.subscription.assignment.state_value(tp)
    except AttributeError:
        return None
    if state is None or not state.has_valid_position:
        return None
    return int(state.position)


class OrderedTransport(faust_aiokafka.Transport):
    Consumer = OrderedConsumer


def ordered_consumer_transport(app: Any) -> Any:
    """The consumer transport of `app` with the OrderedConsumer (its producer transport is
    faust's own)."""
    return OrderedTransport(app.conf.broker_consumer, app)


__all__ = ["OrderedConsumer", "OrderedTransport", "ordered_consumer_transport"]

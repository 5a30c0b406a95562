"""A worker stopped mid-batch (faust cancels its agents) must not acknowledge the batch:
`take_batches` (as faust's `take_events`) acknowledges it in a `finally` on the way out,
which would let the consumer commit claims that were never answered."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import faust.events

import processor.stream.delivery
from processor.settings import load_settings
from processor.stream.delivery import Outbox, in_batches


class Message:
    def __init__(self, offset: int):
        self.offset = offset


class Consumer:
    def __init__(self) -> None:
        self._unacked_messages: set[Message] = set()
        self.acked: list[int] = []


class Event:
    def __init__(self, consumer: Consumer, offset: int):
        self.consumer = consumer
        self.message = Message(offset)
        consumer._unacked_messages.add(self.message)

    def ack(self) -> bool:  # what faust's Event.ack does, reduced: the consumer records it
        self.consumer._unacked_messages.discard(self.message)
        self.consumer.acked.append(self.message.offset)
        return True


class Stream:
    """A stream taken in batches (`take_batches`), reduced to its acknowledging: each batch
    is acknowledged in a `finally`, however the consumer of the generator leaves."""

    def __init__(self, batches: list[list[Event]], consumer: Consumer):
        self.batches = batches
        self.app = type("App", (), {"consumer": consumer})()

    async def ack(self, event: Any) -> bool:
        return event.ack()

    async def take_events(self, max_: int, within: float) -> Any:
        for batch in self.batches:
            try:
                yield list(batch)
            finally:
                for event in batch:
                    await self.ack(event)


def test_the_event_ack_that_is_replaced_is_faust_s_own() -> None:
    # `withhold` replaces the instance attribute `ack` on faust's events: they must allow it.
    assert "__slots__" not in vars(faust.events.Event)
    assert callable(faust.events.Event.ack)


async def _take_batches(stream: Stream, max_: int, within: float) -> Any:
    async for batch in stream.take_events(max_, within):
        yield batch


def test_a_batch_cancelled_mid_way_is_not_acknowledged_and_a_whole_one_is(monkeypatch) -> None:
    monkeypatch.setattr(processor.stream.delivery, "take_batches", _take_batches)
    consumer = Consumer()
    batches = [[Event(consumer, n) for n in range(3)], [Event(consumer, n) for n in range(3, 6)]]
    stream = Stream(batches, consumer)
    handled: list[int] = []
    second_started = asyncio.Event()

    async def handle(event: Event) -> None:
        handled.append(event.message.offset)
        if event.message.offset == 4:
            second_started.set()
            await asyncio.sleep(60)  # the worker is stopped while this claim is handled

    async def agent() -> None:
        outbox = Outbox(names={}, transmit=None)  # type: ignore[arg-type]
        async for _ in in_batches(stream, load_settings(), outbox, handle, lambda exc: None):
            pass

    async def run() -> None:
        task = asyncio.create_task(agent())
        await second_started.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert handled == [0, 1, 2, 3, 4]
    assert consumer.acked == [0, 1, 2]
    # Not in flight any more: stopping does not wait for them.
    assert consumer._unacked_messages == set()

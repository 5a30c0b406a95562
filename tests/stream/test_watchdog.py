"""The fetch watchdog: which partitions count as stalled, and the repair steps it takes on
a consumer whose fetch set lost a partition (faust's own Consumer bookkeeping)."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry

from processor.stream.watchdog import FetchWatchdog, StallWatch


def test_a_partition_is_stalled_only_with_a_backlog_and_no_progress_for_the_period() -> None:
    watch = StallWatch(after=30)
    assert watch.stalled({"a": (10, 20), "b": (5, 5), "c": (None, 3)}, now=0) == []
    # 29 s later: not yet; b has nothing waiting, c never committed and has claims waiting.
    assert watch.stalled({"a": (10, 20), "b": (5, 5), "c": (None, 3)}, now=29) == []
    assert watch.stalled({"a": (10, 25), "b": (5, 9), "c": (None, 3)}, now=30) == [
        ("a", 0),
        ("c", 0),
    ]
    # b got a backlog at 30 s; a moved at 31 s: both start a new period.
    assert watch.stalled({"a": (11, 25), "b": (5, 9), "c": (0, 3)}, now=31) == [("c", 0)]
    assert watch.stalled({"a": (11, 25), "b": (5, 9)}, now=61) == [("a", 0), ("b", 0)]


def test_each_repair_gives_the_partition_another_period_and_the_next_step() -> None:
    watch = StallWatch(after=10)
    watch.stalled({"a": (1, 5)}, now=0)
    assert watch.stalled({"a": (1, 5)}, now=10) == [("a", 0)]
    watch.repaired("a", now=10)
    assert watch.stalled({"a": (1, 5)}, now=15) == []
    assert watch.stalled({"a": (1, 5)}, now=20) == [("a", 1)]
    watch.repaired("a", now=20)
    # Progress forgets the repairs tried.
    assert watch.stalled({"a": (2, 5)}, now=31) == []
    assert watch.stalled({"a": (2, 5)}, now=41) == [("a", 0)]


class Consumer:
    """The part of faust's Consumer the watchdog uses, with its fetch-set bookkeeping."""

    def __init__(self, assigned: set[str], committed: dict[str, int], ends: dict[str, int]):
        self.assigned = assigned
        self._active_partitions = set(assigned)
        self._paused_partitions: set[str] = set()
        self._buffered_partitions: set[str] = set()
        self._committed_offset = committed
        self.ends = ends
        self.flow_active = True
        self.seeks: list[tuple[str, int]] = []

    def assignment(self) -> set[str]:
        return self.assigned

    def _is_changelog_tp(self, tp: Any) -> bool:
        return "changelog" in tp.topic

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        return {tp: self.ends[tp] for tp in tps}

    def resume_partitions(self, tps: Any) -> None:
        self._active_partitions.update(tps)
        self._paused_partitions.difference_update(tps)

    def on_buffer_drop(self, tp: Any) -> None:
        if tp in self._buffered_partitions:
            self._active_partitions.add(tp)
            self._buffered_partitions.discard(tp)

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset))


class TP(str):
    @property
    def topic(self) -> str:
        return self.rsplit("-", 1)[0]

    @property
    def partition(self) -> int:
        return int(self.rsplit("-", 1)[1])


class App:
    def __init__(self, consumer: Consumer):
        self.consumer = consumer
        self.rebalancing = False
        self.in_recovery = False


def test_a_stalled_partition_is_put_back_and_sought_to_its_committed_offset(caplog) -> None:
    moving, lost, changelog = (
        TP("claims.submitted-0"),
        TP("claims.submitted-1"),
        TP("t-changelog-1"),
    )
    consumer = Consumer(
        {moving, lost, changelog},
        committed={moving: 5, lost: 7, changelog: 0},
        ends={moving: 50, lost: 70, changelog: 9},
    )
    # What a lost back-pressure callback leaves: out of the fetch set, marked buffered.
    consumer._active_partitions.discard(lost)
    consumer._buffered_partitions.add(lost)
    consumer._active_partitions.discard(changelog)  # paused after recovery, by design
    registry = CollectorRegistry()
    now = [0.0]
    app = App(consumer)
    watchdog = FetchWatchdog(app, registry, after=30, ready=lambda: True, clock=lambda: now[0])

    def tick(seconds: float, progress: int = 0) -> None:
        now[0] += seconds
        consumer._committed_offset[moving] += progress
        asyncio.run(watchdog.check())

    tick(0)
    tick(29, progress=5)
    assert consumer.seeks == []
    tick(1, progress=5)
    assert lost in consumer._active_partitions and lost not in consumer._buffered_partitions
    assert moving in consumer._active_partitions and changelog not in consumer._active_partitions
    assert consumer.seeks == [(lost, 7)]
    assert "claims.submitted-1: claims waiting (committed 7, end 70)" in caplog.text
    assert "in fetch set no, paused no, under back-pressure yes" in caplog.text
    tick(30, progress=5)
    assert consumer.seeks == [(lost, 7), (lost, 7)]
    tick(30, progress=5)
    assert consumer.seeks == [(lost, 7), (lost, 7)]
    counts = {
        s.labels["action"]: s.value
        for m in registry.collect()
        for s in m.samples
        if s.name == "claims_consumer_stall_repairs_total"
    }
    assert counts == {"seek": 2, "unresolved": 1}


def test_nothing_is_checked_while_rebalancing_recovering_or_not_ready() -> None:
    tp = TP("claims.submitted-0")
    consumer = Consumer({tp}, committed={tp: 0}, ends={tp: 10})
    consumer._active_partitions.clear()
    app = App(consumer)
    now = [0.0]
    ready = [False]
    watchdog = FetchWatchdog(
        app, CollectorRegistry(), after=3, ready=lambda: ready[0], clock=lambda: now[0]
    )
    for state in ("not ready", "rebalancing", "in_recovery"):
        ready[0] = state != "not ready"
        app.rebalancing = state == "rebalancing"
        app.in_recovery = state == "in_recovery"
        for _ in range(3):
            now[0] += 10
            asyncio.run(watchdog.check())
        assert tp not in consumer._active_partitions, state

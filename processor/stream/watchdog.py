"""The fetch watchdog: a partition assigned to this worker, with claims waiting in it, that
makes no progress is put back into faust's fetch set and sought to its committed offset.

Why: after a rejoin (SIGKILL and restart) or a rebalance, a worker sometimes recovers its
table, resumes, and then one partition of a claim topic makes no progress: its committed
offset stays put while claims wait behind it, until the next restart. Observed on the real
broker (tests/integration/test_faults.py, about one run in five on the shared 2-core
machine), with faust's own state at the time: the partition is assigned, in faust's fetch
set (`Consumer._active_partitions`), not paused, not under stream back-pressure, the
consumer's flow is active, the other partitions of the same agent move, and no further
rebalance happened after the worker was ready (one generation). Putting the partition back
into faust's fetch set does nothing; seeking it to its committed offset brings it back
(processing resumed within 2 s of the seek). So what is stuck is below faust's bookkeeping:
the fetch state of that one partition (its position, or a fetched batch never handed out),
which a seek resets. The seek is a mitigation, not the fix: in those runs some claims were
still unanswered after it, and the stall's cause is not known. The same family as faust-streaming issues 21, 175, 523, 532 and
robinhood PR 542; the exact line was not found.

The watchdog checks what matters instead of faust's state: every `CLAIMS_STALL_SECONDS / 3`
it reads the end offsets of its claim partitions, and a partition whose end offset is past
its committed offset must see the committed offset move within CLAIMS_STALL_SECONDS. When
one does not, it logs faust's view of the partition (in the fetch set, paused, under
back-pressure, flow active), counts the repair in
`claims_consumer_stall_repairs_total{action}` and, once per period while the stall lasts:

1. and 2. `seek`: put the partition back into the fetch set and seek it to its committed
   offset, so the fetcher reads from there again (a claim already handled may be read
   again: delivery is at-least-once, and a redelivery carries the same event_id and
   findings);
3. `unresolved`: log an error each period (a restart of the worker is what is left).

Nothing is checked while the worker is rebalancing or recovering its table, nor before it
is ready (code sets loaded), when no partition is expected to move.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter

log = logging.getLogger("processor.worker")

ACTIONS = ("seek", "unresolved")
STEPS = ("seek", "seek", "unresolved")  # the action of each repair in turn, the last repeated


@dataclass
class StallWatch:
    """Which partitions have had a backlog (end offset past committed offset) and no
    progress (same committed offset) for `after` seconds. Pure: fed snapshots and a clock."""

    after: float
    _since: dict[Any, tuple[int, float]] = field(default_factory=dict)
    _repairs: dict[Any, int] = field(default_factory=dict)

    def stalled(
        self, snapshot: Mapping[Any, tuple[int | None, int | None]], now: float
    ) -> list[tuple[Any, int]]:
        """(partition, repairs already tried) for each stalled partition of `snapshot`
        (partition → (committed offset, end offset)); forgets partitions that moved, caught
        up or are no longer assigned."""
        since: dict[Any, tuple[int, float]] = {}
        stalled = []
        for tp, (committed, end) in snapshot.items():
            position = committed or 0
            if end is None or end <= position:
                continue
            previous = self._since.get(tp)
            if previous is None or previous[0] != position:  # moved (or new): a fresh start
                started = now
                self._repairs.pop(tp, None)
            else:
                started = previous[1]
            since[tp] = (position, started)
            if now - started >= self.after:
                stalled.append((tp, self._repairs.get(tp, 0)))
        self._since = since
        self._repairs = {tp: n for tp, n in self._repairs.items() if tp in since}
        return stalled

    def repaired(self, tp: Any, now: float) -> None:
        """A repair was tried: give the partition another period before the next step."""
        self._repairs[tp] = self._repairs.get(tp, 0) + 1
        position, _ = self._since[tp]
        self._since[tp] = (position, now)


class FetchWatchdog:
    """Checks the app's consumer every `after / 3` seconds (an app timer) and repairs."""

    def __init__(
        self,
        app: Any,
        registry: CollectorRegistry,
        after: float,
        ready: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.watch = StallWatch(after)
        self.ready = ready
        self.clock = clock
        self.repairs = Counter(
            "claims_consumer_stall_repairs",
            "assigned partitions with waiting claims and no progress, by repair tried",
            ["action"],
            registry=registry,
        )
        for action in ACTIONS:
            self.repairs.labels(action)

    def claim_partitions(self, consumer: Any) -> list[Any]:
        return [tp for tp in consumer.assignment() if not consumer._is_changelog_tp(tp)]

    def quiet(self) -> bool:
        """True while no partition is expected to move."""
        app = self.app
        return bool(
            app.consumer is None
            or getattr(app, "rebalancing", False)
            or getattr(app, "in_recovery", False)
            or not self.ready()
        )

    async def check(self) -> None:
        if self.quiet():
            return
        consumer = self.app.consumer
        tps = self.claim_partitions(consumer)
        if not tps:
            return
        ends = await consumer.highwaters(*tps)
        if self.quiet():  # a rebalance began meanwhile
            return
        committed = getattr(consumer, "_committed_offset", {})
        snapshot = {tp: (committed.get(tp), ends.get(tp)) for tp in tps}
        now = self.clock()
        stalled = self.watch.stalled(snapshot, now)
        log.debug("fetch watchdog: %d claim partitions, %d stalled", len(tps), len(stalled))
        for tp, tried in stalled:
            await self.repair(consumer, tp, tried, snapshot[tp])
            self.watch.repaired(tp, now)

    async def repair(
        self, consumer: Any, tp: Any, tried: int, offsets: tuple[int | None, int | None]
    ) -> None:
        action = STEPS[min(tried, len(STEPS) - 1)]
        state = describe(consumer, tp)
        level = logging.ERROR if action == "unresolved" else logging.WARNING
        log.log(
            level,
            "partition %s-%d: claims waiting (committed %s, end %s) and no progress for "
            "%.0fs; %s; repair: %s",
            tp.topic,
            tp.partition,
            offsets[0],
            offsets[1],
            self.watch.after * (tried + 1),
            state,
            action,
        )
        self.repairs.labels(action).inc()
        if action == "seek":
            consumer.resume_partitions([tp])
            consumer.on_buffer_drop(tp)
            await consumer.seek(tp, offsets[0] or 0)


def describe(consumer: Any, tp: Any) -> str:
    """faust's own view of the partition, for the log line."""

    def has(name: str) -> str:
        members: Iterable[Any] = getattr(consumer, name, None) or ()
        return "yes" if tp in members else "no"

    return (
        f"in fetch set {has('_active_partitions')}, paused {has('_paused_partitions')}, "
        f"under back-pressure {has('_buffered_partitions')}, "
        f"flow active {getattr(consumer, 'flow_active', '?')}"
    )

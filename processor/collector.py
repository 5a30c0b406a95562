"""The cyclic garbage collector, set once for a process that scrubs many claims: the
streaming worker (and the bench's relay) and the offline `scrub` command, one process or
`--jobs N`.

A claim's objects are freed by reference counting as soon as it is handled; the collector
only finds cycles, and a claim makes none. At Python's default thresholds (700, 10, 10) it
still ran a young collection about every ten claims, and objects that live a little longer
(a worker's batch until it is delivered, the `scrub` command's history) reached the old
generation often enough for full collections that walk them all again:

- in a worker, 50-60 us of CPU per claim (README "Performance");
- in `scrub`, 1,166 collections over 100,000 claims, about 1 s of the 9.5 s loop, and more
  per claim in each `--jobs` process after the fork (5.1-5.4 s of CPU for 50,000 claims
  against 4.4-4.5 s with the collector settled).

So what was built to start (modules, the app, the code sets) is frozen out of every
collection, and a young collection waits for 50,000 objects allocated and not freed."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Python's default: 700, 10, 10.
COLLECTOR_THRESHOLDS = (50_000, 20, 100)


def settle_collector() -> None:
    """Freeze what the process has built so far and raise the collector's thresholds. Call
    once everything long-lived is built (and before forking workers: they inherit it)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collections while the block builds long-lived objects that make no cycles to
    free (loading the code sets: some 700,000 objects unpickled). Each collection during
    it walked everything loaded so far: loading the store with the MCE tables took 1.79 s
    with the collector running (2,179 young and 11 full collections) and 0.55 s without."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""The retention sweep on the real broker: a worker removes the history of patients with
no date of service within the retention, and the history table's changelog gets a
tombstone for each (so compaction drops them and no recovery brings them back)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from processor.devtools.local_stack import collect
from tests.integration.test_faults import _specs, outputs, send, unique_claims

pytestmark = pytest.mark.kafka


def test_idle_patients_are_removed_with_a_tombstone_in_the_changelog(
    kafka, topic_prefix, worker_factory
):
    specs = _specs(kafka, topic_prefix)
    messages = unique_claims(3)  # three patients, dates of service long past
    worker = worker_factory(
        CLAIMS_HISTORY_RETENTION_DAYS="1",
        CLAIMS_HISTORY_SWEEP_HOURS="0.003",  # every 11 s
    )
    send(kafka, specs["submitted"].name, messages)
    outputs(kafka, specs, len(messages), timeout=120)
    removed, deadline = 0, time.monotonic() + 120
    while removed < len(messages) and time.monotonic() < deadline:
        time.sleep(1)
        log = worker.log_path.read_text(errors="replace")
        removed = sum(int(n) for n in re.findall(r"history sweep: (\d+) idle patients", log))
    assert removed == len(messages), worker.log_tail()
    changelog = f"{worker.settings['CLAIMS_APP_ID']}-patient-history-changelog"
    records = asyncio.run(collect(kafka, [changelog], 2 * len(messages), timeout=30)).records
    last: dict[bytes | None, bytes | None] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        last[record.key] = record.value
    print(f"\nretention sweep: {removed} idle patients removed, {len(records)} changelog records")
    assert len(last) == len(messages) and all(value is None for value in last.values()), last

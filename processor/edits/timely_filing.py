"""Timely filing (edits.md, "History")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from processor.edits.base import ClaimContext, Hit, edit


@edit(
    "TIMELY-FILING",
    name="Timely filing limit",
    stage="history",
    category="timely_filing",
    level="line",
    disposition="deny",
    group_code="CO",
    carc="29",
    appealable=True,
    message="Line {line}: received {received}, {days} days after the date of service {dos}; the "
    "payer's limit is {limit} days",
    fix="Appeal with proof of timely filing (an earlier accepted submission or a payer error), "
    "else write off line {line}",
    parameters={"limit_days": 365},
)
def check_timely_filing(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    received = ctx.received_on
    limit = int(params["limit_days"])
    for line in ctx.lines:
        # Measured from the service's last day (the to-date when given).
        last = line.service_date_end or line.service_date
        days = (received - last).days
        if days > limit:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "received": received,
                    "days": days,
                    "dos": last,
                    "limit": limit,
                },
                {"received_on": str(received), "days": days, "limit_days": limit},
            )
